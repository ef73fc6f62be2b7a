/**
 * What the reconciliation pass (src/services/reconcile.ts) reads and writes: named values in `app_state` (its
 * cursor into GitHub's webhook deliveries), a lease so that one replica at a time runs the pass, which delivery
 * GUIDs we recorded, and the pull request heads observed without a recorded decision.
 */
import { sql } from "drizzle-orm";
import type { Executor } from "./executor.js";
import { queryRows, toDate } from "./executor.js";

export interface UndecidedHead {
  repository: string;
  pullRequest: number;
  headSha: string;
  observedAt: Date;
}

export interface ReconciliationRepository {
  /** The value stored under `key`, or null. */
  getState<T>(key: string): Promise<T | null>;
  putState(key: string, value: unknown): Promise<void>;
  /**
   * Takes the lease `name` for `seconds` if nobody holds it (or its holder's time ran out): true when `holder`
   * now holds it. One statement, so two replicas asking at once cannot both get it.
   */
  claimLease(name: string, holder: string, seconds: number): Promise<boolean>;
  /** Gives the lease back, but keeps others off it for `keepSeconds` more (passes stay spaced across replicas). */
  releaseLease(name: string, holder: string, keepSeconds: number): Promise<void>;
  /** Which of these (installation, GUID) pairs have a delivery row, i.e. reached our edge and were taken. */
  knownDeliveries(deliveries: Array<{ installationId: number | null; guid: string }>): Promise<Set<string>>;
  /**
   * Pull requests whose newest observed head has no recorded evaluation, observed before `before` (older ones
   * only: a younger one may be in flight) and not yet asked for by the pass. Oldest first.
   */
  undecidedHeads(before: Date, limit: number): Promise<UndecidedHead[]>;
  /** Remembers that the pass asked for `headSha` to be evaluated, so it asks once per head. */
  markReconciled(repository: string, pullRequest: number, headSha: string): Promise<void>;
}

export function createReconciliation(exec: Executor): ReconciliationRepository {
  return {
    async getState<T>(key: string) {
      const [row] = await queryRows<{ value: unknown }>(exec.db(), sql`select value from app_state where key = ${key}`);
      if (!row) return null;
      return (typeof row.value === "string" ? JSON.parse(row.value) : row.value) as T;
    },
    async putState(key, value) {
      await exec.db().execute(
        sql`insert into app_state (key, value) values (${key}, ${JSON.stringify(value)}::jsonb)
            on conflict (key) do update set value = excluded.value, updated_at = now()`,
      );
    },
    async claimLease(name, holder, seconds) {
      const rows = await queryRows<{ key: string }>(
        exec.db(),
        sql`insert into app_state (key, value)
              values (${name}, jsonb_build_object('holder', ${holder}::text, 'until', now() + make_interval(secs => ${seconds}::double precision)))
            on conflict (key) do update set value = excluded.value, updated_at = now()
              where (app_state.value->>'until')::timestamptz <= now()
            returning key`,
      );
      return rows.length > 0;
    },
    async releaseLease(name, holder, keepSeconds) {
      await exec.db().execute(
        sql`update app_state set value = jsonb_build_object('holder', ${holder}::text, 'until', now() + make_interval(secs => ${keepSeconds}::double precision)), updated_at = now()
            where key = ${name} and value->>'holder' = ${holder}`,
      );
    },
    async knownDeliveries(deliveries) {
      if (deliveries.length === 0) return new Set();
      const pairs = JSON.stringify(deliveries.map((d) => ({ i: d.installationId ?? 0, g: d.guid })));
      const rows = await queryRows<{ guid: string }>(
        exec.db(),
        sql`select d.guid from webhook_deliveries d
            join jsonb_to_recordset(${pairs}::jsonb) as x(i bigint, g text) on d.installation_id = x.i and d.guid = x.g`,
      );
      return new Set(rows.map((r) => r.guid));
    },
    async undecidedHeads(before, limit) {
      const rows = await queryRows<{ repository: string; pull_request: number; head_sha: string; observed_at: unknown }>(
        exec.db(),
        sql`select h.repository, h.pull_request, h.head_sha, h.observed_at from pull_request_heads h
            where h.observed_at < ${before.toISOString()}::timestamptz
              and h.reconciled_head is distinct from h.head_sha
              and not exists (select 1 from evaluations e where e.repository = h.repository and e.head_sha = h.head_sha and e.pull_request = h.pull_request)
            order by h.observed_at limit ${limit}`,
      );
      return rows.map((r) => ({ repository: r.repository, pullRequest: Number(r.pull_request), headSha: r.head_sha, observedAt: toDate(r.observed_at) }));
    },
    async markReconciled(repository, pullRequest, headSha) {
      await exec.db().execute(sql`update pull_request_heads set reconciled_head = ${headSha} where repository = ${repository} and pull_request = ${pullRequest}`);
    },
  };
}
