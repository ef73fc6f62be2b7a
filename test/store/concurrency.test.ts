import { setImmediate as nextTurn } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { PullRequestInfo } from "../../src/github/port.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { evaluatePullRequest, type EvaluationTarget } from "../../src/services/evaluate-pull-request.js";
import { TtlEnforcementCache } from "../../src/services/enforcement-cache.js";
import type { Log, ServiceDeps } from "../../src/services/types.js";
import { inputsDigest, type Store } from "../../src/store/index.js";
import { openTestStore, type TestStoreContext } from "../helpers/db.js";
import { FakeGitHub, pull, repo } from "../helpers/fake-github-port.js";

const REPO = "octo/app";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits (by polling pg_locks, not by measuring time) until `count` sessions wait for one of our advisory locks. */
async function waitForAdvisoryWaiters(observer: Store, count: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const rows = (await observer.db.execute(
      sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
    )) as unknown as Array<{ n: number }>;
    if ((rows[0]?.n ?? 0) >= count) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("no session ever waited on the advisory lock");
}

function evaluation(pullRequest: number, headSha: string, decision = "action_required") {
  return {
    repository: REPO,
    pullRequest,
    headSha,
    baseRef: "main",
    baseSha: "b".repeat(40),
    policySource: ".github/agent-gate.yml",
    inputsDigest: inputsDigest({ headSha }),
    risk: "medium",
    findings: [],
    requirements: [],
    decision,
  };
}

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** One App process: the real service over DatabaseGateStore on its own Store; GitHub (a fake port) is shared. */
function appProcess(store: Store, github: FakeGitHub): ServiceDeps {
  return { github, log: silent, store: new DatabaseGateStore(store), clock: () => new Date("2026-03-01T12:00:30Z"), appId: 1, enforcement: new TtlEnforcementCache() };
}

const head = (sha: string, updatedAt: string) => pull({ number: 3, headSha: sha, updatedAt });

function event(pr: PullRequestInfo, deliveryId: string): EvaluationTarget {
  return { repo, number: pr.number, pull: pr, deliveryId, event: "pull_request.synchronize" };
}

describe("two App processes on one Postgres", () => {
  let ctx: TestStoreContext;
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    ctx = await openTestStore("postgres");
    a = ctx.store;
    b = await ctx.openAnother();
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("invariant 9 (serialised per PR): withPullRequestLock callers from two Store instances never interleave", async () => {
    const log: string[] = [];
    const aInside = deferred();
    const releaseA = deferred();
    const first = a.withPullRequestLock(REPO, 1, async (tx) => {
      log.push("A:start");
      aInside.resolve();
      await releaseA.promise;
      await tx.evaluations.record(evaluation(1, "a".repeat(40)));
      log.push("A:end");
    });
    await aInside.promise;
    let seenByB: string | undefined;
    const second = b.withPullRequestLock(REPO, 1, async (tx) => {
      log.push("B:start");
      seenByB = (await tx.evaluations.latestFor(REPO, 1))?.headSha;
      log.push("B:end");
    });
    await waitForAdvisoryWaiters(a, 1);
    // Another PR is not held up by PR 1's lock.
    await b.withPullRequestLock(REPO, 2, async () => {
      log.push("B:pr2");
    });
    expect(log).toEqual(["A:start", "B:pr2"]);
    releaseA.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(["A:start", "B:pr2", "A:end", "B:start", "B:end"]);
    // B ran after A committed, so it saw A's evaluation.
    expect(seenByB).toBe("a".repeat(40));
  });

  it("invariant 9 (stale head): an older head's evaluation that holds the lock first publishes on that head only; the newer head's follows and is the PR's decision", async () => {
    const older = head("1".repeat(40), "2026-03-01T12:00:00Z");
    const newer = head("2".repeat(40), "2026-03-01T12:00:07Z");
    const github = new FakeGitHub();
    github.current = older;
    // Process A starts on the older head and is reading the files when the newer push arrives at process B.
    const releaseA = deferred();
    github.gate = releaseA.promise;
    const olderRun = evaluatePullRequest(appProcess(a, github), event(older, "delivery-older"));
    while (!github.calls.includes("listPullRequestFiles")) await nextTurn();
    github.current = newer;
    const newerRun = evaluatePullRequest(appProcess(b, github), event(newer, "delivery-newer"));
    await waitForAdvisoryWaiters(a, 1);
    releaseA.resolve();
    const [olderOutcome, newerOutcome] = await Promise.all([olderRun, newerRun]);
    // No PR re-read before publishing (issue 12): the older decision's check is bound to the older head, which
    // GitHub does not require on the PR any more, and the newer head's evaluation runs after it, in order.
    expect([olderOutcome.kind, newerOutcome.kind]).toEqual(["published", "published"]);
    expect(github.checks.map((c) => c.headSha)).toEqual([older.headSha, newer.headSha]);
    expect((await a.evaluations.latestFor(`${repo.owner}/${repo.repo}`, 3))?.headSha).toBe(newer.headSha);
  });

  it("invariant 9 (stale head): the other order, and GitHub answering with the older head (a lagging read), still ends with the newest decision", async () => {
    const older = head("3".repeat(40), "2026-03-01T12:00:00Z");
    const newer = head("4".repeat(40), "2026-03-01T12:01:00Z");
    const github = new FakeGitHub();
    github.current = { ...newer, number: 4 };
    expect((await evaluatePullRequest(appProcess(b, github), event({ ...newer, number: 4 }, "delivery-4-newer"))).kind).toBe("published");
    // The late event, and a read that still shows the older head: only the store knows a newer head was seen.
    github.current = { ...older, number: 4 };
    expect((await evaluatePullRequest(appProcess(a, github), event({ ...older, number: 4 }, "delivery-4-older"))).kind).toBe("superseded");
    expect(github.checks.map((c) => c.headSha)).toEqual([newer.headSha]);
    expect((await b.evaluations.latestFor(`${repo.owner}/${repo.repo}`, 4))?.headSha).toBe(newer.headSha);
  });

  it("invariant 8 (no fork): concurrent appends from two Store instances keep one chain", async () => {
    const before = (await a.audit.head()).count;
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      appends.push(a.audit.append({ kind: "label_set", repository: REPO, pullRequest: 100, payload: { from: "a", i } }));
      appends.push(b.audit.append({ kind: "label_set", repository: REPO, pullRequest: 100, payload: { from: "b", i } }));
    }
    await Promise.all(appends);
    const result = await b.audit.verify({ batchSize: 17 });
    expect(result).toMatchObject({ ok: true, count: before + 120 });
    const rows = (await a.db.execute(
      sql`select count(distinct prev_hash)::int as links, count(*)::int as n from audit_log`,
    )) as unknown as Array<{ links: number; n: number }>;
    expect(rows[0]).toEqual({ links: before + 120, n: before + 120 });
  });

  it("the UNIQUE prev_hash constraint refuses a second entry on the same link (last line of defence)", async () => {
    const head = await a.audit.head();
    await expect(
      a.db.execute(
        sql`insert into audit_log (created_at, kind, payload, prev_hash, hash) values (now(), 'label_set', '{}', (select prev_hash from audit_log where id = ${head.lastId}), ${"f".repeat(64)})`,
      ),
    ).rejects.toThrow();
    expect(await a.audit.verify()).toMatchObject({ ok: true });
  });
});

describe("one process on PGlite", () => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore("pglite");
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("invariant 9 (serialised per PR): withPullRequestLock callers in one process run one after the other", async () => {
    const { store } = ctx;
    const log: string[] = [];
    const releaseA = deferred();
    const aInside = deferred();
    const first = store.withPullRequestLock(REPO, 1, async () => {
      log.push("A:start");
      aInside.resolve();
      await releaseA.promise;
      log.push("A:end");
    });
    await aInside.promise;
    const second = store.withPullRequestLock(REPO, 1, async () => {
      log.push("B:start");
      log.push("B:end");
    });
    for (let i = 0; i < 20; i++) await nextTurn();
    expect(log).toEqual(["A:start"]);
    releaseA.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(["A:start", "A:end", "B:start", "B:end"]);
  });

  it("invariant 9 (stale head): the newest head's decision is published last", async () => {
    const older = head("1".repeat(40), "2026-03-01T12:00:00Z");
    const newer = head("2".repeat(40), "2026-03-01T12:00:07Z");
    const github = new FakeGitHub();
    github.current = older;
    const releaseOlder = deferred();
    github.gate = releaseOlder.promise;
    const deps = appProcess(ctx.store, github);
    const olderRun = evaluatePullRequest(deps, event(older, "p-older"));
    while (!github.calls.includes("listPullRequestFiles")) await nextTurn();
    github.current = newer;
    const newerRun = evaluatePullRequest(deps, event(newer, "p-newer"));
    releaseOlder.resolve();
    const outcomes = await Promise.all([olderRun, newerRun]);
    // The lock orders them: the older head's check lands on the older head, then the newer one's (issue 12).
    expect(outcomes.map((o) => o.kind)).toEqual(["published", "published"]);
    expect(github.checks.map((c) => c.headSha)).toEqual([older.headSha, newer.headSha]);
    expect((await ctx.store.evaluations.latestFor(`${repo.owner}/${repo.repo}`, 3))?.headSha).toBe(newer.headSha);
  });

  it("invariant 8 (no fork): concurrent appends keep one chain", async () => {
    const { store } = ctx;
    const before = (await store.audit.head()).count;
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.audit.append({ kind: "label_set", payload: { i } })));
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: before + 50 });
  });
});
