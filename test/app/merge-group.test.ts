/**
 * The approval check on a merge queue's group: GitHub's real `merge_group` payload (`@octokit/webhooks-examples`)
 * through `probot.receive`, with the decisions of the group's PRs made by the App itself first (real
 * `pull_request` payloads). The queue is answered by nock as GitHub's GraphQL API answers `mergeQueue`.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { routeEvent } from "../../src/app/routes.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { groupEntries, judgeMember, pullRequestOfQueueRef, renderMergeGroup } from "../../src/services/merge-group.js";
import { HEAD_SHA, NEW_HEAD_SHA, PR_NUMBER, REPO_PATH, api, fixture, nockAddLabels, nockRequestReviewers, requests } from "../helpers/github.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";
import type { TestApp } from "./scenario.js";
import { TEST_DRIVERS } from "../helpers/db.js";
import { useTestStore } from "../helpers/use-test-store.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];
const MIGRATION = [{ filename: "db/migrations/0042_add_accounts.sql", status: "added", patch: "@@ -0,0 +1 @@\n+CREATE TABLE accounts (id int);" }];
const GROUP_SHA = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d";

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/** GitHub's merge_group example, pointed at the test repository and a group whose last PR is `number`. */
function mergeGroupEvent(number = PR_NUMBER, base = "master", action = "checks_requested"): { name: "merge_group"; payload: any } {
  const payload = fixture("merge_group.checks_requested");
  const pr = agentPullRequest(DOCS).payload;
  payload.action = action;
  payload.repository = pr.repository;
  payload.installation = pr.installation;
  payload.merge_group.base_ref = `refs/heads/${base}`;
  payload.merge_group.head_ref = `refs/heads/gh-readonly-queue/${base}/pr-${number}-${payload.merge_group.base_sha}`;
  return { name: "merge_group", payload };
}

interface QueueEntry {
  position: number;
  number: number;
  /** The PR's head as the queue shows it. */
  prHead?: string;
  /** The group commit built for this entry. */
  groupSha?: string | null;
}

/** `POST /graphql` for the merge queue of `base`; captures the variables sent. */
function nockMergeQueue(base: string, entries: QueueEntry[] | { status: number }): { variables: any[] } {
  const seen = { variables: [] as any[] };
  const interceptor = api().post("/graphql", (body: any) => {
    if (!/mergeQueue\(branch: \$branch\)/.test(body.query)) return false;
    seen.variables.push(body.variables);
    return body.variables.branch === base;
  });
  if ("status" in entries) {
    interceptor.reply(entries.status, { message: "Server Error" });
    return seen;
  }
  const nodes = entries.map((e) => ({
    position: e.position,
    headCommit: e.groupSha === null ? null : { oid: e.groupSha ?? GROUP_SHA },
    pullRequest: { number: e.number, headRefOid: e.prHead ?? HEAD_SHA, baseRefName: base },
  }));
  interceptor.reply(200, { data: { repository: { mergeQueue: { entries: { nodes } } } } });
  return seen;
}

/** Our check on the merge group commit. */
function nockGroupCheck(): { body: any } {
  const captured: { body: any } = { body: undefined };
  api()
    .post(`${REPO_PATH}/check-runs`, (body: any) => {
      captured.body = body;
      return body.head_sha === GROUP_SHA;
    })
    .reply(201, { id: 91, html_url: "https://github.com/Codertocat/Hello-World/runs/91" });
  return captured;
}

/** The App decides PR 2 first, as it does on `pull_request.opened`. */
async function decidePullRequest(app: TestApp, files: typeof DOCS): Promise<void> {
  const event = agentPullRequest(files);
  // A migration needs a code owner: GitHub's CODEOWNERS validation is read too.
  const check = nockEvaluation(event, { files, ...(files === MIGRATION ? { codeownersErrors: [] } : {}) });
  nockAddLabels([]);
  if (files === MIGRATION) nockRequestReviewers();
  await app.probot.receive({ id: `pr-${files[0]?.filename}`, ...event });
  expect(check.body.head_sha).toBe(HEAD_SHA);
  requests.reset();
}

describe("merge_group.checks_requested", () => {
  it("a group of one approved PR passes: the approval check on the group commit is success (2 requests)", async () => {
    const app = await createApp();
    await decidePullRequest(app, DOCS);
    const queue = nockMergeQueue("master", [{ position: 1, number: PR_NUMBER }]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-ok", ...(mergeGroupEvent() as any) });

    expect(check.body).toMatchObject({ name: "Agent Gate: approval (master)", head_sha: GROUP_SHA, status: "completed", conclusion: "success" });
    expect(check.body.output.title).toBe("All 1 pull request in this merge group are approved");
    expect(queue.variables[0]).toEqual({ owner: "Codertocat", name: "Hello-World", branch: "master" });
    expect((await app.store.audit("merge_group_checked")).at(-1)).toMatchObject({ deliveryId: "mg-ok", payload: { headSha: GROUP_SHA, conclusion: "success", checkRunId: 91, members: [{ number: PR_NUMBER, approved: true }] } });
    // the queue (one GraphQL query) and the check run: no PR is read or evaluated again
    expect(requests.total).toBe(2);
  });

  it("invariant 5: a group holding a PR that waits for approval fails, naming it", async () => {
    const app = await createApp();
    await decidePullRequest(app, MIGRATION);
    nockMergeQueue("master", [{ position: 1, number: PR_NUMBER }]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-waiting", ...(mergeGroupEvent() as any) });

    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.title).toBe(`Not approved: #${PR_NUMBER}`);
    expect(check.body.output.summary).toMatch(/\| #2 \| `ec26c3e` \| \*\*blocks\*\* \| not approved: /);
  });

  it("invariant 5: an approved PR does not carry an undecided PR ahead of it in the queue", async () => {
    const app = await createApp();
    await decidePullRequest(app, DOCS);
    // PR 1 is ahead: the group commit of PR 2 holds PR 1 too, and Agent Gate never decided PR 1.
    nockMergeQueue("master", [
      { position: 1, number: 1, prHead: "3".repeat(40), groupSha: "4".repeat(40) },
      { position: 2, number: PR_NUMBER },
    ]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-ahead", ...(mergeGroupEvent() as any) });

    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.title).toBe("Not approved: #1");
    expect(check.body.output.summary).toMatch(/\| #1 \| `3333333` \| \*\*blocks\*\* \| Agent Gate has recorded no decision for it \|/);
    expect(check.body.output.summary).toMatch(/\| #2 \| `ec26c3e` \| approved \|/);
  });

  it("invariant 3: a decision for an older head does not pass the group (the PR was pushed to since)", async () => {
    const app = await createApp();
    await decidePullRequest(app, DOCS);
    nockMergeQueue("master", [{ position: 1, number: PR_NUMBER, prHead: NEW_HEAD_SHA }]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-stale", ...(mergeGroupEvent() as any) });

    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.summary).toMatch(/its latest decision is for head ec26c3e, not 1111111/);
  });

  it("invariant 10: a decision for another base does not pass a group merging into this one", async () => {
    const app = await createApp();
    await decidePullRequest(app, DOCS); // decided for master
    nockMergeQueue("release", [{ position: 1, number: PR_NUMBER }]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-base", ...(mergeGroupEvent(PR_NUMBER, "release") as any) });

    expect(check.body).toMatchObject({ name: "Agent Gate: approval (release)", conclusion: "failure" });
    expect(check.body.output.summary).toMatch(/its latest decision is for base master, not release/);
  });

  it("invariant 5: a group the queue does not list fails (cannot tell which PRs it holds)", async () => {
    const app = await createApp();
    await decidePullRequest(app, DOCS);
    nockMergeQueue("master", [{ position: 1, number: 77, groupSha: "5".repeat(40) }]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-unknown", ...(mergeGroupEvent() as any) });

    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.title).toBe("Cannot tell which pull requests are in this merge group");
  });

  it("the group is found by the ref's PR when the queue has not shown its commit yet; those ahead still count", async () => {
    const app = await createApp();
    await decidePullRequest(app, DOCS);
    nockMergeQueue("master", [
      { position: 1, number: 1, prHead: "3".repeat(40), groupSha: "4".repeat(40) },
      { position: 2, number: PR_NUMBER, groupSha: null },
    ]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-by-ref", ...(mergeGroupEvent() as any) });
    expect(check.body.output.title).toBe("Not approved: #1");
  });

  it("invariant 5: the queue cannot be read: a failing check, and the delivery fails (redeliverable)", async () => {
    const app = await createApp();
    nockMergeQueue("master", { status: 500 });
    const check = nockGroupCheck();
    await expect(app.probot.receive({ id: "mg-500", ...(mergeGroupEvent() as any) })).rejects.toThrow();
    expect(check.body.conclusion).toBe("failure");
    expect(check.body.output.title).toMatch(/^Could not evaluate/);
    expect((await app.store.audit("merge_group_checked")).at(-1)).toMatchObject({ deliveryId: "mg-500", payload: { conclusion: "failure", members: [] } });
  });

  it("merge_group.destroyed is skipped and logged, with no request", async () => {
    const app = await createApp();
    await app.probot.receive({ id: "mg-destroyed", ...(mergeGroupEvent(PR_NUMBER, "master", "destroyed") as any) });
    expect(requests.total).toBe(0);
    expect(app.lines.some((l) => /skipped merge_group\.destroyed/.test(String(l.msg)))).toBe(true);
  });
});

describe.each(TEST_DRIVERS)("merge groups on the database (%s)", (driver) => {
  const ctx = useTestStore(driver);

  it("reads the PR's recorded evaluation and appends a merge_group_checked audit entry naming each PR's decision", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await decidePullRequest(app, DOCS);
    nockMergeQueue("master", [{ position: 1, number: PR_NUMBER }]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-db", ...(mergeGroupEvent() as any) });
    expect(check.body.conclusion).toBe("success");

    const entries = [];
    for await (const entry of ctx.store.audit.export()) entries.push(entry);
    const group = entries.find((e) => e.kind === "merge_group_checked");
    expect(group).toMatchObject({ repository: "Codertocat/Hello-World", pullRequest: null, deliveryId: "mg-db" });
    expect(JSON.parse(group?.payload ?? "{}")).toMatchObject({
      headSha: GROUP_SHA,
      baseRef: "master",
      conclusion: "success",
      checkRunId: 91,
      members: [{ number: PR_NUMBER, headSha: HEAD_SHA, approved: true, decided: { headSha: HEAD_SHA, baseRef: "master", conclusion: "success" } }],
    });
    expect((await ctx.store.audit.verify()).ok).toBe(true);
  });

  it("invariant 3: the stored decision is for an older head: the group fails", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await decidePullRequest(app, DOCS);
    nockMergeQueue("master", [{ position: 1, number: PR_NUMBER, prHead: NEW_HEAD_SHA }]);
    const check = nockGroupCheck();
    await app.probot.receive({ id: "mg-db-stale", ...(mergeGroupEvent() as any) });
    expect(check.body.conclusion).toBe("failure");
  });
});

describe("merge group routing and membership (pure)", () => {
  it("one work per group commit, keyed by it, from the real payload", () => {
    const event = mergeGroupEvent();
    const route = routeEvent({ id: "d1", name: event.name, payload: event.payload }, { appId: null });
    expect(route).toMatchObject({ works: [{ key: `merge-group:1:codertocat/hello-world@${GROUP_SHA}`, work: { kind: "merge-group", target: { headSha: GROUP_SHA, baseRef: "master" } } }] });
  });

  it("reads the PR number only from this base's queue ref", () => {
    expect(pullRequestOfQueueRef("refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64", "main")).toBe(104);
    expect(pullRequestOfQueueRef("refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64", "release")).toBeNull();
    expect(pullRequestOfQueueRef("refs/heads/feature/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64", "main")).toBeNull();
  });

  it("invariant 5: a PR in the group that GitHub does not show us blocks it, named as such", () => {
    const seen = judgeMember(2, HEAD_SHA, { headSha: HEAD_SHA, baseRef: "master", conclusion: "success", title: "ok", evaluatedAt: new Date(0), headFirstDecidedAt: new Date(0), overriddenBy: null }, "master");
    const hidden = { number: 0, headSha: null, decision: null, approved: false, reason: "a pull request Agent Gate cannot see" };
    expect(renderMergeGroup([hidden, seen])).toMatchObject({ conclusion: "failure", title: "Not approved: a pull request Agent Gate cannot see" });
  });

  it("a group is its entry and every entry ahead of it, never one behind", () => {
    const queue = [1, 2, 3].map((position) => ({ position, headSha: `${position}`.repeat(40), pullRequest: { number: 10 + position, headSha: "a".repeat(40), baseRef: "main" } }));
    expect(groupEntries(queue, "2".repeat(40), null)?.map((e) => e.pullRequest?.number)).toEqual([11, 12]);
    expect(groupEntries(queue, "9".repeat(40), 13)?.map((e) => e.pullRequest?.number)).toEqual([11, 12, 13]);
    expect(groupEntries(queue, "9".repeat(40), 99)).toBeNull();
  });
});
