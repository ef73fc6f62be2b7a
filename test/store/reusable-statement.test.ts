/**
 * Issue 12 (CPU per decided delivery): the hot path's statements are built by drizzle once and then only bound
 * (src/store/reusable-statement.ts). What must hold: each run goes to the caller's own connection (the pool, or the
 * transaction it is in), one database's statement never reaches another's, rows come back as the builder's would,
 * and the audit chain's batches (one statement per size) still chain and verify.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reusableRows, reusableStatement } from "../../src/store/reusable-statement.js";
import { webhookDeliveries } from "../../src/store/schema.js";
import { openStore } from "../../src/store/index.js";
import { openTestStore, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";

const deliveryByGuid = reusableStatement<{ guid: string }, Array<{ guid: string; event: string; receivedAt: Date }>>("test.deliveryByGuid", (db) =>
  db
    .select({ guid: webhookDeliveries.guid, event: webhookDeliveries.event, receivedAt: webhookDeliveries.receivedAt })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.guid, sql.placeholder("guid"))),
);

const countByEvent = reusableRows<{ event: string }, { n: number }>("test.countByEvent", () => sql`select count(*)::int as n from webhook_deliveries where event = ${sql.placeholder("event")}`);

class Rollback extends Error {}

describe.each(TEST_DRIVERS)("reusable statements on %s", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("runs on the connection of the transaction it is called in, not the one it was first built on", async () => {
    // Built on the pool first.
    expect(await deliveryByGuid(ctx.store.db, { guid: "in-tx" })).toEqual([]);
    const seen = await ctx.store
      .transaction(async (tx) => {
        await tx.deliveries.begin({ guid: "in-tx", installationId: 1, event: "pull_request" });
        // Only the transaction's own connection sees its uncommitted row.
        const inside = await deliveryByGuid(tx.db, { guid: "in-tx" });
        const counted = await countByEvent(tx.db, { event: "pull_request" });
        throw new Rollback(JSON.stringify({ inside: inside.map((r) => r.guid), counted: counted[0]?.n }));
      })
      .catch((e: unknown) => (e instanceof Rollback ? (JSON.parse(e.message) as unknown) : Promise.reject(e)));
    expect(seen).toEqual({ inside: ["in-tx"], counted: 1 });
    // Rolled back with its transaction: the statement did not run on the pool.
    expect(await deliveryByGuid(ctx.store.db, { guid: "in-tx" })).toEqual([]);
    expect(await countByEvent(ctx.store.db, { event: "pull_request" })).toEqual([{ n: 0 }]);
  });

  it("answers the rows the query builder would, with the values bound anew on each run", async () => {
    await ctx.store.deliveries.begin({ guid: "mapped-1", installationId: 1, event: "issue_comment" });
    await ctx.store.deliveries.begin({ guid: "mapped-2", installationId: 1, event: "check_run" });
    const built = await ctx.store.db
      .select({ guid: webhookDeliveries.guid, event: webhookDeliveries.event, receivedAt: webhookDeliveries.receivedAt })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.guid, "mapped-1"));
    const reused = await deliveryByGuid(ctx.store.db, { guid: "mapped-1" });
    expect(reused).toEqual(built);
    expect(reused[0]?.receivedAt).toBeInstanceOf(Date);
    expect((await deliveryByGuid(ctx.store.db, { guid: "mapped-2" })).map((r) => r.event)).toEqual(["check_run"]);
  });

  it("a second database has its own statement: it never reads the first one's rows", async () => {
    // The other driver too: its statement is its own, built by its own session.
    const other = await openTestStore(driver === "postgres" ? "pglite" : "postgres");
    const sameDriver = driver === "postgres" ? await ctx.openAnother() : await openStore({ dataDir: "memory://" });
    try {
      expect(await deliveryByGuid(other.store.db, { guid: "mapped-1" })).toEqual([]);
      expect(await deliveryByGuid(ctx.store.db, { guid: "mapped-1" })).toHaveLength(1);
      // Another store on the same Postgres database reads the same rows; a second in-memory PGlite is another database.
      expect(await deliveryByGuid(sameDriver.db, { guid: "mapped-1" })).toHaveLength(driver === "postgres" ? 1 : 0);
    } finally {
      await other.cleanup();
      if (driver === "pglite") await sameDriver.close();
    }
  });

  it("chains audit batches of every size, those built once (1 to 4 entries) and larger ones, and the chain verifies", async () => {
    for (const size of [1, 2, 3, 4, 5, 6, 1]) {
      const entries = Array.from({ length: size }, (_, i) => ({ kind: "delivery_duplicate" as const, repository: "acme/widgets", pullRequest: size, deliveryId: `batch-${size}-${i}`, payload: { i } }));
      const appended = await ctx.store.transaction((tx) => tx.audit.appendAll(entries));
      expect(appended.map((e) => e.deliveryId)).toEqual(entries.map((e) => e.deliveryId));
    }
    expect(await ctx.store.audit.verify()).toMatchObject({ ok: true, count: 22 });
  });
});
