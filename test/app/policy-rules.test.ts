/**
 * Issue 14 through the App: conditions, named approval rules, disapproval and review-request modes, with GitHub's
 * real webhook payloads (@octokit/webhooks-examples) and every request answered by nock and counted.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TelemetryStore } from "../../src/services/telemetry-types.js";
import { DatabaseTelemetryStore } from "../../src/store/telemetry-store.js";
import { HEAD_SHA, OWNER, PR_NUMBER, REPO, nockAddLabels, nockRemoveLabel, nockRequestReviewers, nockTeamMembers, requests, reviewEvent } from "../helpers/github.js";
import { POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

function expectRequests(total: number, counted = total): void {
  expect({ total: requests.total, counted: requests.counted, requests: requests.describe() }).toEqual({ total, counted, requests: requests.describe() });
}

const CONDITIONED = `${POLICY_YML.replace("risk:\n  rules:\n", `risk:
  rules:
    - id: release-hotfix
      level: medium
      reason: a hotfix straight into a release branch
      when: { targets: ["release/**"], title: ["*hotfix*"] }
`)}`;

describe("conditions on risk rules (App)", () => {
  it("a rule for release branches and hotfix titles fires on such a PR, with no extra request", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, { baseRef: "release/2.0" });
    event.payload.pull_request.title = "Hotfix: docs link";
    const check = nockEvaluation(event, { files: DOCS, policy: CONDITIONED });
    const labels = nockAddLabels([], { addedColor: "fbca04" });
    await probot.receive({ id: "d-cond-1", ...event });
    expect(check.body.name).toBe("Agent Gate: approval (release/2.0)");
    expect(check.body.output.summary).toContain("release-hotfix");
    expect(labels.captured.body).toEqual({ labels: ["agent-risk:medium"] });
    // The same 9 requests as any opened docs PR: conditions read nothing more.
    expectRequests(7);
  });

  it("the same PR into master is low risk", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    event.payload.pull_request.title = "Hotfix: docs link";
    const check = nockEvaluation(event, { files: DOCS, policy: CONDITIONED });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-cond-2", ...event });
    expect(check.body.conclusion).toBe("success");
    expect(check.body.output.summary).not.toContain("release-hotfix");
    expectRequests(7);
  });
});

/** The test repository's policy plus a named rule for docs and a disapproval group. */
const RULES = `${POLICY_YML}  rules:
    - name: docs-review
      if: { paths: ["docs/**"] }
      requires: { count: 1, from: { teams: [Codertocat/docs] } }
  disapproval:
    from: { users: [vetoer] }
`;

describe("a stale decision cannot outlive a title or label a condition reads", () => {
  it("pull_request.edited with a new title re-evaluates when a rule has a title condition", async () => {
    const { probot } = await createApp();
    const edited = agentPullRequest(DOCS, { action: "edited", baseRef: "release/2.0", labels: ["agent-risk:low"] });
    edited.payload.changes = { title: { from: "Docs link" } };
    edited.payload.pull_request.title = "Hotfix: docs link";
    const check = nockEvaluation(edited, { files: DOCS, policy: CONDITIONED });
    nockAddLabels([], { addedColor: "fbca04" });
    nockRemoveLabel("agent-risk:low");
    await probot.receive({ id: "d-title-edit", ...edited });
    expect(check.body.output.summary).toContain("release-hotfix");
  });

  it("labeled with a label a rule's condition names (not an agent label) re-evaluates", async () => {
    const policy = `${POLICY_YML}  rules:
    - name: needs-dba
      if: { labels: [db-change] }
      requires: { from: { users: [dba-dan] } }
`;
    const { probot } = await createApp();
    const labeled = agentPullRequest(DOCS, { action: "labeled", labels: ["agent-risk:low", "db-change"] });
    labeled.payload.label = { name: "db-change", color: "ededed" };
    const check = nockEvaluation(labeled, { files: DOCS, policy });
    nockRequestReviewers();
    await probot.receive({ id: "d-label-cond", ...labeled });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.title).toBe("Low risk: waiting on @dba-dan");
  });
});

describe("named approval rules and disapproval (App)", () => {
  it("a rule on a low-risk docs PR waits for its team and asks it once, in the same 8 requests as a code-owner wait", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    const check = nockEvaluation(event, { files: DOCS, policy: RULES });
    nockAddLabels([], { addedColor: "0e8a16" });
    const asked = nockRequestReviewers();
    await probot.receive({ id: "d-rule-1", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.title).toBe("Low risk: waiting on @Codertocat/docs");
    expect(check.body.output.summary).toContain("approval rule <code>docs-review</code>");
    expect(asked.captured.body).toEqual({ reviewers: [], team_reviewers: ["docs"] });
    expectRequests(8);
  });

  it("the team member's approval passes it: the team is read because the rule needs it", async () => {
    const { probot } = await createApp();
    const event = reviewEvent({ reviewer: "doc-dan", changedFiles: 1, labels: ["agent-risk:low"], requestedTeams: [] });
    const check = nockEvaluation(event, { files: DOCS, policy: RULES, reviews: [{ reviewer: "doc-dan" }] });
    nockTeamMembers("docs", ["doc-dan"]);
    // An approval that could count: the PR's commits are needed (did doc-dan push to it? invariant 4); they came
    // with the file modes (GraphQL), so no REST request.
    await probot.receive({ id: "d-rule-2", ...event });
    expect(check.body.conclusion).toBe("success");
    expect(check.body.output.title).toBe("Low risk: approved by @doc-dan");
    expectRequests(8);
  });

  it("disapproval: the group member's changes requested blocks it even with the rule approved, and asks nobody", async () => {
    const { probot } = await createApp();
    const event = reviewEvent({ reviewer: "vetoer", state: "changes_requested", changedFiles: 1, labels: ["agent-risk:low"], requestedTeams: [] });
    const check = nockEvaluation(event, {
      files: DOCS,
      policy: RULES,
      reviews: [
        { reviewer: "doc-dan" },
        { reviewer: "vetoer", state: "CHANGES_REQUESTED" },
      ],
    });
    nockTeamMembers("docs", ["doc-dan"]);
    // The PR's commits came with the file modes (GraphQL): no REST commits request (issue 12).
    await probot.receive({ id: "d-veto", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.title).toBe("Low risk: changes requested by @vetoer");
    expect(check.body.output.summary).toContain("disapproval <code>disapproval</code>");
    // No review request: the blocker already reviewed, and a disapproval asks nobody. doc-dan's approval could
    // count, so the PR's commits are read.
    expectRequests(8);
  });
});

/** A human-looking PR (scope: all) whose head has accepted telemetry is an agent PR for `agent:` conditions. */
const AGENT_RULE = `scope: all
risk:
  extends: none
approvals:
  rules:
    - name: agent-work
      if: { agent: true }
      requires: { from: { users: [lee, max, ned] } }
      requests: one
`;

function acceptedTelemetry(store: TelemetryStore): Promise<unknown> {
  return store.record({
    repository: `${OWNER}/${REPO}`,
    pullRequest: PR_NUMBER,
    headSha: HEAD_SHA,
    workflowRunId: 77,
    workflowPath: ".github/workflows/agent.yml",
    artifactId: 1,
    format: "native",
    accepted: true,
    reasons: [],
    agent: "codex",
    model: null,
    counts: {},
    trace: null,
    discrepancies: [],
    audit: [],
    deliveryId: undefined,
  });
}

describe("agent: condition and requests: one (App)", () => {
  const human = { author: "octocat", authorType: "User" as const, headRef: "feature/docs" };

  it("without accepted telemetry a human PR is not an agent's: the rule does not apply (7 requests, as ever)", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, human);
    const check = nockEvaluation(event, { files: DOCS, policy: AGENT_RULE });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-agent-1", ...event });
    expect(check.body.conclusion).toBe("success");
    expectRequests(7);
  });

  it("with telemetry accepted for its head the rule applies, and exactly one of its users is asked, the same on a re-run", async () => {
    const { probot, store } = await createApp();
    await acceptedTelemetry(new DatabaseTelemetryStore(store.store));
    const event = agentPullRequest(DOCS, human);
    const check = nockEvaluation(event, { files: DOCS, policy: AGENT_RULE });
    nockAddLabels([], { addedColor: "0e8a16" });
    const asked = nockRequestReviewers();
    await probot.receive({ id: "d-agent-2", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.summary).toContain("approval rule <code>agent-work</code>");
    const body = asked.captured.body;
    expect(body?.team_reviewers).toEqual([]);
    expect(body?.reviewers).toHaveLength(1);
    expect(["lee", "max", "ned"]).toContain(body?.reviewers[0]);
    expectRequests(8);

    // A fresh App (no memory of asking) picks the same person: the choice is a hash of the PR and the rule.
    requests.reset();
    const again = await createApp();
    // The fresh App's database is emptied too; the telemetry it knows of is recorded again.
    await acceptedTelemetry(new DatabaseTelemetryStore(again.store.store));
    nockEvaluation(event, { files: DOCS, policy: AGENT_RULE, rulesetRequires: [{ context: "Agent Gate: approval (master)" }] });
    nockAddLabels([], { addedColor: "0e8a16" });
    const second = nockRequestReviewers();
    await again.probot.receive({ id: "d-agent-3", ...event });
    expect(second.captured.body?.reviewers).toEqual(body?.reviewers);
  });
});
