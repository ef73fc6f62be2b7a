import { setImmediate as nextTurn } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { inputsDigest, type Store } from "../../src/store/index.js";
import { openTestStore, type TestStoreContext } from "../helpers/db.js";

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

/**
 * What the App does for one pull_request event: remember the head on receipt, then under the PR lock evaluate,
 * refuse to publish for a stale head, record the decision with its audit entry in one transaction.
 */
async function processEvent(
  store: Store,
  event: { pr: number; sha: string; updatedAt: Date },
  published: string[],
  beforePublish?: () => Promise<void>,
): Promise<"published" | "stale"> {
  await store.evaluations.observeHead(REPO, event.pr, event.sha, event.updatedAt);
  return store.withPullRequestLock(REPO, event.pr, async (tx) => {
    await beforePublish?.();
    if (await tx.evaluations.isStale(REPO, event.pr, event.sha, event.updatedAt)) return "stale";
    const recorded = await tx.evaluations.record(evaluation(event.pr, event.sha));
    await tx.audit.append({ kind: "evaluation_decided", repository: REPO, pullRequest: event.pr, payload: { evaluationId: recorded.id, headSha: event.sha } });
    published.push(event.sha);
    return "published";
  });
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

  it("invariant 9 (stale head): a late event for an older head cannot publish over the newer head's decision", async () => {
    const pr = 3;
    const older = { pr, sha: "1".repeat(40), updatedAt: new Date("2026-03-01T12:00:00Z") };
    const newer = { pr, sha: "2".repeat(40), updatedAt: new Date("2026-03-01T12:00:07Z") };
    const published: string[] = [];
    // Process A starts on the older head and is inside the lock when the newer push arrives at process B.
    const olderInside = deferred();
    const releaseOlder = deferred();
    const olderRun = processEvent(a, older, published, async () => {
      olderInside.resolve();
      await releaseOlder.promise;
    });
    await olderInside.promise;
    const newerRun = processEvent(b, newer, published);
    await waitForAdvisoryWaiters(a, 1);
    releaseOlder.resolve();
    expect(await Promise.all([olderRun, newerRun])).toEqual(["stale", "published"]);
    expect(published).toEqual([newer.sha]);
    expect((await a.evaluations.latestFor(REPO, pr))?.headSha).toBe(newer.sha);
  });

  it("invariant 9 (stale head): the other order (newest processed first) also ends with the newest head's decision", async () => {
    const pr = 4;
    const older = { pr, sha: "3".repeat(40), updatedAt: new Date("2026-03-01T12:00:00Z") };
    const newer = { pr, sha: "4".repeat(40), updatedAt: new Date("2026-03-01T12:01:00Z") };
    const published: string[] = [];
    expect(await processEvent(b, newer, published)).toBe("published");
    expect(await processEvent(a, older, published)).toBe("stale");
    expect(published).toEqual([newer.sha]);
    expect((await b.evaluations.latestFor(REPO, pr))?.headSha).toBe(newer.sha);
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

  it("invariant 9 (stale head): the newest head's decision wins", async () => {
    const { store } = ctx;
    const published: string[] = [];
    const older = { pr: 3, sha: "1".repeat(40), updatedAt: new Date("2026-03-01T12:00:00Z") };
    const newer = { pr: 3, sha: "2".repeat(40), updatedAt: new Date("2026-03-01T12:00:07Z") };
    const results = await Promise.all([processEvent(store, older, published), processEvent(store, newer, published)]);
    expect(results).toEqual(["stale", "published"]);
    expect((await store.evaluations.latestFor(REPO, 3))?.headSha).toBe(newer.sha);
  });

  it("invariant 8 (no fork): concurrent appends keep one chain", async () => {
    const { store } = ctx;
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.audit.append({ kind: "label_set", payload: { i } })));
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: 51 });
  });
});
