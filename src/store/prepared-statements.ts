/**
 * Named prepared statements for drizzle's queries on postgres.js.
 *
 * drizzle sends every query as `client.unsafe(text, params, { prepare: false })` unless the caller built it with
 * `.prepare(name)`, which binds it to one session and so cannot serve a transaction. An unnamed statement with
 * parameters costs postgres.js two round trips every time (Parse and Describe to learn the parameter types, then
 * Bind and Execute) and Postgres a fresh parse and plan. A named one is described once per connection and then
 * bound and executed in one round trip. Measured over 3,000 sequential drizzle selects by key on local Postgres:
 * 168 µs of the App's CPU each unnamed, 107 µs named; the evaluation of one pull request sends about 45 statements.
 *
 * Patched on drizzle's postgres.js session class (the one transactions use too): `prepareQuery` is given a name
 * when the caller gave none, which is all drizzle looks at (`name !== undefined`). postgres.js keeps one statement
 * per distinct text on each connection and opens connections anew every 30 to 60 minutes (`max_lifetime`), so the
 * few texts whose shape varies (a multi-row insert) do not pile up. The client's own `prepare: false`
 * (StoreOptions.preparedStatements) still wins: postgres.js prepares only when both ask. If a drizzle release
 * changes the method's shape nothing is patched, and test/store/prepared-statements.test.ts fails.
 */
import { PostgresJsSession } from "drizzle-orm/postgres-js";

type PrepareQuery = (this: unknown, query: unknown, fields: unknown, name: string | undefined, ...rest: unknown[]) => unknown;

const PATCHED = Symbol.for("agent-gate.drizzle-postgres-js-prepared");

/** Patches drizzle's postgres.js session (idempotent); answers whether the patch is in place. */
export function prepareDrizzlePostgresQueries(): boolean {
  const proto = PostgresJsSession.prototype as unknown as { prepareQuery?: PrepareQuery; [PATCHED]?: true };
  if (proto[PATCHED]) return true;
  const original = proto.prepareQuery;
  // (query, fields, name, isResponseInArrayMode, customResultMapper, queryMetadata, cacheConfig) in drizzle 0.45.
  if (typeof original !== "function" || original.length < 3) return false;
  proto.prepareQuery = function (this: unknown, query, fields, name, ...rest) {
    return original.call(this, query, fields, name ?? "", ...rest);
  };
  proto[PATCHED] = true;
  return true;
}
