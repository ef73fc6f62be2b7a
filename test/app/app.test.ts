/**
 * The App end to end: real webhook payloads in, every GitHub request answered by nock, the request count of
 * each scenario pinned as a regression guard (DESIGN.md "the cost floor").
 */
import nock from "nock";
import { Probot } from "probot";
import { createAgentGate } from "../../src/app/index.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  APP_ID,
  BASE_SHA,
  HEAD_SHA,
  TestOctokit,
  captureLog,
  testPrivateKey,
  NEW_HEAD_SHA,
  OWNER,
  PR_NUMBER,
  REPO,
  api,
  nockAddLabels,
  nockBranchProtection,
  nockCodeowners,
  nockCodeownersErrors,
  nockCreateCheckRun,
  nockFile,
  nockFileModes,
  nockGetPull,
  nockListFiles,
  nockOrgPolicyFile,
  nockPullCommits,
  nockPolicyFile,
  nockRemoveLabel,
  nockRequestReviewers,
  nockReviews,
  nockRulesetChecks,
  nockTeamMembers,
  nockUpdateLabel,
  fixture,
  requests,
  reviewEvent,
} from "../helpers/github.js";
import { DatabaseTelemetryStore } from "../../src/store/telemetry-store.js";
import { freshGateStore } from "../helpers/gate-store.js";
import { CODEOWNERS, POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];
const MIGRATION = [{ filename: "db/migrations/0042_add_accounts.sql", status: "added", patch: "@@ -0,0 +1 @@\n+CREATE TABLE accounts (id int);" }];

beforeEach(() => requests.reset());
afterEach(() => {
  // Clean before asserting: a failed expectation must not leak interceptors into the next test.
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/**
 * `GET pulls/{n}/reviews` with an ETag. `ifNoneMatch` makes the interceptor require the ETag the App should send;
 * `reviews: null` answers 304 (the list did not change).
 */
function nockReviewsConditional(reviews: Array<{ reviewer: string; state?: string }> | null, options: { etag: string; ifNoneMatch?: string }): void {
  const interceptor = api().get(`/repos/${OWNER}/${REPO}/pulls/${PR_NUMBER}/reviews`).query({ per_page: "100" });
  const conditioned = options.ifNoneMatch ? interceptor.matchHeader("if-none-match", options.ifNoneMatch) : interceptor;
  if (reviews === null) {
    conditioned.reply(304, "");
    return;
  }
  const body = reviews.map((r, i) => ({
    id: 500 + i,
    user: { login: r.reviewer, id: 9000 + i, type: "User" },
    state: r.state ?? "APPROVED",
    commit_id: HEAD_SHA,
    submitted_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  }));
  conditioned.reply(200, body, { etag: options.etag });
}

/** `GET /orgs/{org}/teams/{team}/members` with an ETag; `members: null` answers 304. */
function nockTeamMembersConditional(team: string, members: string[] | null, options: { etag: string; ifNoneMatch?: string; notModified?: boolean }): void {
  const interceptor = api().get(`/orgs/${OWNER}/teams/${team}/members`).query({ per_page: "100" });
  if (options.notModified || members === null) {
    interceptor.matchHeader("if-none-match", options.etag).reply(304, "");
    return;
  }
  const conditioned = options.ifNoneMatch ? interceptor.matchHeader("if-none-match", options.ifNoneMatch) : interceptor;
  conditioned.reply(
    200,
    members.map((login, i) => ({ login, id: 100 + i, type: "User" })),
    { etag: options.etag },
  );
}

/** Pins the cost of a scenario; prints the requests when it changes. */
function expectRequests(total: number, counted = total): void {
  expect({ total: requests.total, counted: requests.counted, requests: requests.describe() }).toEqual({ total, counted, requests: requests.describe() });
}

describe("pull_request events", () => {
  it("a docs-only agent PR is low risk and passes (7 requests cold: 6 REST, 1 GraphQL for file modes)", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    const check = nockEvaluation(event, { files: DOCS });
    const labels = nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-docs", ...event });

    expect(check.body).toMatchObject({ name: "Agent Gate: approval (master)", head_sha: HEAD_SHA, status: "completed", conclusion: "success" });
    expect(check.body.output.title).toMatch(/^Low risk/);
    // Enforced by a ruleset pinned to this App: no warning.
    expect(check.body.output.summary).not.toMatch(/Not enforced/);
    expect(labels.captured.body).toEqual({ labels: ["agent-risk:low"] });
    // policy, CODEOWNERS, files, file modes, rulesets, check run, label (no PR re-read, and no reviews on a PR's
    // first evaluation of its opening: issue 12)
    expectRequests(7);
  });

  it("creates a missing risk label with its colour: GitHub's grey on-the-fly label is recoloured once", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    nockEvaluation(event, { files: DOCS });
    nockAddLabels([], { addedColor: "ededed" });
    const update = nockUpdateLabel("agent-risk:low");
    await probot.receive({ id: "d-label", ...event });
    expect(update.captured.body).toMatchObject({ color: "0e8a16" });
    expectRequests(8);
  });

  it("with warm ETags a push costs 4 counted requests (one the GraphQL file-modes query): policy and CODEOWNERS at the same base commit are not asked again, the reviews the opened PR did not read are read", async () => {
    const { probot } = await createApp();
    const opened = agentPullRequest(DOCS);
    nockPolicyFile(POLICY_YML, { etag: '"policy-v1"' });
    nockCodeowners(CODEOWNERS, { etag: '"codeowners-v1"' });
    nockListFiles(DOCS);
    nockFileModes();
    // A PR just opened has no reviews: its first evaluation does not ask (issue 12).
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);
    nockCreateCheckRun();
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-warm-1", ...opened });
    expectRequests(7);

    requests.reset();
    const pushed = agentPullRequest(DOCS, { action: "synchronize", headSha: NEW_HEAD_SHA, labels: ["agent-risk:low"] });
    // The policy and CODEOWNERS were read at this base commit: a commit's files never change, so not even a 304.
    // A new head: its files are listed and their modes read again (the memos are per head and base commit).
    nockListFiles(DOCS);
    nockFileModes();
    // Not an opened PR's first evaluation: the reviews are read (with no ETag yet, so in full).
    nockReviewsConditional([], { etag: '"reviews-v0"' });
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-warm-2", ...pushed });
    expect(check.body).toMatchObject({ head_sha: NEW_HEAD_SHA, conclusion: "success" });
    // The rulesets answer is remembered for 10 minutes and the label is already on the PR.
    expectRequests(4, 4);

    // Another push: now the unchanged reviews answer 304.
    requests.reset();
    const again = agentPullRequest(DOCS, { action: "synchronize", headSha: "2".repeat(40), labels: ["agent-risk:low"] });
    nockListFiles(DOCS);
    nockFileModes();
    nockReviewsConditional(null, { etag: '"reviews-v0"', ifNoneMatch: '"reviews-v0"' });
    const third = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-warm-3", ...again });
    expect(third.body).toMatchObject({ head_sha: "2".repeat(40), conclusion: "success" });
    expectRequests(4, 3);
  });

  it("a PR adding a migration is high risk, action_required, and asks the owning team once", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(MIGRATION);
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION });
    nockAddLabels([], { addedColor: "d93f0b" });
    const review = nockRequestReviewers();
    await probot.receive({ id: "d-mig", ...event });

    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.title).toMatch(/^High risk: waiting on @Codertocat\/db-team/);
    expect(check.body.output.summary).toContain("db/migrations/0042\\_add\\_accounts.sql");
    expect(review.captured.body).toEqual({ reviewers: [], team_reviewers: ["db-team"] });
    expectRequests(9);

    // The same PR again (e.g. reopened): the team was asked already, so no second request.
    requests.reset();
    const again = agentPullRequest(MIGRATION, { action: "reopened", labels: ["agent-risk:high"] });
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    nockReviews([]);
    // GitHub's CODEOWNERS validation at the base, read whenever a requirement has code owners (no ETag given here).
    nockCodeownersErrors(BASE_SHA, []);
    const second = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-mig-2", ...again });
    expect(second.body.conclusion).toBe("action_required");
    // The branch's rulesets are remembered, and so are the files of this head and base (no files request).
    expectRequests(5);
  });

  it("invariant 1 (base-branch policy): a PR that edits CODEOWNERS to drop its owner is judged by the base CODEOWNERS, critical", async () => {
    const { probot } = await createApp();
    const files = [{ filename: ".github/CODEOWNERS", patch: "@@ -5,1 +5,0 @@\n-/.github/             @Codertocat/security" }];
    const event = agentPullRequest(files);
    const check = nockEvaluation(event, { codeownersErrors: [], files });
    // The proposed version is read from the head only to validate it; the decision never uses it.
    nockCodeowners("*  @Codertocat/maintainers\n[bad line\n", { ref: HEAD_SHA });
    nockCodeownersErrors(HEAD_SHA, [{ line: 2, message: "Invalid pattern" }]);
    nockAddLabels([], { addedColor: "b60205" });
    const review = nockRequestReviewers();
    await probot.receive({ id: "d-inv1", ...event });

    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.title).toMatch(/^Critical risk: waiting on @Codertocat\/security/);
    const summary: string = check.body.output.summary;
    expect(summary).toContain("gate-control");
    expect(summary).toContain("This pull request changes `.github/CODEOWNERS`");
    expect(summary).toContain("GitHub's own CODEOWNERS check of the proposed file reports");
    expect(summary).toContain(".github/CODEOWNERS:2: Unknown owner: Invalid pattern");
    expect(review.captured.body).toEqual({ reviewers: [], team_reviewers: ["security"] });
    expectRequests(11);
  });

  it("invariant 1 (base-branch policy): a PR that breaks the policy file is judged by the base policy and told what is wrong", async () => {
    const { probot } = await createApp();
    const files = [{ filename: ".github/agent-gate.yml", patch: "@@ -1 +1 @@\n-scope: agents\n+scope: everyone" }];
    const event = agentPullRequest(files);
    const check = nockEvaluation(event, { codeownersErrors: [], files });
    nockPolicyFile("agents:\n  labels: [agent]\nscope: everyone\n", { ref: HEAD_SHA });
    nockAddLabels([], { addedColor: "b60205" });
    nockRequestReviewers();
    await probot.receive({ id: "d-inv1b", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.summary).toContain("the proposed policy is **invalid**");
    expect(check.body.output.summary).toContain(".github/agent-gate.yml:3: scope:");
    expectRequests(10);
  });

  it("invariant 2 (both paths): a sensitive file renamed out of its protected folder still needs its owner", async () => {
    const { probot } = await createApp();
    const files = [{ filename: "lib/charge.ts", previous_filename: "services/payments/charge.ts", status: "renamed", additions: 0, deletions: 0, patch: null }];
    const event = agentPullRequest(files);
    const check = nockEvaluation(event, { codeownersErrors: [], files });
    nockAddLabels([], { addedColor: "d93f0b" });
    const review = nockRequestReviewers();
    await probot.receive({ id: "d-inv2", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.title).toContain("@Codertocat/payments");
    expect(review.captured.body?.team_reviewers).toContain("payments");
    expectRequests(9);
  });

  it("invariant 2 / 5: a PR of 3,000 files fails without reading 30 pages", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest([], { changedFiles: 3_000 });
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);
    const check = nockCreateCheckRun().captured;
    nockAddLabels([], { addedColor: "b60205" });
    await probot.receive({ id: "d-3000", ...event });
    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.title).toMatch(/cannot be fully evaluated/);
    expectRequests(5);
  });

  it("invariant 5 (fail closed): an invalid policy fails the check, naming file and line", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    nockPolicyFile("agents:\n  labels: [agent]\napprovals:\n  count: { high: zero }\n");
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-invalid", ...event });
    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.title).toMatch(/^Invalid policy: \.github\/agent-gate\.yml:4: approvals\.count\.high/);
    expect(check.body.output.summary).toContain("The policy file is invalid");
    // No labels and no review requests on a policy we cannot read.
    expect(requests.writes.map((w) => w.path)).toEqual([`/repos/${OWNER}/${REPO}/check-runs`]);
    expectRequests(3);
  });

  it("invariant 5 (fail closed): a GitHub 500 during evaluation never gives success; the delivery is logged and fails", async () => {
    const { probot, lines } = await createApp();
    const event = agentPullRequest(DOCS);
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    api().get(`/repos/${OWNER}/${REPO}/pulls/${PR_NUMBER}/files`).query({ per_page: "100" }).reply(500, { message: "Server Error" }, { "x-github-request-id": "F00D:1" });
    const check = nockCreateCheckRun().captured;
    await expect(probot.receive({ id: "d-500", ...event })).rejects.toThrow(/500/);
    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.title).toBe("Could not evaluate: GitHub answered 500");
    expect(check.body.output.summary).toContain("F00D:1");
    expect(check.body.output.summary).toContain("d-500");
    const logged = lines.find((l) => l.msg === "evaluation failed");
    expect(logged).toMatchObject({ deliveryId: "d-500", err: { status: 500, requestId: "F00D:1" } });
    expectRequests(4);
  });

  it("a non-agent PR is skipped with a logged reason and no writes (1 request)", async () => {
    const { probot, lines } = await createApp();
    const event = agentPullRequest(DOCS, { author: "octo-human", authorType: "User", headRef: "feature/typo" });
    nockPolicyFile(POLICY_YML);
    await probot.receive({ id: "d-human", ...event });
    expect(requests.writes).toEqual([]);
    expect(lines.some((l) => /skipped: not in scope: not an agent pull request/.test(l.msg))).toBe(true);
    expectRequests(1);
  });

  it("scope: all evaluates a human PR too", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, { author: "octo-human", authorType: "User", headRef: "feature/typo" });
    const check = nockEvaluation(event, { files: DOCS, policy: `${POLICY_YML}\n`.replace("scope: agents", "scope: all") });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-all", ...event });
    expect(check.body.conclusion).toBe("success");
    expectRequests(7);
  });

  it("invariant 10: the check name carries the base branch, and an unenforced branch is reported plainly", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, { baseRef: "release" });
    const check = nockEvaluation(event, { files: DOCS, rulesetRequires: [] });
    nockBranchProtection("release", null);
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-inv10", ...event });
    expect(check.body.name).toBe("Agent Gate: approval (release)");
    expect(check.body.output.summary).toContain("**Not enforced.** The branch `release` does not require `Agent Gate: approval (release)`");
    expect(check.body.output.summary).toContain("The gate is not enforced until an admin requires this check from the Agent Gate App");
    expectRequests(8);
  });

  it("invariant 10: a required check that any workflow could report is called out", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    const check = nockEvaluation(event, { files: DOCS, rulesetRequires: [] });
    nockBranchProtection("master", [{ context: "Agent Gate: approval (master)", appId: null }]);
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-inv10b", ...event });
    expect(check.body.output.summary).toContain("accepts it from any source");
    expectRequests(8);
  });

  it("removes a stale risk label and touches no other label", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, { action: "synchronize", labels: ["bug", "agent-risk:high"] });
    nockEvaluation(event, { files: DOCS });
    const added = nockAddLabels(["bug", "agent-risk:high"], { addedColor: "0e8a16" });
    nockRemoveLabel("agent-risk:high");
    await probot.receive({ id: "d-stale", ...event });
    expect(added.captured.body).toEqual({ labels: ["agent-risk:low"] });
    expect(requests.writes.map((w) => `${w.method} ${decodeURIComponent(w.path)}`)).toEqual([
      `POST /repos/${OWNER}/${REPO}/check-runs`,
      `POST /repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/labels`,
      `DELETE /repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/labels/agent-risk:high`,
    ]);
    expectRequests(9);
  });

  it("falls back to the organisation's .github policy when the repository has none", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, { author: "octo-human", authorType: "User", headRef: "feature/x" });
    const check = nockEvaluation(event, { files: DOCS, policy: null });
    nockOrgPolicyFile("scope: all\n");
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-org", ...event });
    // The human PR is in scope only because the organisation's policy says scope: all.
    expect(check.body.conclusion).toBe("success");
    expect(check.body.output.summary).toContain(`${OWNER}/.github:.github/agent-gate.yml`);
    expectRequests(8);
  });

  it("without any policy file the recommended preset applies", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(MIGRATION, { author: "github-actions[bot]", headRef: "codex/fix" });
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION, policy: null });
    nockOrgPolicyFile(null);
    nockAddLabels([], { addedColor: "d93f0b" });
    nockRequestReviewers();
    await probot.receive({ id: "d-preset", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.summary).toContain("recommended preset");
    expectRequests(10);
  });

  it("a repository without any policy file pays its two 404s once, not on every event", async () => {
    const { probot } = await createApp();
    const opened = agentPullRequest(DOCS, { author: "github-actions[bot]", headRef: "codex/docs" });
    nockEvaluation(opened, { files: DOCS, policy: null, etags: true });
    nockOrgPolicyFile(null);
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-nopolicy-1", ...opened });
    expectRequests(8);

    // A push on the same base commit: the policy is known to be absent there (a commit never changes), and the
    // organisation's default was missing moments ago (remembered for 5 minutes), and the CODEOWNERS read at that
    // commit is still what it holds: none of the three is asked again.
    requests.reset();
    const pushed = agentPullRequest(DOCS, { action: "synchronize", author: "github-actions[bot]", headRef: "codex/docs", headSha: NEW_HEAD_SHA, labels: ["agent-risk:low"] });
    nockListFiles(DOCS);
    nockFileModes();
    nockReviews([]);
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-nopolicy-2", ...pushed });
    expect(check.body).toMatchObject({ head_sha: NEW_HEAD_SHA, conclusion: "success" });
    expect(JSON.stringify(requests.describe())).not.toMatch(/agent-gate\.yml/);
    expectRequests(4, 4);
  });

  it("pull_request.edited re-evaluates when the base branch changed; a title edit only costs the policy read", async () => {
    const { probot, lines } = await createApp();
    const bodyOnly = agentPullRequest(DOCS, { action: "edited" });
    bodyOnly.payload.changes = { body: { from: "old" } };
    await probot.receive({ id: "d-edit-0", ...bodyOnly });
    expect(requests.total).toBe(0);
    expect(lines.some((l) => /neither the base branch nor the title changed/.test(l.msg))).toBe(true);

    // A title may make a rule apply (`title:` conditions): the policy says whether it matters; this one has none.
    const titleOnly = agentPullRequest(DOCS, { action: "edited" });
    titleOnly.payload.changes = { title: { from: "old" } };
    nockPolicyFile(POLICY_YML);
    await probot.receive({ id: "d-edit-1", ...titleOnly });
    expect(requests.total).toBe(1);
    expect(lines.some((l) => /no rule has a title condition/.test(l.msg))).toBe(true);
    requests.reset();

    const rebased = agentPullRequest(DOCS, { action: "edited", baseRef: "develop" });
    rebased.payload.changes = { base: { ref: { from: "master" }, sha: { from: "0".repeat(40) } } };
    const check = nockEvaluation(rebased, { files: DOCS, baseRef: "develop" });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-edit-2", ...rebased });
    expect(check.body.name).toBe("Agent Gate: approval (develop)");
    expectRequests(8);
  });

  it("labeled: our own risk labels never re-trigger; a non-agent label is skipped after reading the policy", async () => {
    const { probot } = await createApp({ botLogin: "agent-gate[bot]" });
    const ours = agentPullRequest(DOCS, { action: "labeled" });
    ours.payload.label = { name: "agent-risk:low", color: "0e8a16" };
    ours.payload.sender = { ...ours.payload.sender, login: "agent-gate[bot]", type: "Bot" };
    await probot.receive({ id: "d-lab-1", ...ours });
    expect(requests.total).toBe(0);

    const other = agentPullRequest(DOCS, { action: "labeled", labels: ["bug"] });
    other.payload.label = { name: "bug", color: "d73a4a" };
    nockPolicyFile(POLICY_YML);
    await probot.receive({ id: "d-lab-2", ...other });
    expect(requests.writes).toEqual([]);
    expectRequests(1);
  });

  it("labeled with the agent label brings a human-branch PR into the gate", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, { action: "labeled", author: "octo-human", authorType: "User", headRef: "feature/x", labels: ["agent"] });
    event.payload.label = { name: "agent", color: "ededed" };
    const check = nockEvaluation(event, { files: DOCS });
    nockAddLabels(["agent"], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-lab-3", ...event });
    expect(check.body.conclusion).toBe("success");
    expectRequests(8);
  });

  it("invariant 9 (idempotent): a redelivered webhook changes nothing twice", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    nockEvaluation(event, { files: DOCS });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-same", ...event });
    requests.reset();
    await probot.receive({ id: "d-same", ...event });
    expect(requests.total).toBe(0);
  });

  it("invariant 9 (idempotent): a late event for a head older than one already published publishes nothing, without re-reading the PR", async () => {
    const { probot, lines } = await createApp();
    const pushed = agentPullRequest(DOCS, { action: "synchronize", headSha: NEW_HEAD_SHA });
    const check = nockEvaluation(pushed, { files: DOCS });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-newer-head", ...pushed });
    expect(check.body).toMatchObject({ head_sha: NEW_HEAD_SHA });

    // The opened event (older head, older updated_at) is handled late, e.g. a job retried after the push's.
    requests.reset();
    const late = agentPullRequest(DOCS);
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    nockListFiles(DOCS);
    nockFileModes();
    nockReviews([]);
    await probot.receive({ id: "d-older-head", ...late });
    // Only the store's memory of the newer head stops it: GitHub is not asked where the head is now.
    expect(requests.writes).toEqual([]);
    expect(lines.some((l) => l.msg === "not publishing a stale decision")).toBe(true);
    expectRequests(5);
  });

  it("invariant 9: a newer head's event sent before our label was set still removes that label (the last decision's, not the payload's)", async () => {
    const { probot } = await createApp();
    const opened = agentPullRequest(DOCS);
    nockEvaluation(opened, { files: DOCS });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-label-low", ...opened });

    // The push's payload was built before the low label landed: it shows no risk label at all.
    requests.reset();
    const payments = [{ filename: "services/payments/charge.ts", patch: "@@ -1 +1 @@\n-a\n+b" }];
    const pushed = agentPullRequest(payments, { action: "synchronize", headSha: NEW_HEAD_SHA, labels: [] });
    const check = nockEvaluation(pushed, { codeownersErrors: [], files: payments, rulesetRequires: null });
    const added = nockAddLabels(["agent-risk:low"], { addedColor: "d93f0b" });
    nockRemoveLabel("agent-risk:low");
    nockRequestReviewers();
    await probot.receive({ id: "d-label-high", ...pushed });
    expect(check.body).toMatchObject({ head_sha: NEW_HEAD_SHA, conclusion: "action_required" });
    expect(added.captured.body).toEqual({ labels: ["agent-risk:high"] });
    expect(requests.writes.map((w) => `${w.method} ${decodeURIComponent(w.path)}`)).toContain(`DELETE /repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/labels/agent-risk:low`);
  });

  it("a draft is evaluated but nobody is asked to review until it is ready", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(MIGRATION, { draft: true });
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION });
    nockAddLabels([], { addedColor: "d93f0b" });
    await probot.receive({ id: "d-draft", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(requests.writes.some((w) => w.path.endsWith("/requested_reviewers"))).toBe(false);
    expectRequests(8);
  });
});

describe("drafts", () => {
  it("ready_for_review asks the code owners the draft did not", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(MIGRATION, { action: "ready_for_review", labels: ["agent-risk:high"] });
    nockEvaluation(event, { codeownersErrors: [], files: MIGRATION });
    const review = nockRequestReviewers();
    await probot.receive({ id: "d-ready", ...event });
    expect(review.captured.body).toEqual({ reviewers: [], team_reviewers: ["db-team"] });
    expectRequests(9);
  });
});

describe("GitHub Enterprise Server", () => {
  it("sends every request to the configured API base URL", async () => {
    const { log } = captureLog();
    const probot = new Probot({ appId: APP_ID, privateKey: testPrivateKey(), log, Octokit: TestOctokit, baseUrl: "https://ghe.example.com/api/v3" });
    const store = await freshGateStore();
    await probot.load(createAgentGate({ appId: APP_ID, store, telemetry: new DatabaseTelemetryStore(store.store) }));
    const ghe = nock("https://ghe.example.com/api/v3");
    ghe.post("/app/installations/1/access_tokens").reply(201, { token: "ghs_test", expires_at: "2099-01-01T00:00:00Z" });
    ghe
      .get(`/repos/${OWNER}/${REPO}/contents/.github%2Fagent-gate.yml`)
      .query({ ref: BASE_SHA })
      .reply(200, POLICY_YML, { "content-type": "text/plain; charset=utf-8" });
    const event = agentPullRequest(DOCS, { author: "octo-human", authorType: "User", headRef: "feature/x" });
    await probot.receive({ id: "d-ghes", ...event });
    // Reaching here with no pending mock means the policy was read from ghe.example.com, not api.github.com.
  });
});

describe("pull_request_review events", () => {
  it("that team's member approves on the head SHA: success", async () => {
    const { probot } = await createApp();
    const event = reviewEvent({ reviewer: "dba-alice", changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: [] });
    const check = nockEvaluation(event, { files: MIGRATION, reviews: [{ reviewer: "dba-alice" }] });
    nockTeamMembers("db-team", ["dba-alice", "dba-bob"]);
    // The PR's commits came with the file modes (GraphQL): no REST commits request (issue 12).
    nockCodeownersErrors(BASE_SHA, []);
    await probot.receive({ id: "d-approve", ...event });
    expect(check.body.conclusion).toBe("success");
    expect(check.body.output.title).toBe("High risk: approved by @dba-alice");
    // policy, CODEOWNERS, files, file modes and the PR's commits (one GraphQL query), reviews, team members, GitHub's
    // CODEOWNERS errors at the base (an owner's approval could count: invariant 4 asks whether she pushed and whether
    // GitHub counts her line), rulesets, check run
    expectRequests(9);
  });

  it("warm: the first review after the opened PR costs 3 counted requests (reviews, team list, check run: the commits came with the file modes, the CODEOWNERS errors answer 304), then 2 once the team list is cached", async () => {
    const { probot } = await createApp();
    const opened = agentPullRequest(MIGRATION);
    nockPolicyFile(POLICY_YML, { etag: '"policy-v1"' });
    nockCodeowners(CODEOWNERS, { etag: '"codeowners-v1"' });
    nockListFiles(MIGRATION);
    nockFileModes();
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);
    // GitHub's validation of the base CODEOWNERS, with its ETag: read whenever a requirement has code owners.
    nockCodeownersErrors(BASE_SHA, [], { etag: '"codeowners-errors-v1"' });
    nockCreateCheckRun();
    nockAddLabels([], { addedColor: "d93f0b" });
    nockRequestReviewers();
    await probot.receive({ id: "d-w1", ...opened });
    expectRequests(9);

    // The first approval: the policy and CODEOWNERS at the base commit, the files of this head and their modes are
    // remembered; the team list is read once (with its ETag).
    requests.reset();
    const approve = reviewEvent({ reviewer: "dba-alice", changedFiles: 1, labels: ["agent-risk:high"] });
    // The opened PR's first evaluation read no reviews: no ETag yet.
    nockReviewsConditional([{ reviewer: "dba-alice" }], { etag: '"reviews-v1"' });
    nockTeamMembersConditional("db-team", ["dba-alice", "dba-bob"], { etag: '"team-v1"' });
    // The PR's commits were read with the opened PR's file modes (GraphQL) and remembered for this head and base:
    // the first owner's approval costs no commits request (issue 12).
    // GitHub's validation of the base CODEOWNERS (invariant 4: does GitHub count her line?): unchanged since the
    // opened PR read it, 304 (issue 12).
    nockCodeownersErrors(BASE_SHA, null, { etag: '"codeowners-errors-v1"', notModified: true });
    const first = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-w2", ...approve });
    expect(first.body.conclusion).toBe("success");
    expect(requests.describe().filter((r) => r.includes("/commits"))).toEqual([]);
    expectRequests(4, 3);

    // A second approval: the team answers 304 too. Counted: the reviews, the check run.
    requests.reset();
    const again = reviewEvent({ reviewer: "dba-bob", changedFiles: 1, labels: ["agent-risk:high"] });
    nockReviewsConditional([{ reviewer: "dba-alice" }, { reviewer: "dba-bob" }], { etag: '"reviews-v2"', ifNoneMatch: '"reviews-v1"' });
    nockTeamMembersConditional("db-team", null, { etag: '"team-v1"', notModified: true });
    nockCodeownersErrors(BASE_SHA, null, { etag: '"codeowners-errors-v1"', notModified: true });
    const second = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-w3", ...again });
    expect(second.body.conclusion).toBe("success");
    expect(second.body.output.summary).toContain("dba-bob");
    expectRequests(4, 2);
  });

  it.each([
    ["its head is another commit (a push in between)", { headRefOid: NEW_HEAD_SHA }],
    ["the PR has more than 100 commits", { totalCount: 101 }],
  ])("invariant 4: the commits the file-modes query read are not trusted when %s: REST lists them", async (_name, modes) => {
    const { probot } = await createApp();
    const approve = reviewEvent({ reviewer: "dba-alice", changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: [] });
    // GraphQL names only the agent; REST, the fallback, shows dba-alice's own commit: hers decides.
    const check = nockEvaluation(approve, { files: MIGRATION, reviews: [{ reviewer: "dba-alice" }], modes });
    nockTeamMembers("db-team", ["dba-alice", "dba-bob"]);
    nockPullCommits([{ author: "agent-gate-runner[bot]" }, { author: "dba-alice" }]);
    nockCodeownersErrors(BASE_SHA, []);
    await probot.receive({ id: "d-commits-fallback", ...approve });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.summary).toContain("dba-alice has commits in the pull request");
    expect(requests.describe().filter((r) => r.includes(`/pulls/${PR_NUMBER}/commits`))).toHaveLength(1);
  });

  it("a cached team list is re-read, not trusted, when GitHub says it changed", async () => {
    const { probot } = await createApp();
    const approve = reviewEvent({ reviewer: "dba-alice", changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: [] });
    nockEvaluation(approve, { files: MIGRATION, reviews: [{ reviewer: "dba-alice" }] });
    nockTeamMembersConditional("db-team", ["dba-alice"], { etag: '"team-v1"' });
    // The PR's commits came with the file modes (GraphQL): no REST commits request (issue 12).
    nockCodeownersErrors(BASE_SHA, []);
    await probot.receive({ id: "d-t1", ...approve });

    // dba-alice left the team: GitHub answers 200 with the new list to our old ETag, and her approval stops counting.
    const again = reviewEvent({ reviewer: "dba-alice", reviewAction: "edited", changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: ["db-team"] });
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    nockReviews([{ reviewer: "dba-alice" }]);
    nockTeamMembersConditional("db-team", ["dba-bob"], { etag: '"team-v2"', ifNoneMatch: '"team-v1"' });
    nockCodeownersErrors(BASE_SHA, []);
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-t2", ...again });
    expect(check.body.conclusion).toBe("action_required");
  });

  it("invariant 3 (approvals bind to a commit): the agent pushes again and the PR waits again", async () => {
    const store = await freshGateStore();
    await store.prepare({ owner: OWNER, repo: REPO, number: PR_NUMBER, installationId: 1 }, (scope) => scope.recordReviewRequests(["@Codertocat/db-team"]));
    const { probot } = await createApp({ store });
    const event = agentPullRequest(MIGRATION, { action: "synchronize", headSha: NEW_HEAD_SHA, labels: ["agent-risk:high"] });
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION, reviews: [{ reviewer: "dba-alice", commitId: HEAD_SHA }] });
    await probot.receive({ id: "d-push", ...event });
    expect(check.body).toMatchObject({ head_sha: NEW_HEAD_SHA, conclusion: "action_required" });
    expect(check.body.output.summary).toContain(`not on the head ${NEW_HEAD_SHA.slice(0, 7)}`);
    // The stale approval costs no membership lookup, and the team asked before is not asked again.
    expectRequests(8);
  });

  it("invariant 4 (nobody approves their own agent): author, agent, bot and the triggering user do not count", async () => {
    const { probot } = await createApp();
    const body = "Agent run 17.\n\n<!-- agent-gate: triggered-by=@carol run=17 -->";
    const event = reviewEvent({ reviewer: "carol", body, changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: ["db-team"] });
    const reviews = [
      { reviewer: "agent-gate-runner[bot]", type: "Bot" as const },
      { reviewer: "codex-agent" },
      { reviewer: "renovate[bot]", type: "Bot" as const },
      { reviewer: "carol" },
    ];
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION, reviews });
    await probot.receive({ id: "d-self", ...event });
    expect(check.body.conclusion).toBe("action_required");
    const summary: string = check.body.output.summary;
    expect(summary).toContain("carol triggered the agent run");
    expect(summary).toContain("codex-agent is an agent identity");
    expect(summary).toContain("renovate\\[bot\\] is a bot");
    expect(summary).toContain("agent-gate-runner\\[bot\\] is the pull request's author");
    // None of them costs a team-membership lookup; the team is already requested on GitHub.
    expectRequests(8);
  });

  it("a comment-only review is skipped without a request", async () => {
    const { probot, lines } = await createApp();
    const event = reviewEvent({ reviewer: "dba-alice", state: "commented" });
    await probot.receive({ id: "d-comment", ...event });
    expect(requests.total).toBe(0);
    expect(lines.some((l) => /a comment changes no approval/.test(l.msg))).toBe(true);
  });

  it("a dismissed approval puts the PR back to waiting (8 requests cold)", async () => {
    const { probot } = await createApp();
    const event = reviewEvent({ reviewer: "dba-alice", reviewAction: "dismissed", changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: ["db-team"] });
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION, reviews: [{ reviewer: "dba-alice", state: "DISMISSED" }] });
    await probot.receive({ id: "d-dismiss", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expectRequests(8);
  });
});

describe("check re-runs", () => {
  it("check_run.rerequested on our check re-evaluates the PR of that commit", async () => {
    const { probot } = await createApp();
    const payload = fixture("check_run.rerequested");
    payload.repository.owner.login = OWNER;
    payload.repository.name = REPO;
    payload.repository.full_name = `${OWNER}/${REPO}`;
    payload.check_run.name = "Agent Gate: approval (master)";
    payload.check_run.head_sha = HEAD_SHA;
    payload.check_run.pull_requests = [{ number: PR_NUMBER, head: { ref: "agent/run-1", sha: HEAD_SHA }, base: { ref: "master", sha: "0" } }];
    const pr = agentPullRequest(DOCS).payload.pull_request;
    nockGetPull(pr);
    const check = nockEvaluation({ payload: { pull_request: pr } }, { files: DOCS });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-rerun", name: "check_run", payload });
    expect(check.body).toMatchObject({ conclusion: "success", head_sha: HEAD_SHA });
    // The PR read first (the check payload has no PR details), then a normal evaluation.
    expectRequests(9);
  });

  it("check_run.rerequested on another check is ignored", async () => {
    const { probot } = await createApp();
    const payload = fixture("check_run.rerequested");
    await probot.receive({ id: "d-rerun-other", name: "check_run", payload });
    expect(requests.total).toBe(0);
  });

  it("check_suite.rerequested finds a fork PR through its head commit", async () => {
    const { probot } = await createApp();
    const payload = fixture("check_suite.rerequested");
    payload.check_suite.app.id = APP_ID;
    payload.check_suite.head_sha = HEAD_SHA;
    payload.check_suite.pull_requests = [];
    payload.installation.id = 1;
    payload.repository.owner.login = OWNER;
    payload.repository.name = REPO;
    const pr = agentPullRequest(DOCS).payload.pull_request;
    api().get(`/repos/${OWNER}/${REPO}/commits/${HEAD_SHA}/pulls`).query({ per_page: "100" }).reply(200, [{ number: PR_NUMBER, state: "open" }]);
    nockGetPull(pr);
    const check = nockEvaluation({ payload: { pull_request: pr } }, { files: DOCS });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-suite", name: "check_suite", payload });
    expect(check.body.conclusion).toBe("success");
    expectRequests(10);
  });
});

// Keep the unused helper imports honest: these scenarios read a file at the head through nockFile.
void nockFile;
