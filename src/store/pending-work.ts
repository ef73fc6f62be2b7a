/**
 * Pending work: the durable copy of what a webhook asked for, one row per coalescing key (see `pendingWork` in
 * schema.ts). The edge `offer`s work inside the transaction that records the delivery; the job `take`s the row,
 * does the work, and `settle`s it. The job queue (pg-boss) carries only the key.
 */
import { and, eq, sql } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import type { Executor } from "./executor.js";
import { queryRows } from "./executor.js";
import { placeholders, reusableStatement } from "./reusable-statement.js";
import { pendingWork } from "./schema.js";

export interface FoldedDelivery {
  guid: string;
  event: string;
}

export interface PendingWork<W = unknown> {
  key: string;
  kind: string;
  installationId: number | null;
  work: W;
  deliveries: FoldedDelivery[];
  version: number;
  updatedAt: Date;
}

/** What a webhook asks to be done under a key, from one delivery. */
export interface PendingOffer {
  key: string;
  kind: string;
  installationId: number | null;
  work: unknown;
  delivery: FoldedDelivery;
}

/** The work of a pending row this transaction already holds locked (`select … for update`). */
export interface LockedWork {
  work: unknown;
}

/** A jsonb value as either driver returns it (postgres.js parses it; a text value is parsed here). */
export function jsonValue(value: unknown): unknown {
  return typeof value === "string" ? (JSON.parse(value) as unknown) : value;
}

/** A pending row's columns as sent: the work and the deliveries as JSON text (or placeholders for them). */
export interface PendingRowValues {
  key: unknown;
  kind: unknown;
  installationId: unknown;
  work: unknown;
  deliveries: unknown;
}

/** The offer's columns as `insertPendingWork` sends them. */
export function pendingRowValues({ key, kind, installationId, work, delivery }: PendingOffer): { key: string; kind: string; installationId: number | null; work: string; deliveries: string } {
  return { key, kind, installationId, work: JSON.stringify(work), deliveries: JSON.stringify([delivery]) };
}

/** Inserts the row as a new pending one, or nothing when its key is pending (`returning key` says which). */
export function insertPendingWork({ key, kind, installationId, work, deliveries }: PendingRowValues, where: SQL = sql``): SQL {
  return sql`insert into pending_work (key, kind, installation_id, work, deliveries)
             select ${key}, ${kind}, ${installationId}::bigint, ${work}::jsonb, ${deliveries}::jsonb ${where}
             on conflict (key) do nothing returning key`;
}

export interface PendingWorkRepository {
  /**
   * Records `work` under `key`: a new row ("created": the caller enqueues a job for it), or folded into the row
   * already pending ("folded": its job will do the newest work; no second job), merged by `fold` (default: the
   * newer replaces it). The delivery joins the row's list. The row is locked until the caller's transaction ends.
   */
  offer(input: PendingOffer, fold?: (older: unknown, newer: unknown) => unknown, locked?: LockedWork): Promise<"created" | "folded">;
  /**
   * The row as it is now, or null when there is nothing left to do. It is marked touched in the same statement:
   * reconciliation re-enqueues only work no job has touched for a while.
   */
  take<W>(key: string): Promise<PendingWork<W> | null>;
  /**
   * Deletes the row if it is still the `version` the job took (true). False when a newer event folded in
   * meanwhile: the caller runs the work again.
   */
  settle(key: string, version: number): Promise<boolean>;
  /** Rows untouched since `before` (their job may have died or given up): for reconciliation. */
  stale(before: Date, limit: number): Promise<Array<PendingWork>>;
  /** Marks a row touched now, so reconciliation does not re-enqueue it again at once. */
  touch(key: string): Promise<void>;
}

interface Row {
  key: string;
  kind: string;
  installation_id: number | string | null;
  work: unknown;
  deliveries: unknown;
  version: number;
  updated_at: Date | string;
}

function fromRow<W>(row: Row): PendingWork<W> {
  return {
    key: row.key,
    kind: row.kind,
    installationId: row.installation_id === null ? null : Number(row.installation_id),
    work: jsonValue(row.work) as W,
    deliveries: (jsonValue(row.deliveries) as FoldedDelivery[] | null) ?? [],
    version: Number(row.version),
    updatedAt: row.updated_at instanceof Date ? row.updated_at : new Date(row.updated_at),
  };
}

// Built once (reusableStatement): every job settles its work.
const settleStatement = reusableStatement<{ key: string; version: number }, Array<{ key: string }>>("pendingWork.settle", (db) => {
  const p = placeholders("key", "version");
  return db
    .delete(pendingWork)
    .where(and(eq(pendingWork.key, p.key), eq(pendingWork.version, p.version)))
    .returning({ key: pendingWork.key });
});

export function createPendingWork(exec: Executor): PendingWorkRepository {
  return {
    async offer(offer, fold, locked) {
      const { key, installationId, work, delivery } = offer;
      const deliveryJson = JSON.stringify([delivery]);
      // Two tries: the row may be settled (deleted) by its job between our insert and our update.
      for (let attempt = 0; attempt < 2; attempt++) {
        let current = attempt === 0 ? locked : undefined;
        if (!current) {
          const inserted = await queryRows<{ key: string }>(exec.db(), insertPendingWork(pendingRowValues(offer)));
          if (inserted.length > 0) return "created";
          const [row] = await queryRows<Row>(exec.db(), sql`select * from pending_work where key = ${key} for update`);
          if (!row) continue;
          current = { work: fromRow(row).work };
        }
        const merged = fold ? fold(current.work, work) : work;
        await exec.db().execute(
          sql`update pending_work set work = ${JSON.stringify(merged)}::jsonb, installation_id = ${installationId},
                deliveries = deliveries || ${deliveryJson}::jsonb, version = version + 1, updated_at = now()
              where key = ${key}`,
        );
        return "folded";
      }
      throw new Error(`pending work ${key} kept changing while it was offered`);
    },
    async take<W>(key: string) {
      const rows = await queryRows<Row>(exec.db(), sql`update pending_work set updated_at = now() where key = ${key} returning *`);
      return rows[0] ? fromRow<W>(rows[0]) : null;
    },
    async settle(key, version) {
      const deleted = await settleStatement(exec.db(), { key, version });
      return deleted.length > 0;
    },
    async stale(before, limit) {
      const rows = await queryRows<Row>(exec.db(), sql`select * from pending_work where updated_at < ${before.toISOString()}::timestamptz order by updated_at limit ${limit}`);
      return rows.map((r) => fromRow(r));
    },
    async touch(key) {
      await exec.db().update(pendingWork).set({ updatedAt: sql`now()` }).where(eq(pendingWork.key, key));
    },
  };
}


