// The per-PR session lock on Postgres (withPullRequestSessionLock) across two App processes on one database.
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { MIN_POOL_SIZE, StoreUnavailableError, openStore, storeOptionsFromEnv } from "../../src/store/index.js";
import type { Store } from "../../src/store/index.js";
import { createPostgresDatabase } from "../helpers/db.js";
import type { PostgresTestDatabase } from "../helpers/db.js";

let database: PostgresTestDatabase | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await database?.drop();
  database = undefined;
});

async function waitingLocks(store: Store): Promise<number> {
  const rows = (await store.db.execute(sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`)) as unknown as Array<{ n: number }>;
  return rows[0]?.n ?? 0;
}

describe("session-level PR locks on Postgres", () => {
  it(
    "invariant 9 (idempotent): two processes, each holding PRs the other waits on, both finish with the smallest pool",
    async () => {
      database = await createPostgresDatabase();
      const a = await openStore({ databaseUrl: database.url, migrate: true, maxConnections: MIN_POOL_SIZE });
      const b = await openStore({ databaseUrl: database.url, maxConnections: MIN_POOL_SIZE });
      stores.push(a, b);

      let go!: () => void;
      const gate = new Promise<void>((resolve) => (go = resolve));
      let acquired = 0;
      const finished: string[] = [];
      // An evaluation: holds the PR's lock, reads, then commits after checking the lock is still held.
      const evaluate = (store: Store, name: string, pr: number) =>
        store.withPullRequestSessionLock("octo/repo", pr, async (lock) => {
          acquired++;
          await gate;
          await store.deliveries.get(`${name}-${pr}`, 1);
          await store.transaction(async () => lock.assertHeld());
          finished.push(`${name}#${pr}`);
        });

      const holders = [evaluate(a, "a", 1), evaluate(a, "a", 2), evaluate(b, "b", 3), evaluate(b, "b", 4)];
      while (acquired < 4) await new Promise((resolve) => setTimeout(resolve, 10));
      // Events for the same PRs reach the other process, which must wait.
      const waiters = [evaluate(a, "a", 3), evaluate(a, "a", 4), evaluate(b, "b", 1), evaluate(b, "b", 2)];
      while ((await waitingLocks(a)) < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      go();
      await Promise.all([...holders, ...waiters]);

      // Every evaluation finishes (no process starved the other's pool), and on each PR the process that held
      // the lock finished before the one that waited for it. How holders and waiters of different PRs interleave
      // depends on the machine's load, so it is not asserted.
      expect([...finished].sort()).toEqual(["a#1", "a#2", "a#3", "a#4", "b#1", "b#2", "b#3", "b#4"]);
      for (const [holder, waiter] of [["a#1", "b#1"], ["a#2", "b#2"], ["b#3", "a#3"], ["b#4", "a#4"]] as const) {
        expect(finished.indexOf(holder)).toBeLessThan(finished.indexOf(waiter));
      }
    },
    60_000,
  );

  it("a pool too small to hold the lock connection, a waiter and a holder is refused at start-up", async () => {
    database = await createPostgresDatabase();
    await expect(openStore({ databaseUrl: database.url, maxConnections: 1 })).rejects.toThrow(StoreUnavailableError);
    expect(() => storeOptionsFromEnv({ DATABASE_POOL_SIZE: "2" })).toThrow(/DATABASE_POOL_SIZE must be an integer of at least 3, got "2"/);
    expect(storeOptionsFromEnv({ DATABASE_POOL_SIZE: "12" }).maxConnections).toBe(12);
  });

  it("an unparseable DATABASE_URL is one clear error that does not echo the password", async () => {
    const error = await openStore({ databaseUrl: "postgres://agent:s3cret@127.0.0.1:notaport/x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toBe("DATABASE_URL is not a valid Postgres URL");
    expect((error as Error).message).not.toContain("s3cret");
  });
});

describe("DatabaseGateStore on Postgres", () => {
  it("invariant 9 (idempotent): an evaluation whose lock connection was lost cannot go on to publish", async () => {
    database = await createPostgresDatabase();
    const store = await openStore({ databaseUrl: database.url, migrate: true });
    stores.push(store);
    const gate = new DatabaseGateStore(store);
    const outcome = gate.withPullRequestLock({ owner: "octo", repo: "repo", number: 5, installationId: 1 }, async (scope) => {
      // Another session ends the connection that holds our session lock (a failover, an admin, a network cut).
      await store.db.execute(
        sql`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and objsubid = 2 and pid <> pg_backend_pid()`,
      );
      // The service records its decision right before publishing (the check names that record): refused.
      await expect(
        scope.recordDecision({
          key: { owner: "octo", repo: "repo", number: 5, installationId: 1 },
          deliveryId: "guid-lost",
          event: "pull_request.opened",
          headSha: "a".repeat(40),
          baseRef: "main",
          baseSha: "b".repeat(40),
          checkName: "Agent Gate: approval (main)",
          conclusion: "failure",
          risk: null,
          decision: null,
          reason: "Could not evaluate",
          policy: { source: "preset", ref: "b".repeat(40) },
          evaluatedAt: new Date(),
        }),
      ).rejects.toThrow(/lost the advisory lock/);
      return "went on";
    });
    // Nor does anything it queued commit at the end.
    await expect(outcome).rejects.toThrow(/lost the advisory lock/);
    const audit = (await store.db.execute(sql`select count(*)::int as n from audit_log`)) as unknown as Array<{ n: number }>;
    expect(audit[0]?.n).toBe(0);
  });
});
