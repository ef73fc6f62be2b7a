import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inputsDigest } from "../../src/store/index.js";
import { openTestStore, rows, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";

describe.each(TEST_DRIVERS)("repositories on %s", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("invariant 9 (idempotent): a redelivered webhook (same X-GitHub-Delivery) is recognised as a duplicate", async () => {
    const { store } = ctx;
    const delivery = { guid: "72d3162e-cc78-11e3-81ab-4c9367dc0958", installationId: 42, event: "pull_request", action: "opened" };
    expect(await store.deliveries.begin(delivery)).toBe("new");
    expect(await store.deliveries.begin(delivery)).toBe("duplicate"); // still being processed
    await store.deliveries.finish(delivery.guid, 42, "processed");
    expect(await store.deliveries.begin(delivery)).toBe("duplicate");
    const row = await store.deliveries.get(delivery.guid, 42);
    expect(row).toMatchObject({ outcome: "processed", attempts: 1, event: "pull_request", action: "opened" });
    // The same GUID under another installation is another delivery.
    expect(await store.deliveries.begin({ ...delivery, installationId: 43 })).toBe("new");
  });

  it("a delivery that failed, or was abandoned mid-way, can be redelivered and processed again", async () => {
    const { store } = ctx;
    expect(await store.deliveries.begin({ guid: "f-1", event: "pull_request", action: "synchronize" })).toBe("new");
    await store.deliveries.finish("f-1", undefined, "failed", "GitHub answered 502");
    expect((await store.deliveries.get("f-1"))?.error).toBe("GitHub answered 502");
    expect(await store.deliveries.begin({ guid: "f-1", event: "pull_request", action: "synchronize" })).toBe("new");
    const row = await store.deliveries.get("f-1");
    expect(row).toMatchObject({ outcome: "pending", attempts: 2, error: null });

    // A process that crashed left it pending: with staleAfterMs 0 it is taken again, even within the same clock
    // tick. Both begins share one transaction, so now() is the same for both: the strictest case (PGlite's clock
    // has millisecond steps, so two quick statements outside a transaction often meet it too).
    await store.transaction(async (tx) => {
      expect(await tx.deliveries.begin({ guid: "p-1", event: "pull_request" })).toBe("new");
      expect(await tx.deliveries.begin({ guid: "p-1", event: "pull_request" }, { staleAfterMs: 0 })).toBe("new");
    });
  });

  it("a decision's pull request upsert clears a recorded close only when GitHub's view is newer than it (or unknown)", async () => {
    const { store } = ctx;
    const closedAt = new Date("2026-11-02T10:00:00Z");
    const pr = { repository: "octo/reopen", pullRequest: 7, title: "first", author: "octocat", openedAt: new Date("2026-11-01T09:00:00Z") };
    const state = async () =>
      (await rows<{ title: string; closed: boolean; author: string | null }>(store, "select title, closed_at is not null as closed, author from pull_requests where repository = 'octo/reopen' and pull_request = 7"))[0];
    await store.pullRequests.upsert({ ...pr, asOf: new Date("2026-11-01T09:00:00Z") });
    await store.pullRequests.markClosed({ ...pr, closedAt, mergedAt: null, mergedBy: null });
    // A late job, on an event from before the close: the close stays, the newest title is still written.
    await store.pullRequests.upsert({ ...pr, title: "second", author: null, asOf: new Date("2026-11-02T09:59:59Z") });
    expect(await state()).toEqual({ title: "second", closed: true, author: "octocat" });
    // GitHub's view is newer than the close: the PR was reopened.
    await store.pullRequests.upsert({ ...pr, asOf: new Date("2026-11-02T10:00:01Z") });
    expect(await state()).toMatchObject({ closed: false });
    await store.pullRequests.markClosed({ ...pr, closedAt, mergedAt: null, mergedBy: null });
    // Unknown: cleared, as a decision is recorded only for an open PR.
    await store.pullRequests.upsert({ ...pr, asOf: null });
    expect(await state()).toMatchObject({ closed: false });
  });

  it("records an evaluation with its approvals and finds the latest one per PR and per head", async () => {
    const { store } = ctx;
    const first = await store.evaluations.record(evaluationInput("octo/app", 5, "1".repeat(40)));
    const second = await store.evaluations.record({
      ...evaluationInput("octo/app", 5, "2".repeat(40)),
      codeownersPath: ".github/CODEOWNERS",
      codeownersCommit: "e".repeat(40),
      approvals: [
        { reviewer: "alice", state: "APPROVED", commitId: "2".repeat(40), counted: true, reason: "code owner of services/**" },
        { reviewer: "bob", state: "APPROVED", commitId: "1".repeat(40), counted: false, reason: "approved an older commit" },
      ],
    });
    expect((await store.evaluations.latestFor("octo/app", 5))?.id).toBe(second.id);
    expect((await store.evaluations.latestForHead("octo/app", 5, "1".repeat(40)))?.id).toBe(first.id);
    expect(await store.evaluations.latestFor("octo/app", 6)).toBeNull();
    expect(second.findings).toEqual([{ rule: "deps", level: "high", paths: ["package.json"], message: "dependency manifest" }]);
    const approvals = await store.evaluations.approvalsFor(second.id);
    expect(approvals.map((a) => [a.reviewer, a.counted, a.reason])).toEqual([
      ["alice", true, "code owner of services/**"],
      ["bob", false, "approved an older commit"],
    ]);
    await store.evaluations.setCheckRun(second.id, 4_000_000_001, "action_required");
    expect(await store.evaluations.latestFor("octo/app", 5)).toMatchObject({ checkRunId: 4_000_000_001, conclusion: "action_required" });
  });

  it("invariant 9 (stale head): an observation for an older head never replaces a newer one", async () => {
    const { store } = ctx;
    const older = "a".repeat(40);
    const newer = "b".repeat(40);
    const t1 = new Date("2026-01-01T10:00:00Z");
    const t2 = new Date("2026-01-01T10:05:00Z");
    // The event for the newer push is processed first ...
    expect(await store.evaluations.isStale("octo/app", 9, newer, t2)).toBe(false);
    // ... the late event for the older head must not publish.
    expect(await store.evaluations.isStale("octo/app", 9, older, t1)).toBe(true);
    expect(await store.evaluations.currentHead("octo/app", 9)).toEqual({ headSha: newer, headUpdatedAt: t2 });
    expect(await store.evaluations.isStale("octo/app", 9, newer)).toBe(false);
    expect(await store.evaluations.isStale("octo/app", 9, older)).toBe(true);
    // Unknown PR: nothing newer is known.
    expect(await store.evaluations.isStale("octo/app", 10, older)).toBe(false);
  });

  it("observeFirstHead answers true only for a PR's first observation, and still only moves the head forward", async () => {
    const { store } = ctx;
    const older = "c".repeat(40);
    const newer = "d".repeat(40);
    const t1 = new Date("2026-02-01T10:00:00Z");
    const t2 = new Date("2026-02-01T10:05:00Z");
    expect(await store.evaluations.observeFirstHead("octo/first", 1, newer, t2)).toBe(true);
    expect(await store.evaluations.currentHead("octo/first", 1)).toEqual({ headSha: newer, headUpdatedAt: t2 });
    // The same observation again (an update of the row), and an older one (no write at all): not first.
    expect(await store.evaluations.observeFirstHead("octo/first", 1, newer, t2)).toBe(false);
    expect(await store.evaluations.observeFirstHead("octo/first", 1, older, t1)).toBe(false);
    expect(await store.evaluations.currentHead("octo/first", 1)).toEqual({ headSha: newer, headUpdatedAt: t2 });
    // A head seen first through isStale counts as known.
    expect(await store.evaluations.isStale("octo/first", 2, older, t1)).toBe(false);
    expect(await store.evaluations.observeFirstHead("octo/first", 2, newer, t2)).toBe(false);
    expect(await store.evaluations.currentHead("octo/first", 2)).toEqual({ headSha: newer, headUpdatedAt: t2 });
  });

  it("requests each owner once per PR, case-insensitively, and reports only the new ones", async () => {
    const { store } = ctx;
    expect(await store.reviewRequests.alreadyRequested("octo/app", 5, ["alice", "@octo/security"])).toEqual(new Set());
    expect(await store.reviewRequests.record("octo/app", 5, ["Alice", "@octo/Security"], "2".repeat(40))).toEqual(["Alice", "@octo/Security"]);
    expect(await store.reviewRequests.record("octo/app", 5, ["alice", "carol"])).toEqual(["carol"]);
    expect(await store.reviewRequests.alreadyRequested("octo/app", 5, ["ALICE", "dave", "@octo/security"])).toEqual(new Set(["ALICE", "@octo/security"]));
    expect(await store.reviewRequests.alreadyRequested("octo/app", 6, ["alice"])).toEqual(new Set());
  });

  it("records telemetry runs with discrepancies, idempotently per workflow run", async () => {
    const { store } = ctx;
    const input = {
      repository: "octo/app",
      pullRequest: 5,
      headSha: "2".repeat(40),
      workflowRunId: 9_000_000_123,
      workflowPath: ".github/workflows/agent.yml",
      format: "native",
      accepted: true,
      agent: "codex",
      model: "gpt-5",
      counts: { commands: 3, filesTouched: 2 },
      trace: { events: [{ type: "command", command: "npm test", exitCode: 0 }] },
      discrepancies: [{ kind: "unreported_file", path: "src/extra.ts", detail: "changed in the diff, absent from the trace" }],
    };
    const first = await store.telemetry.record(input);
    expect(first.created).toBe(true);
    const again = await store.telemetry.record({ ...input, accepted: false });
    expect(again).toMatchObject({ created: false, run: { id: first.run.id, accepted: true } });
    expect((await store.telemetry.discrepanciesFor(first.run.id)).map((d) => d.path)).toEqual(["src/extra.ts"]);
    expect((await store.telemetry.latestFor("octo/app", 5, "2".repeat(40)))?.id).toBe(first.run.id);
    expect(await store.telemetry.latestFor("octo/app", 5, "3".repeat(40))).toBeNull();
  });

  it("remembers installations and repositories seen", async () => {
    const { store } = ctx;
    await store.installations.upsert({ id: 42, accountLogin: "octo", accountType: "Organization" });
    await store.installations.markSuspended(42, true);
    expect((await store.installations.get(42))?.suspendedAt).toBeInstanceOf(Date);
    await store.installations.markDeleted(42);
    expect((await store.installations.get(42))?.deletedAt).toBeInstanceOf(Date);
    await store.repositories.seen({ id: 1296269, fullName: "octo/Hello-World", installationId: 42, private: false });
    await store.repositories.seen({ id: 1296269, fullName: "octo/hello-renamed", installationId: 42 });
    expect(await store.repositories.get(1296269)).toMatchObject({ fullName: "octo/hello-renamed", installationId: 42 });
  });

  it("ping reports the driver", async () => {
    expect(await ctx.store.ping()).toEqual({ ok: true, driver });
  });
});

function evaluationInput(repository: string, pullRequest: number, headSha: string) {
  return {
    repository,
    pullRequest,
    headSha,
    baseRef: "main",
    baseSha: "b".repeat(40),
    policySource: ".github/agent-gate.yml",
    policyCommit: "c".repeat(40),
    inputsDigest: inputsDigest({ headSha, files: ["package.json"] }),
    risk: "high",
    findings: [{ rule: "deps", level: "high", paths: ["package.json"], message: "dependency manifest" }],
    requirements: [{ kind: "codeowner", paths: ["package.json"], owners: ["@octo/platform"] }],
    decision: "action_required",
  };
}
