/**
 * Issue 12 (CPU per decided delivery): drizzle's queries on Postgres go as named prepared statements, in a
 * transaction as outside one, unless the operator turned them off for a pooler (src/store/prepared-statements.ts).
 * A connection's named statements are visible only to that connection, so each check reads pg_prepared_statements
 * inside the transaction whose connection ran the query.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/index.js";
import { queryRows } from "../../src/store/executor.js";
import { prepareDrizzlePostgresQueries } from "../../src/store/prepared-statements.js";
import { openTestStore, type TestStoreContext } from "../helpers/db.js";

/** The named statements of the transaction's connection that read webhook_deliveries, after one such read. */
async function preparedDeliveryReads(store: Store): Promise<string[]> {
  return store.transaction(async (tx) => {
    expect(await tx.deliveries.get("no-such-delivery", 1)).toBeNull();
    const rows = await queryRows<{ statement: string }>(tx.db, sql`select statement from pg_prepared_statements where statement like ${"%from \"webhook_deliveries\"%"}`);
    return rows.map((r) => r.statement);
  });
}

describe("prepared statements on postgres", () => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore("postgres");
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("sends a drizzle query inside a transaction as a named prepared statement", async () => {
    const statements = await preparedDeliveryReads(ctx.store);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^select .* from "webhook_deliveries" where/);
  });

  it("with preparedStatements: false sends none, and the queries still answer", async () => {
    const unprepared = await openStore({ ...ctx.options, preparedStatements: false });
    try {
      expect(await preparedDeliveryReads(unprepared)).toEqual([]);
    } finally {
      await unprepared.close();
    }
  });

  // Last: the store patched drizzle when it was imported; the checks above must not depend on this call.
  it("the patch is in place and idempotent", () => {
    expect(prepareDrizzlePostgresQueries()).toBe(true);
    expect(prepareDrizzlePostgresQueries()).toBe(true);
  });
});
