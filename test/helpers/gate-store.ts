/**
 * The App's one GateStore in tests: a real `DatabaseGateStore` over an in-memory PGlite, with the real migrations.
 * What a test wants to see of what was recorded it reads back from the database (the audit log, the tables), as an
 * auditor would, rather than from a second, in-memory implementation of the store.
 *
 * Opening and migrating PGlite costs seconds, so each test file (vitest runs every file in its own process) opens
 * one database on first use, and `freshGateStore()` empties it for the next app: TRUNCATE of every table, about
 * 60-110 ms under load, where a PGlite `clone()` of a migrated template took 5 s and `loadDataDir` of a dump 5.7 s.
 * The audit log's append-only trigger refuses TRUNCATE, so it is switched off for that one statement.
 */
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import type { GateStore, PullRequestKey, PullRequestScope } from "../../src/services/types.js";
import { MEMORY_DATA_DIR, openStore } from "../../src/store/index.js";
import type { AuditEntry, AuditKind, Store } from "../../src/store/index.js";

let shared: Promise<Store> | undefined;

/** An audit entry with its payload parsed. */
export type ReadEntry = Omit<AuditEntry, "payload"> & { payload: Record<string, unknown> };

/** The database store, plus reads of what it recorded. */
export class TestGateStore extends DatabaseGateStore {
  /** Audit entries, oldest first, optionally of one kind. */
  async audit(kind?: AuditKind): Promise<ReadEntry[]> {
    const out: ReadEntry[] = [];
    for await (const entry of this.store.audit.export()) {
      if (kind === undefined || entry.kind === kind) out.push({ ...entry, payload: JSON.parse(entry.payload) as Record<string, unknown> });
    }
    return out;
  }

  /** Every decision recorded (`evaluation_decided`, including "could not evaluate"), oldest first: its delivery and payload. */
  async decisions(): Promise<Array<Record<string, unknown> & { deliveryId: string | null }>> {
    return (await this.audit("evaluation_decided")).map((e) => ({ ...e.payload, deliveryId: e.deliveryId }));
  }

  /** Prepares state as an earlier delivery would have (e.g. a review request made before a restart); commits at the end. */
  prepare(key: PullRequestKey, fn: (scope: PullRequestScope) => Promise<void>): Promise<void> {
    return this.withPullRequestLock(key, fn);
  }
}

async function emptyAll(store: Store): Promise<void> {
  const { rows } = await store.sql.executeSql("select tablename from pg_tables where schemaname = 'public'");
  const tables = rows.map((r) => `"${String(r.tablename)}"`).join(", ");
  await store.sql.executeSql("alter table audit_log disable trigger user");
  try {
    await store.sql.executeSql(`truncate ${tables} restart identity cascade`);
  } finally {
    await store.sql.executeSql("alter table audit_log enable trigger user");
  }
}

/** This file's database, emptied: a store as a newly installed App has it. */
export async function freshGateStore(): Promise<TestGateStore> {
  const first = shared === undefined;
  shared ??= openStore({ dataDir: MEMORY_DATA_DIR });
  const store = await shared;
  // The first caller gets the database as migrated; later ones get it emptied of what earlier apps recorded.
  if (!first) await emptyAll(store);
  return new TestGateStore(store);
}

/** For a stage that must not touch the store (publish, the telemetry requirement): any use fails the test. */
export const UNUSED_GATE_STORE: GateStore = {
  latestDecision: () => Promise.reject(new Error("this stage must not read the store")),
  recordMergeGroup: () => Promise.reject(new Error("this stage must not write the store")),
  withPullRequestLock: () => Promise.reject(new Error("this stage must not take a pull request's lock")),
};
