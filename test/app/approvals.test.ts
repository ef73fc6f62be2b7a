/**
 * Who may approve, end to end (DESIGN.md invariants 3 and 4), attacked as an agent or a careless maintainer would:
 * real webhook payloads through `probot.receive`, GitHub answered by nock, the store on Postgres and PGlite where
 * what must survive a failure is the point.
 */
import type { Probot } from "probot";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { foldWork, routeEvent } from "../../src/app/routes.js";
import type { Work } from "../../src/app/routes.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import {
  BASE_SHA,
  NEW_HEAD_SHA,
  OWNER,
  PR_NUMBER,
  REPO,
  api,
  nockCodeowners,
  nockCodeownersErrors,
  nockCreateCheckRun,
  nockFileModes,
  nockListFiles,
  nockRulesetChecks,
  nockPolicyFile,
  nockReviews,
  nockTeamMembers,
  requests,
  reviewEvent,
} from "../helpers/github.js";
import { TEST_DRIVERS } from "../helpers/db.js";
import { useTestStore } from "../helpers/use-test-store.js";
import { CODEOWNERS, POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const MIGRATION = [{ filename: "db/migrations/0042_add_accounts.sql", status: "added", patch: "@@ -0,0 +1 @@\n+CREATE TABLE accounts (id int);" }];
const HIGH = { changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: ["db-team"] };

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/** The reads of a later evaluation: the file listing (this head and base) and the enforcement are remembered. */
function nockWarmEvaluation(event: { payload: any }, reviews: Parameters<typeof nockReviews>[0]) {
  nockPolicyFile(POLICY_YML);
  nockCodeowners(CODEOWNERS);
  nockReviews(reviews);
  // GitHub's CODEOWNERS validation: read whenever a requirement has code owners (no ETag given here).
  nockCodeownersErrors(BASE_SHA, []);
  return nockCreateCheckRun().captured;
}

describe("invariant 4: whoever pushed to the agent's branch cannot approve it", () => {
  it("invariant 4: the human who pushed (the synchronize sender) cannot approve; another owner can", async () => {
    const { probot } = await createApp();
    // dba-alice, a db-team member, pushes a commit of her own onto the agent's branch.
    const push = agentPullRequest(MIGRATION, { action: "synchronize", headSha: NEW_HEAD_SHA, ...HIGH });
    push.payload.sender = { ...push.payload.sender, login: "dba-alice", type: "User" };
    // The push's file-modes query also reads the PR's commits (remembered for this head and base): hers is the head.
    nockEvaluation(push, { codeownersErrors: [], files: MIGRATION, modes: { commits: [{ author: "agent-gate-runner[bot]" }, { author: "dba-alice", committer: "dba-alice", sha: NEW_HEAD_SHA }] } });
    await probot.receive({ id: "d-push-alice", ...push });

    // Her approval of that head does not count, and costs neither a team lookup nor the PR's commits.
    requests.reset();
    const approve = reviewEvent({ reviewer: "dba-alice", headSha: NEW_HEAD_SHA, ...HIGH });
    const refused = nockWarmEvaluation(approve, [{ reviewer: "dba-alice", commitId: NEW_HEAD_SHA }]);
    await probot.receive({ id: "d-approve-alice", ...approve });
    expect(refused.body.conclusion).toBe("action_required");
    expect(refused.body.output.summary).toContain("dba-alice pushed to the pull request's branch");
    expect(requests.describe().some((r) => /teams|commits/.test(r))).toBe(false);

    // dba-bob did not push and made no commit: his approval counts (the commits remembered from the push say so).
    requests.reset();
    const other = reviewEvent({ reviewer: "dba-bob", headSha: NEW_HEAD_SHA, ...HIGH });
    const counted = nockWarmEvaluation(other, [
      { reviewer: "dba-alice", commitId: NEW_HEAD_SHA },
      { reviewer: "dba-bob", commitId: NEW_HEAD_SHA },
    ]);
    nockTeamMembers("db-team", ["dba-alice", "dba-bob"]);
    await probot.receive({ id: "d-approve-bob", ...other });
    expect(counted.body.conclusion).toBe("success");
    expect(counted.body.output.title).toBe("High risk: approved by @dba-bob");
  });

  it("invariant 4: an owner whose commits are in the PR (author or committer) cannot approve it", async () => {
    for (const [i, commit] of [{ author: "DBA-Alice" }, { author: null, committer: "dba-alice" }].entries()) {
      const { probot } = await createApp();
      const approve = reviewEvent({ reviewer: "dba-alice", ...HIGH });
      // Her commit, as the file-modes query reads the PR's commits (GraphQL: GitActor.user.login).
      const check = nockEvaluation(approve, { files: MIGRATION, reviews: [{ reviewer: "dba-alice" }], modes: { commits: [{ author: "agent-gate-runner[bot]" }, commit] } });
      nockTeamMembers("db-team", ["dba-alice", "dba-bob"]);
      nockCodeownersErrors(BASE_SHA, []);
      await probot.receive({ id: `d-committed-${i}`, ...approve });
      expect(check.body.conclusion).toBe("action_required");
      expect(check.body.output.summary).toContain("dba-alice has commits in the pull request");
    }
  });

  it("invariant 4: the synchronize sender is the pusher unless a bot, and folding events keeps every pusher", () => {
    const pushBy = (login: string, type: string) => {
      const event = agentPullRequest(MIGRATION, { action: "synchronize", headSha: NEW_HEAD_SHA });
      event.payload.sender = { ...event.payload.sender, login, type };
      const route = routeEvent({ id: `d-${login}`, ...event }, { appId: null });
      if (!("works" in route)) throw new Error(route.skip);
      return route.works[0]!.work;
    };
    const target = (w: Work) => (w.kind === "evaluate" ? w.target : null);
    expect(target(pushBy("agent-gate-runner[bot]", "Bot"))?.pushers).toBeUndefined();
    expect(target(pushBy("dba-alice", "User"))?.pushers).toEqual(["dba-alice"]);
    const review = routeEvent({ id: "d-r", ...reviewEvent({ reviewer: "dba-bob" }) }, { appId: null });
    if (!("works" in review)) throw new Error(review.skip);
    expect(target(foldWork(pushBy("dba-alice", "User"), review.works[0]!.work))?.pushers).toEqual(["dba-alice"]);
    expect(target(foldWork(pushBy("dba-alice", "User"), pushBy("mallory", "User")))?.pushers).toEqual(["dba-alice", "mallory"]);
  });

  it("invariant 4: an ordinary push costs no commits request (pinned: 8 requests, the CODEOWNERS validation one of them)", async () => {
    const { probot } = await createApp();
    const push = agentPullRequest(MIGRATION, { action: "synchronize", headSha: NEW_HEAD_SHA, ...HIGH });
    const check = nockEvaluation(push, { codeownersErrors: [], files: MIGRATION, reviews: [{ reviewer: "dba-bob", commitId: "0".repeat(40) }] });
    await probot.receive({ id: "d-plain-push", ...push });
    expect(check.body.conclusion).toBe("action_required");
    // policy, CODEOWNERS, files, file modes (GraphQL), reviews, GitHub's CODEOWNERS validation (read whenever a
    // requirement has code owners: issue 12), rulesets, check run: the stale approval needs no commits.
    expect(requests.total).toBe(8);
  });
});

describe.each(TEST_DRIVERS)("invariant 4 on %s: the triggering human is remembered on first sight", (driver) => {
  const ctx = useTestStore(driver);

  it("invariant 4: the first evaluation fails, the PR body is edited, the triggering human approves: still not counted", async () => {
    const { probot } = await createApp({ store: new DatabaseGateStore(ctx.store) });
    const opened = agentPullRequest(MIGRATION, { body: "Agent run 17.\n\n<!-- agent-gate: triggered-by=@dba-alice run=17 -->" });
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    api().get(`/repos/${OWNER}/${REPO}/pulls/${PR_NUMBER}/files`).query({ per_page: "100" }).reply(500, { message: "Server Error" });
    // No reviews read: the PR's first evaluation of its opening (issue 12).
    const failed = nockCreateCheckRun().captured;
    await expect(probot.receive({ id: "d-first-fails", ...opened })).rejects.toThrow(/500/);
    expect(failed.body.conclusion).toBe("failure");

    // The body no longer names her (pull_request.edited without a base change is not even evaluated).
    const approve = reviewEvent({ reviewer: "dba-alice", body: "Agent run 17.", ...HIGH });
    const check = nockEvaluation(approve, { codeownersErrors: [], files: MIGRATION, reviews: [{ reviewer: "dba-alice" }] });
    // Were she forgotten, her approval would count: she is in the owning team and made no commit.
    api().get(`/orgs/${OWNER}/teams/db-team/members`).query({ per_page: "100" }).optionally().reply(200, [{ login: "dba-alice", id: 1, type: "User" }]);
    api().get(`/repos/${OWNER}/${REPO}/pulls/${PR_NUMBER}/commits`).query({ per_page: "100" }).optionally().reply(200, []);
    await probot.receive({ id: "d-alice-approves", ...approve });
    expect(check.body.conclusion).not.toBe("success");
    expect(check.body.output.summary).toContain("dba-alice triggered the agent run");
  });
});

/**
 * A retarget (`pull_request.edited` with `changes.base`). @octokit/webhooks-examples has no `edited` example, so
 * this is its `opened` example with the action and the `changes` object GitHub documents for a base change
 * (docs.github.com/webhooks/webhook-events-and-payloads#pull_request, "edited": changes.base.ref.from, .sha.from).
 */
function retargetEvent(files: typeof MIGRATION, baseRef: string, baseSha: string) {
  const event = agentPullRequest(files, { action: "edited", baseRef, baseSha, labels: ["agent-risk:high"], requestedTeams: ["db-team", "payments"] });
  event.payload.changes = { base: { ref: { from: "master" }, sha: { from: BASE_SHA } } };
  return event;
}

/** The reads of an evaluation on a new base commit (policy and CODEOWNERS at that commit). */
function nockRetargetEvaluation(event: { payload: any }, baseSha: string, files: typeof MIGRATION, reviews: Parameters<typeof nockReviews>[0]) {
  nockPolicyFile(POLICY_YML, { ref: baseSha });
  nockCodeowners(CODEOWNERS, { ref: baseSha });
  nockListFiles(files);
  nockFileModes();
  nockReviews(reviews);
  nockCodeownersErrors(baseSha, []);
  nockRulesetChecks(event.payload.pull_request.base.ref, [{ context: `Agent Gate: approval (${event.payload.pull_request.base.ref})` }]);
  return nockCreateCheckRun().captured;
}

describe("invariant 4: an owner's approval counts only if GitHub would count it", () => {
  // dba-mallory is named in the base CODEOWNERS but has no write access: GitHub does not count her as an owner.
  const MALLORY_CODEOWNERS = `# base branch CODEOWNERS
*                     @Codertocat/maintainers
/db/                  @dba-mallory
`;
  // The shape of GitHub's documented example response of "List CODEOWNERS errors" (test/fixtures/github/SOURCES.md),
  // with the wording GitHub gives an owner without write access.
  const REJECTED = {
    line: 3,
    column: 23,
    kind: "Unknown owner",
    source: "/db/                  @dba-mallory",
    suggestion: "make sure @dba-mallory exists and has write access to the repository",
    message: "Unknown owner on line 3: make sure @dba-mallory exists and has write access to the repository\n\n  /db/                  @dba-mallory\n                        ^",
  };
  const approveByMallory = async (errors: Parameters<typeof nockCodeownersErrors>[1]) => {
    const { probot } = await createApp();
    const approve = reviewEvent({ reviewer: "dba-mallory", changedFiles: 1, labels: ["agent-risk:high"], requestedTeams: [] });
    const check = nockEvaluation(approve, { files: MIGRATION, codeowners: MALLORY_CODEOWNERS, reviews: [{ reviewer: "dba-mallory" }] });
    // The PR's commits came with the file modes (GraphQL): no REST commits request (issue 12).
    nockCodeownersErrors(BASE_SHA, errors);
    await probot.receive({ id: "d-approve-mallory", ...approve });
    return check.body;
  };

  it("invariant 4: an owner GitHub rejects in CODEOWNERS (no write access) cannot make the PR approvable; the check shows the rejected line", async () => {
    const body = await approveByMallory([REJECTED]);
    // The /db/ requirement is left without an owner GitHub counts: it can never be met, so the check fails.
    expect(body.conclusion).toBe("failure");
    const shown = `${body.output.summary}\n${body.output.text ?? ""}`;
    expect(shown).toContain("nobody can approve: GitHub rejects the owners of CODEOWNERS line 3: Unknown owner on line 3: make sure @\u200ddba-mallory");
    expect(shown).toContain("GitHub rejects owners in the base CODEOWNERS; their approvals do not count: line 3: Unknown owner on line 3: make sure @\u200ddba-mallory exists and has write access");
    // Quoted, not live: the login GitHub names is no @mention (escaped like telemetry text).
    expect(shown).not.toMatch(/(^|[^\u200d])@dba-mallory/m);
    expect(requests.describe().filter((r) => r.includes(`codeowners/errors?ref=${BASE_SHA}`))).toHaveLength(1);
  });

  it("invariant 4: the same approval counts when GitHub rejects nothing (the control), and a 404 (no CODEOWNERS errors to give) rejects nobody", async () => {
    expect((await approveByMallory([])).conclusion).toBe("success");
    requests.reset();
    expect((await approveByMallory(null)).conclusion).toBe("success");
  });
});

describe("invariant 3: an approval counts only for the diff it saw", () => {
  const DEVELOP_SHA = "2".repeat(40);
  // On develop the same head shows more: a second migration, owned by the same team (so, were the old approval
  // still counted, the PR would pass).
  const BIGGER = [...MIGRATION, { filename: "db/migrations/0043_drop_accounts.sql", status: "added", patch: "@@ -0,0 +1 @@\n+DROP TABLE accounts;" }];

  /** dba-alice (of the owning team) approves the migration on master: the check passes. Returns the review event. */
  async function approvedOnMaster(probot: Probot, id: string): Promise<ReturnType<typeof reviewEvent>> {
    const approve = reviewEvent({ reviewer: "dba-alice", ...HIGH });
    const approved = nockEvaluation(approve, { files: MIGRATION, reviews: [{ reviewer: "dba-alice" }] });
    nockTeamMembers("db-team", ["dba-alice", "dba-bob"]);
    // The PR's commits came with the file modes (GraphQL): no REST commits request (issue 12).
    nockCodeownersErrors(BASE_SHA, []);
    await probot.receive({ id, ...approve });
    expect(approved.body.conclusion).toBe("success");
    return approve;
  }

  it("invariant 3: approve, retarget the base to a branch where the diff is bigger: the approval no longer counts", async () => {
    const { probot } = await createApp();
    await approvedOnMaster(probot, "d-approve-master");

    const retarget = retargetEvent(BIGGER, "develop", DEVELOP_SHA);
    const check = nockRetargetEvaluation(retarget, DEVELOP_SHA, BIGGER, [{ reviewer: "dba-alice" }]);
    await probot.receive({ id: "d-retarget", ...retarget });
    expect(check.body).toMatchObject({ name: "Agent Gate: approval (develop)", conclusion: "action_required" });
    expect(check.body.output.summary).toContain("given for the diff against master; the pull request now targets develop");
    // The refused approval costs no team lookup and no commits: the one team lookup is the approval on master's (its
    // commits came with the file modes, GraphQL).
    expect(requests.describe().filter((r) => /teams|commits/.test(r))).toHaveLength(1);
  });

  it("invariant 3: an approval first seen by the retarget's evaluation, given before it, is bound to the old base", async () => {
    const { probot } = await createApp();
    // Its own review event was never evaluated (say it folded into the retarget); submitted 00:00, retarget 10:00.
    const retarget = retargetEvent(MIGRATION, "develop", DEVELOP_SHA);
    const check = nockRetargetEvaluation(retarget, DEVELOP_SHA, MIGRATION, [{ reviewer: "dba-alice" }]);
    await probot.receive({ id: "d-retarget-first", ...retarget });
    expect(check.body.conclusion).toBe("action_required");
    expect(check.body.output.summary).toContain("given for the diff against master; the pull request now targets develop");

    // A fresh approval after the retarget counts.
    requests.reset();
    const again = reviewEvent({ reviewer: "dba-bob", baseRef: "develop", baseSha: DEVELOP_SHA, ...HIGH });
    nockPolicyFile(POLICY_YML, { ref: DEVELOP_SHA });
    nockCodeowners(CODEOWNERS, { ref: DEVELOP_SHA });
    nockReviews([{ reviewer: "dba-alice" }, { reviewer: "dba-bob" }].map((r) => ({ ...r })));
    const counted = nockCreateCheckRun().captured;
    nockTeamMembers("db-team", ["dba-alice", "dba-bob"]);
    // The PR's commits came with the file modes (GraphQL): no REST commits request (issue 12).
    nockCodeownersErrors(DEVELOP_SHA, []);
    await probot.receive({ id: "d-approve-develop", ...again });
    expect(counted.body.conclusion).toBe("success");
  });

  it("invariant 3: the diff changes under the same head and base branch (master moved, no retarget): the approval no longer counts", async () => {
    const { probot } = await createApp();
    const approve = await approvedOnMaster(probot, "d-approve");

    // master moves on and the same head now shows a second migration (say the merge base changed); another review
    // is dismissed, so the PR is evaluated again: same head, same base branch, a new base commit.
    requests.reset();
    const MOVED_SHA = "3".repeat(40);
    const later = reviewEvent({ reviewer: "someone", state: "dismissed", reviewAction: "dismissed", baseSha: MOVED_SHA, ...HIGH });
    nockPolicyFile(POLICY_YML, { ref: MOVED_SHA });
    nockCodeowners(CODEOWNERS, { ref: MOVED_SHA });
    nockListFiles(BIGGER);
    nockFileModes();
    nockReviews([{ reviewer: "dba-alice" }]);
    nockCodeownersErrors(MOVED_SHA, []);
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-base-moved", ...later });
    expect(check.body).toMatchObject({ name: "Agent Gate: approval (master)", head_sha: approve.payload.pull_request.head.sha, conclusion: "action_required" });
    // The reason as the check's Markdown shows it (parentheses escaped).
    expect(check.body.output.summary).toContain(`- approval does not count: the diff changed since it was given \\(same head ${approve.payload.pull_request.head.sha.slice(0, 7)}, base master\\)`);
    expect(check.body.output.summary).not.toContain("now targets");
    // The refused approval costs no team lookup or commits; GitHub's CODEOWNERS validation of the new base commit
    // is read once, as for any requirement with code owners (issue 12).
    expect(requests.describe().filter((r) => /teams|commits/.test(r))).toEqual([]);
    expect(requests.describe().filter((r) => r.includes("codeowners/errors"))).toHaveLength(1);
  });
});
