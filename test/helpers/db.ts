/**
 * Fresh databases for storage tests: a new Postgres database per test file on 127.0.0.1:5432 (dropped
 * afterwards) and an in-memory PGlite. Both get the real migrations through openStore/migrate.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { migrate, openStore, type Store, type StoreOptions } from "../../src/store/index.js";

export const PG_ADMIN_URL = process.env.AGENT_GATE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type TestDriver = "postgres" | "pglite";
export const TEST_DRIVERS: readonly TestDriver[] = ["postgres", "pglite"];

export interface PostgresTestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** CREATE DATABASE agent_gate_test_<random>; `drop()` removes it even if connections are still open. */
export async function createPostgresDatabase(): Promise<PostgresTestDatabase> {
  const name = `agent_gate_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const a = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end({ timeout: 5 });
      }
    },
  };
}

export interface TestStoreContext {
  driver: TestDriver;
  store: Store;
  /** Options that reach the same database (Postgres URL; for PGlite only the in-memory marker). */
  options: StoreOptions;
  /** Another Store on the same database, like a second App process (Postgres only). */
  openAnother(): Promise<Store>;
  cleanup(): Promise<void>;
}

/** A migrated store on a fresh database of the given driver. */
export async function openTestStore(driver: TestDriver): Promise<TestStoreContext> {
  const extra: Store[] = [];
  if (driver === "postgres") {
    const database = await createPostgresDatabase();
    const options: StoreOptions = { databaseUrl: database.url };
    await migrate(options);
    const store = await openStore(options);
    return {
      driver,
      store,
      options,
      async openAnother() {
        const s = await openStore(options);
        extra.push(s);
        return s;
      },
      async cleanup() {
        for (const s of [store, ...extra]) await s.close();
        await database.drop();
      },
    };
  }
  const options: StoreOptions = { dataDir: "memory://" };
  const store = await openStore(options);
  return {
    driver,
    store,
    options,
    openAnother() {
      return Promise.reject(new Error("PGlite is one process: a second instance cannot share an in-memory database"));
    },
    async cleanup() {
      await store.close();
    },
  };
}

/** A temporary PGlite data directory, removed by the returned function. */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "agent-gate-pglite-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The rows of a raw query, whichever driver answers it (postgres.js returns an array, PGlite `{ rows }`). */
export async function rows<T>(store: Store, query: string): Promise<T[]> {
  const result: unknown = await store.db.execute(sql.raw(query));
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Runs raw SQL (tests only: e.g. disabling the audit trigger to simulate an attacker with DDL rights). */
export async function rawSql(store: Store, text: string): Promise<void> {
  await store.db.execute(sql.raw(text));
}

/**
 * Bulk-loads CSV text with COPY (tests only: seeding 100,000 audit entries one INSERT at a time would be slow).
 * `target` is e.g. `audit_log (created_at, kind, ...)`.
 */
export async function copyCsv(store: Store, target: string, csv: string): Promise<void> {
  const client: unknown = (store.db as unknown as { $client: unknown }).$client;
  if (store.driver === "pglite") {
    const pglite = client as { query(q: string, p: unknown[], o: { blob: Blob }): Promise<unknown> };
    await pglite.query(`copy ${target} from '/dev/blob' with (format csv)`, [], { blob: new Blob([csv]) });
    return;
  }
  const pg = client as { unsafe(q: string): { writable(): Promise<NodeJS.WritableStream> } };
  const writable = await pg.unsafe(`copy ${target} from stdin with (format csv)`).writable();
  await pipeline(Readable.from([csv]), writable);
}
