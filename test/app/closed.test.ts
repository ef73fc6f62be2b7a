/**
 * A merged (or closed) agent PR shows as such on the compliance pages (issue 15): the real `pull_request.closed`
 * payload (from @octokit/webhooks-examples) through probot.receive, recorded in the database (Postgres and PGlite),
 * read back with the pages' own list query and its decision filter.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { createComplianceQueries } from "../../src/store/compliance.js";
import type { AuditEntry } from "../../src/store/index.js";
import { TEST_DRIVERS } from "../helpers/db.js";
import { useTestStore } from "../helpers/use-test-store.js";
import { NEW_HEAD_SHA, nockAddLabels, requests } from "../helpers/github.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";
import type { TestApp } from "./scenario.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];
const REPOSITORY = "Codertocat/Hello-World";

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

function closedEvent(merged: boolean) {
  const event = agentPullRequest(DOCS, { action: "closed" });
  const pr = event.payload.pull_request;
  pr.state = "closed";
  pr.closed_at = "2026-01-02T09:00:00Z";
  pr.merged = merged;
  pr.merged_at = merged ? "2026-01-02T09:00:00Z" : null;
  pr.merged_by = merged ? { ...pr.user, login: "octo-maintainer", type: "User" } : null;
  pr.merge_commit_sha = merged ? "c".repeat(40) : null;
  return event;
}

async function approvedDocsPr(app: TestApp): Promise<void> {
  const event = agentPullRequest(DOCS);
  nockEvaluation(event, { files: DOCS });
  nockAddLabels([], { addedColor: "0e8a16" });
  await app.probot.receive({ id: "d-opened", ...event });
}

describe.each(TEST_DRIVERS)("pull_request.closed on %s", (driver) => {
  const ctx = useTestStore(driver);

  const list = (decision?: "merged" | "closed" | "approved") =>
    createComplianceQueries(ctx.store.db).agentPullRequests({ readable: [REPOSITORY], decision }, { limit: 10, offset: 0 });
  const audit = async () => {
    const out: AuditEntry[] = [];
    for await (const e of ctx.store.audit.export()) out.push(e);
    return out;
  };

  it("a merged agent PR is listed as merged (the decision filter finds it), with who merged it in the audit log; no GitHub request", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await approvedDocsPr(app);
    expect((await list()).rows.map((r) => r.decision)).toEqual(["approved"]);
    requests.reset();
    await app.probot.receive({ id: "d-merged", ...closedEvent(true) });
    expect(requests.total).toBe(0);
    expect((await list()).rows.map((r) => r.decision)).toEqual(["merged"]);
    expect((await list("merged")).rows.map((r) => r.pullRequest)).toEqual([2]);
    expect((await list("approved")).rows).toEqual([]);
    const closed = (await audit()).filter((e) => e.kind === "pull_request_closed");
    expect(closed.map((e) => JSON.parse(String(e.payload)) as unknown)).toEqual([expect.objectContaining({ merged: true, mergedBy: "octo-maintainer", mergeCommitSha: "c".repeat(40) })]);
  });

  it("a PR closed without merging is listed as closed; reopened and evaluated again it is back to its decision", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await approvedDocsPr(app);
    await app.probot.receive({ id: "d-closed", ...closedEvent(false) });
    expect((await list()).rows.map((r) => r.decision)).toEqual(["closed"]);
    expect((await list("merged")).rows).toEqual([]);
    // Reopened with a new commit (its files are read; the branch rules are remembered).
    const reopened = agentPullRequest(DOCS, { action: "reopened", headSha: NEW_HEAD_SHA });
    reopened.payload.pull_request.updated_at = "2026-01-02T10:00:00Z"; // GitHub: the reopen changes the PR after its close
    nockEvaluation(reopened, { files: DOCS, rulesetRequires: null });
    nockAddLabels([], { addedColor: "0e8a16" });
    await app.probot.receive({ id: "d-reopened", ...reopened });
    expect((await list()).rows.map((r) => r.decision)).toEqual(["approved"]);
  });

  it("an evaluation that runs late, on an event from before the merge, leaves the PR merged", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await approvedDocsPr(app);
    await app.probot.receive({ id: "d-merged", ...closedEvent(true) });
    // A synchronize delivered before the merge whose job runs after it (a retry, a busy queue): GitHub's updated_at
    // on it is older than the close, so its record must not read as a reopen.
    const late = agentPullRequest(DOCS, { action: "synchronize", headSha: NEW_HEAD_SHA });
    late.payload.pull_request.updated_at = "2026-01-02T08:59:00Z";
    nockEvaluation(late, { files: DOCS, rulesetRequires: null });
    await app.probot.receive({ id: "d-late-sync", ...late });
    expect((await list()).rows.map((r) => r.decision)).toEqual(["merged"]);
    expect((await list("merged")).rows.map((r) => r.pullRequest)).toEqual([2]);
  });

  it("the close of a PR the gate never decided on records nothing", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await app.probot.receive({ id: "d-human-closed", ...closedEvent(true) });
    expect((await audit()).filter((e) => e.kind === "pull_request_closed")).toEqual([]);
    expect((await list()).rows).toEqual([]);
  });
});
