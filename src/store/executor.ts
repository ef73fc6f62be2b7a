/**
 * How repositories reach the database: either the store's top-level handle or a transaction.
 * Repositories are written once against `Executor`, so `store.x` and `tx.x` behave the same.
 */
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
/**
 * The drizzle database or transaction, whichever driver is underneath. Made without the schema: the store builds
 * every query from the tables, never with drizzle's relational `db.query`, and a database given the schema builds a
 * relational query builder for every table each time it opens a transaction (about 1 % of the App's CPU).
 */
export type Db = PgDatabase<PgQueryResultHKT>;

export interface Executor {
  /** Database to run single statements on (asserts the caller is not misusing the top-level store). */
  db(): Db;
  /** Runs `fn` in a transaction: a new one at the top level, the current one inside a transaction. */
  inTx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

/** Rows of a raw `db.execute(sql)`: postgres.js returns an array, PGlite `{ rows }`. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

/** The rows of a raw statement's result, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null)?.rows;
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
