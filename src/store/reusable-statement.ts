/**
 * A statement built by drizzle once and then only bound: for the hot path's statements, run on every delivery.
 *
 * drizzle builds each query anew on every call: the query builder's tree, then its text and parameters
 * (`sqlToQuery`, an `is()` check per node and per parameter). Measured in the open-loop benchmark, that was 80 to
 * 260 µs of the App's CPU per statement on Node 24 (a wide insert costs the most), about 2 ms per decided delivery.
 * drizzle's own answer is a prepared query with placeholders (`sql.placeholder`), built once; but it keeps the
 * client it was prepared on, and the store runs the same statement on the pool and inside transactions. Here
 * it is built once per database (per drizzle session options, shared by a database and its transactions) and
 * bound to the caller's client on each run: a prepared query reads nothing else from its session. A drizzle
 * release that changes that shape fails `sessionOf` loudly (and test/store/reusable-statement.test.ts).
 */
import { sql } from "drizzle-orm";
import type { Placeholder, SQL } from "drizzle-orm";
import { rowsOf } from "./executor.js";
import type { Db } from "./executor.js";

interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

/** What a statement is built from: a query builder (drizzle maps its rows) or raw SQL (rows as the driver gives them). */
type Buildable<R> = { prepare(name: string): Prepared<R> } | SQL;

interface Session {
  client: unknown;
  options: object;
  dialect: { sqlToQuery(query: SQL): unknown };
  prepareQuery(query: unknown, fields: undefined, name: string, isResponseInArrayMode: boolean): Prepared<unknown>;
}

/** The drizzle session under a database or a transaction (`db._.session`), checked for what is used here. */
function sessionOf(db: Db): Session {
  const session = (db as unknown as { _?: { session?: Partial<Session> } })._?.session;
  if (!session || typeof session.options !== "object" || session.options === null || !("client" in session) || typeof session.prepareQuery !== "function" || !session.dialect) {
    throw new Error("drizzle's session no longer has the client, options, dialect and prepareQuery a reusable statement binds to");
  }
  return session as Session;
}

function isSql(value: unknown): value is SQL {
  return typeof (value as { prepare?: unknown }).prepare !== "function";
}

/** Builds once per database (see the module's comment) and binds to `db`'s client on each run. */
function reusable<V extends Record<string, unknown>, R>(name: string, build: (db: Db) => Buildable<R>): (db: Db, values: V) => Promise<R> {
  const built = new WeakMap<object, Prepared<R>>();
  return (db, values) => {
    const session = sessionOf(db);
    let template = built.get(session.options);
    if (template === undefined) {
      const statement = build(db);
      template = isSql(statement) ? (session.prepareQuery(session.dialect.sqlToQuery(statement), undefined, name, false) as Prepared<R>) : statement.prepare(name);
      built.set(session.options, template);
    }
    // The template's own `client` is the one it was first built on; this run's client shadows it.
    const bound = Object.create(template, { client: { value: session.client } }) as Prepared<R>;
    return bound.execute(values);
  };
}

/**
 * A query builder's statement: `build(db)` is called once per database, with placeholders (`sql.placeholder("name")`)
 * where the values go; the returned function runs it on `db` (the pool or a transaction) with `values` for them,
 * and answers what the builder would have (drizzle maps the rows).
 */
export function reusableStatement<V extends Record<string, unknown>, R>(name: string, build: (db: Db) => { prepare(name: string): Prepared<R> }): (db: Db, values: V) => Promise<R> {
  return reusable(name, build);
}

/** Raw SQL's statement, as `reusableStatement`; its rows come back as `queryRows` gives them (either driver). */
export function reusableRows<V extends Record<string, unknown>, T>(name: string, build: (db: Db) => SQL): (db: Db, values: V) => Promise<T[]> {
  const run = reusable<V, unknown>(name, build);
  return async (db, values) => rowsOf<T>(await run(db, values));
}

/** `{ a: sql.placeholder("a"), ... }`: a reusable statement's values by name, where the builder takes its values. */
export function placeholders<K extends string>(...names: K[]): Record<K, Placeholder<K>> {
  return Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])) as Record<K, Placeholder<K>>;
}
