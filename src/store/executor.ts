/**
 * How repositories reach the database: either the store's top-level handle or a transaction.
 * Repositories are written once against `Executor`, so `store.x` and `tx.x` behave the same.
 */
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

export type Schema = typeof schema;
/** The drizzle database or transaction, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Executor {
  /** Database to run single statements on (asserts the caller is not misusing the top-level store). */
  db(): Db;
  /** Runs `fn` in a transaction: a new one at the top level, the current one inside a transaction. */
  inTx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

/** Rows of a raw `db.execute(sql)`: postgres.js returns an array, PGlite `{ rows }`. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}

export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "string" || typeof value === "number") return new Date(value);
  throw new TypeError(`expected a timestamp, got ${typeof value}`);
}

/** Advisory-lock namespaces (first key of the two-int form), so our locks never collide with others'. */
export const LOCK_NAMESPACE = {
  pullRequest: 1095188820,
  auditChain: 1095188821,
  migrations: 1095188822,
} as const;
