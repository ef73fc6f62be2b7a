/**
 * The database factory: postgres.js when a DATABASE_URL is given, embedded PGlite otherwise (a data directory,
 * default `.data/`, or `memory://`). Both run the same `migrations/` and the same repositories.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { ensurePrivateDir, tightenTree } from "./private-dir.js";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { createAuditRepository, type AuditRepository } from "./audit.js";
import { checkDatabaseUrl, describeConnectionError, describeDatabaseUrl, StoreUnavailableError, StoreUsageError } from "./errors.js";
import { LOCK_NAMESPACE, queryRows, type Db, type Executor } from "./executor.js";
import { prepareDrizzlePostgresQueries } from "./prepared-statements.js";
import { createAllRepositories, type Repositories } from "./repositories.js";

// Before any drizzle query on Postgres: named statements, one round trip each (./prepared-statements.ts).
prepareDrizzlePostgresQueries();

export const MEMORY_DATA_DIR = "memory://";
export const DEFAULT_DATA_DIR = ".data/";

export interface StoreOptions {
  /** postgres://… When set (and non-empty), Postgres is used; otherwise PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory (default `.data/`), or `memory://` for a throw-away in-memory database. */
  dataDir?: string | undefined;
  /** Operator-facing one-line messages (which database, migrations applied). */
  log?: ((msg: string) => void) | undefined;
  /**
   * Apply pending migrations while opening (default: true for `memory://`, false otherwise; the App passes true
   * at start-up). On Postgres this uses `migrate()`'s single connection before the pool opens.
   */
  migrate?: boolean | undefined;
  /** Postgres pool size (default 10). */
  maxConnections?: number | undefined;
  /** Seconds to wait for a Postgres connection (default 10). */
  connectTimeoutSeconds?: number | undefined;
  /** Where the migrations are (default: the package's `migrations/`). */
  migrationsFolder?: string | undefined;
  /**
   * Throw StoreUsageError when the store itself is used inside `transaction()` instead of its `tx` (default: on
   * unless NODE_ENV is production; see openStore).
   */
  guardTransactions?: boolean | undefined;
  /**
   * Named prepared statements on Postgres (default: true; ./prepared-statements.ts). Off, each statement with
   * parameters costs two round trips. (A pooler in transaction mode, which cannot keep them, cannot keep the
   * session-level PR locks either: the App needs a direct connection or session pooling, docs/deploy.md.)
   */
  preparedStatements?: boolean | undefined;
}

export interface HeldLock {
  /** @throws when the lock is no longer held (its connection was lost, so Postgres released it). */
  assertHeld(): Promise<void>;
}

/** Session-level advisory locks of one process: one reserved connection holds them all. */
interface SessionLocks {
  acquire(key: string): Promise<HeldLock & { release(): Promise<void> }>;
  close(): Promise<void>;
}

/** PGlite is one process with one connection: the in-process queue is the whole lock. */
const IN_PROCESS_ONLY: SessionLocks = {
  acquire: () => Promise.resolve({ assertHeld: () => Promise.resolve(), release: () => Promise.resolve() }),
  close: () => Promise.resolve(),
};

/** Smallest pool that leaves a waiter and the lock holders' statements room (the locks have a connection of their own). */
export const MIN_POOL_SIZE = 3;
/** A wait in Postgres's lock queue gives its pooled connection back after this long, then tries again. */
const LOCK_WAIT_TIMEOUT = "2s";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isLockTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "55P03";
}

/**
 * `lockClient` is a client of its own with one connection: it holds every session lock of this process. When
 * that connection dies Postgres releases its locks and postgres.js opens a new one for the next statement, where
 * `assertHeld` then finds the lock gone. (A connection reserved from the main pool would not do: postgres.js
 * crashes the process on a statement sent to a reserved connection the server has closed.)
 */
function postgresSessionLocks(client: postgres.Sql, lockClient: postgres.Sql, poolSize: number): SessionLocks {
  const ns = LOCK_NAMESPACE.pullRequest;
  // Waiters may never take the whole pool: leave at least two connections for the lock holders' statements.
  const waitSlots = Math.max(1, poolSize - 2);
  let waiting = 0;
  // Prepared (one round trip each, not two): a handful of fixed texts on one connection.
  const query = async <T extends postgres.Row>(text: string, key: string): Promise<T[]> => (await lockClient.unsafe(text, [key], { prepare: true })) as unknown as T[];
  return {
    async acquire(key) {
      for (;;) {
        const [row] = await query<{ ok: boolean }>(`select pg_try_advisory_lock(${ns}, hashtext($1)) as ok`, key);
        if (row?.ok) break;
        // Another process evaluates this pull request. Wait in Postgres's queue for it to finish, on a pooled
        // connection for the wait only (the shared lock connection must not block), then try again. Waiters may
        // never take the whole pool, and each wait is bounded: otherwise two processes, each holding PRs the
        // other waits on, could fill each other's pools with waiters and never commit (a deadlock Postgres
        // cannot see, since the holders wait on their client's pool, not on a lock).
        if (waiting >= waitSlots) {
          await sleep(25 + Math.random() * 50);
          continue;
        }
        waiting++;
        try {
          await client.begin(async (tx) => {
            await tx.unsafe(`set local lock_timeout = '${LOCK_WAIT_TIMEOUT}'`);
            await tx.unsafe(`select pg_advisory_xact_lock(${ns}, hashtext($1))`, [key]);
          });
        } catch (error) {
          if (!isLockTimeout(error)) throw error;
        } finally {
          waiting--;
        }
      }
      return {
        async assertHeld() {
          const rows = await query<{ held: boolean }>(
            `select exists(select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted and classid = ${ns}::oid and objid = hashtext($1)::oid and objsubid = 2) as held`,
            key,
          ).catch((error: unknown) => {
            throw new Error(`lost the advisory lock of ${key}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          });
          if (!rows[0]?.held) throw new Error(`lost the advisory lock of ${key} (its database connection was closed)`);
        },
        async release() {
          await query(`select pg_advisory_unlock(${ns}, hashtext($1))`, key).catch(() => {});
        },
      };
    },
    async close() {
      await lockClient.end({ timeout: 5 });
    },
  };
}

export interface PingResult {
  ok: boolean;
  driver: "postgres" | "pglite";
  error?: string;
}

/**
 * Plain SQL with `$n` parameters on the store's connection or on one transaction: the `db` adapter pg-boss takes
 * (`executeSql`), so the job queue runs on both drivers and can enqueue inside our own transactions.
 */
export interface SqlRunner {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** The repositories bound to one transaction (what `transaction` and `withPullRequestLock` hand you). */
export interface StoreTx extends Repositories {
  readonly audit: AuditRepository;
  /** The drizzle transaction, for anything the repositories do not cover. */
  readonly db: Db;
  /** The same transaction as plain SQL (for pg-boss's `send(..., { db })`). */
  readonly sql: SqlRunner;
}

export interface Store extends Repositories {
  readonly driver: "postgres" | "pglite";
  readonly audit: AuditRepository;
  /** The drizzle database, for anything the repositories do not cover. */
  readonly db: Db;
  /** Plain SQL on the store's pool (Postgres) or its one connection (PGlite): the job queue's database. */
  readonly sql: SqlRunner;
  /**
   * Runs `fn` in one database transaction: everything written through `tx` commits together or not at all.
   * Inside `fn` use only `tx`; calling the top-level store there throws StoreUsageError (on PGlite, with its
   * single connection, it would deadlock; on Postgres it would silently escape the transaction).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * `transaction`, serialised per pull request across every process on this database
   * (pg_advisory_xact_lock on the PR's key; also an in-process queue). Two events for one PR run one after
   * the other; the second sees what the first committed. Check `tx.evaluations.isStale(...)` before publishing.
   */
  withPullRequestLock<T>(repository: string, pullRequest: number, fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Serialised per pull request like `withPullRequestLock` (the same lock key, so the two exclude each other),
   * but without a transaction and without holding a pool connection while `fn` runs: on Postgres a session-level
   * advisory lock, taken with pg_try_advisory_lock on the one connection each store reserves for its locks (while
   * another process holds it, the caller waits in Postgres's lock queue on a pooled connection). `fn` writes
   * through the store or its own short `transaction`, and calls `lock.assertHeld()` before committing: the lock
   * goes when its connection does. PGlite: the in-process queue only.
   */
  withPullRequestSessionLock<T>(repository: string, pullRequest: number, fn: (lock: HeldLock) => Promise<T>): Promise<T>;
  /** For /healthz: never throws. */
  ping(): Promise<PingResult>;
  /** Closes the pool or the PGlite instance. Idempotent. */
  close(): Promise<void>;
}

/**
 * `DATABASE_URL`, `DATABASE_POOL_SIZE` and `AGENT_GATE_DATA_DIR` from the environment, as StoreOptions.
 * @throws {StoreUnavailableError} when DATABASE_POOL_SIZE is set but not an integer of at least MIN_POOL_SIZE.
 */
export function storeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<StoreOptions, "databaseUrl" | "dataDir" | "maxConnections"> {
  const pool = env.DATABASE_POOL_SIZE?.trim();
  const maxConnections = pool ? Number(pool) : undefined;
  if (maxConnections !== undefined && !(Number.isInteger(maxConnections) && maxConnections >= MIN_POOL_SIZE)) {
    throw new StoreUnavailableError(`DATABASE_POOL_SIZE must be an integer of at least ${MIN_POOL_SIZE}, got "${pool}"`, "DATABASE_POOL_SIZE");
  }
  return {
    databaseUrl: env.DATABASE_URL?.trim() ? env.DATABASE_URL.trim() : undefined,
    dataDir: env.AGENT_GATE_DATA_DIR?.trim() ? env.AGENT_GATE_DATA_DIR.trim() : DEFAULT_DATA_DIR,
    maxConnections,
  };
}

/** The package's migrations folder, found from this file whether it runs from src/ or dist/. */
export function defaultMigrationsFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "migrations");
    if (existsSync(path.join(candidate, "meta", "_journal.json"))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error("cannot find the migrations/ folder next to the agent-gate package");
}

function usesPostgres(options: StoreOptions): options is StoreOptions & { databaseUrl: string } {
  return typeof options.databaseUrl === "string" && options.databaseUrl.trim() !== "";
}

function pgliteTarget(dataDir: string): string {
  return dataDir === MEMORY_DATA_DIR ? "pglite:memory" : `pglite:${dataDir}`;
}

/**
 * @throws {StoreUnavailableError} when the URL is not a Postgres URL with a host and a database (checkDatabaseUrl),
 *   or cannot be parsed (postgres.js's own error would echo the password).
 */
function connectPostgres(url: string, options: StoreOptions, max: number): postgres.Sql {
  checkDatabaseUrl(url);
  try {
    return openPostgres(url, options, max);
  } catch (error) {
    throw new StoreUnavailableError("DATABASE_URL is not a valid Postgres URL", "(unparseable DATABASE_URL)", { cause: error });
  }
}

function openPostgres(url: string, options: StoreOptions, max: number): postgres.Sql {
  return postgres(url, {
    max,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    prepare: options.preparedStatements ?? true,
    // Notices such as "schema already exists, skipping" are noise for operators.
    onnotice: () => {},
    connection: { application_name: "agent-gate" },
  });
}

async function probePostgres(client: postgres.Sql, url: string): Promise<void> {
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    const target = describeDatabaseUrl(url);
    throw new StoreUnavailableError(`cannot use Postgres at ${target}: ${describeConnectionError(error)}`, target, { cause: error });
  }
}

async function openPglite(dataDir: string): Promise<PGlite> {
  try {
    if (dataDir === MEMORY_DATA_DIR) return await PGlite.create();
    ensurePrivateDir(dataDir);
    const client = await PGlite.create(dataDir);
    tightenTree(dataDir);
    // Every caller closes through here, so files PGlite created while open are tightened too (see private-dir.ts).
    const close = client.close.bind(client);
    client.close = async () => {
      await close();
      tightenTree(dataDir);
    };
    return client;
  } catch (error) {
    const target = pgliteTarget(dataDir);
    throw new StoreUnavailableError(`cannot open the embedded database in ${dataDir}: ${describeConnectionError(error)}`, target, { cause: error });
  }
}

async function appliedMigrationCount(db: Db): Promise<number> {
  const [exists] = await queryRows<{ t: string | null }>(db, sql`select to_regclass('drizzle.__drizzle_migrations')::text as t`);
  if (!exists?.t) return 0;
  const [row] = await queryRows<{ n: number | string }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return Number(row?.n ?? 0);
}

/**
 * Applies pending migrations with a single connection, then closes it. Safe to run from several processes at
 * once on Postgres (a session advisory lock serialises them). Returns how many migrations were applied.
 * @throws {StoreUnavailableError} when the database cannot be reached.
 */
export async function migrate(options: StoreOptions): Promise<{ applied: number; driver: "postgres" | "pglite" }> {
  const migrationsFolder = options.migrationsFolder ?? defaultMigrationsFolder();
  if (usesPostgres(options)) {
    const client = connectPostgres(options.databaseUrl, options, 1);
    await probePostgres(client, options.databaseUrl);
    try {
      const db = drizzlePostgres(client) as unknown as Db;
      await client.unsafe(`select pg_advisory_lock(${LOCK_NAMESPACE.migrations}, 0)`);
      try {
        const before = await appliedMigrationCount(db);
        await migratePostgres(drizzlePostgres(client), { migrationsFolder });
        const applied = (await appliedMigrationCount(db)) - before;
        options.log?.(`database ${describeDatabaseUrl(options.databaseUrl)}: ${applied} migration(s) applied`);
        return { applied, driver: "postgres" };
      } finally {
        await client.unsafe(`select pg_advisory_unlock(${LOCK_NAMESPACE.migrations}, 0)`).catch(() => {});
      }
    } finally {
      await client.end({ timeout: 5 });
    }
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const client = await openPglite(dataDir);
  try {
    return { applied: await migrateOpenPglite(client, migrationsFolder, dataDir, options.log), driver: "pglite" };
  } finally {
    await client.close();
  }
}

async function migrateOpenPglite(client: PGlite, migrationsFolder: string, dataDir: string, log: StoreOptions["log"]): Promise<number> {
  const drizzleDb = drizzlePglite(client);
  const db = drizzleDb as unknown as Db;
  const before = await appliedMigrationCount(db);
  await migratePglite(drizzleDb, { migrationsFolder });
  const applied = (await appliedMigrationCount(db)) - before;
  log?.(`embedded database ${pgliteTarget(dataDir)}: ${applied} migration(s) applied`);
  return applied;
}

type Rows = Array<Record<string, unknown>>;

/** Parameters as `pg` (which pg-boss is written for) sends them: undefined as NULL, plain objects as JSON text. */
function asPgParameter(value: unknown): unknown {
  if (value === undefined) return null;
  if (value !== null && typeof value === "object" && !(value instanceof Date) && !Array.isArray(value) && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value;
}

/**
 * The postgres.js or PGlite client under a drizzle database or transaction (drizzle keeps it as
 * `session.client`), as a SqlRunner. Statements without parameters may hold several commands (pg-boss's
 * maintenance runs `BEGIN; …; COMMIT`), which only the simple query protocol allows.
 */
function sqlRunner(driver: "postgres" | "pglite", db: Db): SqlRunner {
  const client = (db as unknown as { session: { client: unknown } }).session.client;
  if (driver === "postgres") {
    const pg = client as postgres.Sql;
    return {
      async executeSql(text, values) {
        const params = (values ?? []).map(asPgParameter) as postgres.ParameterOrJSON<never>[];
        // With parameters: prepared, as drizzle's are (./prepared-statements.ts); pg-boss's texts are fixed.
        const rows = params.length > 0 ? await pg.unsafe(text, params, { prepare: true }) : await pg.unsafe(text, [], { prepare: false }).simple();
        return { rows: (Array.isArray(rows) ? rows : []) as unknown as Rows };
      },
    };
  }
  const lite = client as Pick<PGlite, "query" | "exec">;
  return {
    async executeSql(text, values) {
      if (values && values.length > 0) return { rows: (await lite.query(text, values)).rows as Rows };
      const results = await lite.exec(text);
      return { rows: (results.at(-1)?.rows ?? []) };
    },
  };
}

/** Serialises async work per key inside this process. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** The advisory-lock key of a pull request. GitHub names are case-insensitive. */
export function pullRequestLockKey(repository: string, pullRequest: number): string {
  return `${repository.toLowerCase()}#${pullRequest}`;
}

/** An open database: its drizzle handle, driver, how to close it, and the session locks it offers. */
interface Connection {
  db: Db;
  driver: "postgres" | "pglite";
  closeClient: () => Promise<void>;
  sessionLocks: SessionLocks;
}

async function connectPostgresDriver(options: StoreOptions & { databaseUrl: string }, migrationsFolder: string | undefined): Promise<Connection> {
  const poolSize = options.maxConnections ?? 10;
  if (!(Number.isInteger(poolSize) && poolSize >= MIN_POOL_SIZE)) {
    throw new StoreUnavailableError(`the Postgres pool needs at least ${MIN_POOL_SIZE} connections, got ${poolSize}`, describeDatabaseUrl(options.databaseUrl));
  }
  if (options.migrate) await migrate({ ...options, migrationsFolder });
  const client = connectPostgres(options.databaseUrl, options, poolSize);
  await probePostgres(client, options.databaseUrl);
  const sessionLocks = postgresSessionLocks(client, connectPostgres(options.databaseUrl, options, 1), poolSize);
  options.log?.(`database: Postgres at ${describeDatabaseUrl(options.databaseUrl)}`);
  return {
    db: drizzlePostgres(client),
    driver: "postgres",
    sessionLocks,
    closeClient: async () => {
      await sessionLocks.close();
      await client.end({ timeout: 5 });
    },
  };
}

async function connectPgliteDriver(options: StoreOptions, migrationsFolder: string | undefined): Promise<Connection> {
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const client = await openPglite(dataDir);
  const shouldMigrate = options.migrate ?? dataDir === MEMORY_DATA_DIR;
  if (shouldMigrate && migrationsFolder) {
    try {
      await migrateOpenPglite(client, migrationsFolder, dataDir, options.log);
    } catch (error) {
      await client.close().catch(() => {});
      throw error;
    }
  }
  options.log?.(`database: embedded PGlite (${pgliteTarget(dataDir)})`);
  return { db: drizzlePglite(client), driver: "pglite", sessionLocks: IN_PROCESS_ONLY, closeClient: () => client.close() };
}

/** `select 1` within 5 s: the health check's answer. */
async function pingDatabase(db: Db, driver: "postgres" | "pglite"): Promise<PingResult> {
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no answer within 5 s")), 5000);
      timer.unref();
    });
    try {
      await Promise.race([db.execute(sql`select 1`), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { ok: true, driver };
  } catch (error) {
    return { ok: false, driver, error: describeConnectionError(error) };
  }
}

/**
 * Opens the store. With `databaseUrl` it connects to Postgres (and fails fast with StoreUnavailableError if it
 * cannot); otherwise it opens PGlite in `dataDir`.
 * @throws {StoreUnavailableError}
 */
export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const migrationsFolder = options.migrationsFolder ?? (options.migrate || options.dataDir === MEMORY_DATA_DIR ? defaultMigrationsFolder() : undefined);
  const { db, driver, closeClient, sessionLocks } = usesPostgres(options)
    ? await connectPostgresDriver(options, migrationsFolder)
    : await connectPgliteDriver(options, migrationsFolder);

  // A programming-error guard (the store used inside its own transaction: a deadlock on PGlite's one connection).
  // Off in production: on Node 20 and 22 an AsyncLocalStorage turns on V8's promise hooks, a JS call on every
  // promise the process makes (perf during a 600-delivery burst: 2.2 % of the samples in node:internal/async_hooks).
  const insideTransaction = (options.guardTransactions ?? process.env.NODE_ENV !== "production") ? new AsyncLocalStorage<true>() : undefined;
  const prLocks = new KeyedQueue();
  let closed: Promise<void> | undefined;

  const topLevel: Executor = {
    db() {
      if (insideTransaction?.getStore()) {
        throw new StoreUsageError("inside store.transaction()/withPullRequestLock() use the tx argument, not the store");
      }
      if (closed) throw new StoreUsageError("the store is closed");
      return db;
    },
    inTx(fn) {
      return topLevel.db().transaction((tx) => fn(tx as unknown as Db));
    },
  };

  function bind(exec: Executor): Repositories & { audit: AuditRepository } {
    return { ...createAllRepositories(exec), audit: createAuditRepository(exec) };
  }

  function txStore(tx: Db): StoreTx {
    const exec: Executor = { db: () => tx, inTx: (fn) => fn(tx) };
    return { ...bind(exec), db: tx, sql: sqlRunner(driver, tx) };
  }

  async function transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return topLevel.db().transaction((tx) => {
      const run = () => fn(txStore(tx));
      return insideTransaction ? insideTransaction.run(true, run) : run();
    });
  }

  const store: Store = {
    ...bind(topLevel),
    driver,
    db,
    sql: sqlRunner(driver, db),
    transaction,
    withPullRequestLock(repository, pullRequest, fn) {
      if (!Number.isInteger(pullRequest) || pullRequest < 1) throw new TypeError("pullRequest must be a positive integer");
      const key = pullRequestLockKey(repository, pullRequest);
      return prLocks.run(key, () =>
        transaction(async (tx) => {
          await tx.db.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(LOCK_NAMESPACE.pullRequest))}, hashtext(${key}))`);
          return fn(tx);
        }),
      );
    },
    withPullRequestSessionLock(repository, pullRequest, fn) {
      if (!Number.isInteger(pullRequest) || pullRequest < 1) throw new TypeError("pullRequest must be a positive integer");
      const key = pullRequestLockKey(repository, pullRequest);
      return prLocks.run(key, async () => {
        if (closed) throw new StoreUsageError("the store is closed");
        const lock = await sessionLocks.acquire(key);
        try {
          return await fn(lock);
        } finally {
          await lock.release();
        }
      });
    },
    ping: () => pingDatabase(db, driver),
    close() {
      closed ??= closeClient();
      return closed;
    },
  };
  return store;
}
