/**
 * The job queue: pg-boss (https://github.com/timgit/pg-boss). On PGlite it runs on the store's one connection
 * through pg-boss's `db` adapter (`executeSql`), so Postgres and the embedded PGlite run the same engine; on both,
 * a job is enqueued inside the transaction that records its delivery (`send(..., { db: tx.sql })`). docs/app.md says why pg-boss and not
 * graphile-worker.
 *
 * A job carries only a key into `pending_work` (the durable copy of the work); coalescing happens there (one
 * row, so one job, per pull request). pg-boss gives us: fetch with SKIP LOCKED across replicas, retries with
 * exponential backoff, expiry of a job whose worker died (`expireInSeconds`, swept every
 * `maintenanceIntervalSeconds`), and a graceful stop that waits for running jobs and fails (retries) the rest.
 */
import { createRequire } from "node:module";
import PgBoss from "pg-boss";
import type { SqlRunner, Store } from "./store.js";

export const WORK_QUEUE = "agent-gate-work";

export interface JobQueueOptions {
  /**
   * Postgres: pg-boss's own small pool (`pg`) on this URL, since its maintenance sends `BEGIN; …; COMMIT` as one
   * statement, which postgres.js refuses on a pooled connection. Enqueueing still goes through our transaction.
   * Absent (PGlite): pg-boss runs on the store's one connection.
   */
  databaseUrl?: string | undefined;
  /** Connections of that pool (default 4). */
  maxConnections?: number | undefined;
  /**
   * A job still active this long is taken to be held by a dead worker and is retried (pg-boss fails it by
   * timeout). Longer than any evaluation, short enough that a kill -9 costs under a minute. Default 40.
   */
  expireInSeconds?: number | undefined;
  /** How often expired jobs are swept (default 10). */
  maintenanceIntervalSeconds?: number | undefined;
  /** Attempts after the first (default 5), spaced by `retryDelaySeconds` doubling each time (default 2). */
  retryLimit?: number | undefined;
  retryDelaySeconds?: number | undefined;
  /**
   * An idle worker asks for work this often (default 2 s, pg-boss's own default). Work enqueued by this process
   * wakes an idle worker at once (`notify`), and a worker that just finished a job asks again at once, so the
   * interval only bounds how soon a retry's backoff or another replica's enqueue is noticed.
   */
  pollingIntervalSeconds?: number | undefined;
  onError?: ((error: unknown) => void) | undefined;
}

export interface WorkJob {
  id: string;
  key: string;
  /** 0 on the first attempt. */
  retryCount: number;
  retryLimit: number;
}

export interface JobQueue {
  /** Enqueues a job for `key` inside the caller's transaction (`tx.sql`), optionally not before `delaySeconds`. */
  enqueue(sql: SqlRunner, key: string, options?: { delaySeconds?: number | undefined }): Promise<void>;
  /** Starts `concurrency` workers; each runs one job at a time. A throw is a failed attempt (retried). */
  work(concurrency: number, handler: (job: WorkJob) => Promise<void>): Promise<void>;
  /**
   * Wakes up to `jobs` of this process's idle workers (after the edge enqueued that many), instead of waiting for
   * their next poll. A busy worker needs no call: it fetches again as soon as its job ends.
   */
  notify(jobs: number): void;
  /** Stops taking jobs, waits up to `timeoutMs` for running ones, then fails the rest (they are retried). */
  stop(timeoutMs: number): Promise<void>;
  /**
   * Which of these keys have a job that will still run (waiting, in retry backoff or running), on any replica.
   * Reconciliation re-enqueues only work without one.
   */
  liveKeys(keys: string[]): Promise<Set<string>>;
}

type Settle = (...args: unknown[]) => Promise<unknown>;
interface ManagerPrototype {
  complete?: Settle;
  fail?: Settle;
}
const observed = new WeakSet<Settle>();
let settleError: (error: unknown) => void = () => {};

/**
 * pg-boss 10 settles a finished job with `this.complete(...)` / `this.fail(...)` without awaiting them (manager.js,
 * `onFetch`): with the database gone (an outage, a failover) their rejection is unhandled and Node ends the
 * process, taking every running evaluation with it. The job itself is safe (it stays active, expires and is
 * retried; a replayed job finds its pending work settled and does nothing), so the rejection only needs an owner.
 * Each call's promise gets a handler that reports the error; callers that await it still see it reject.
 */
function observeSettling(): void {
  const require = createRequire(import.meta.url);
  const manager = (require("pg-boss/src/manager.js") as { prototype?: ManagerPrototype }).prototype;
  if (!manager) return;
  for (const name of ["complete", "fail"] as const) {
    const original = manager[name];
    if (typeof original !== "function" || observed.has(original)) continue;
    const wrapped: Settle = function (this: unknown, ...args: unknown[]) {
      const settled = original.apply(this, args);
      settled.catch((error: unknown) => settleError(error));
      return settled;
    };
    observed.add(wrapped);
    manager[name] = wrapped;
  }
}

/**
 * Two replicas starting together on a fresh database both create the queue, and pg-boss's `create_queue` (a
 * table partition per queue) can deadlock with itself: one replica then failed to start. Postgres aborts one of
 * the two; that one finds the queue made by the other, or tries again.
 */
async function createQueueOnce(boss: PgBoss, queue: PgBoss.Queue & { name: string }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await boss.createQueue(queue.name, queue);
      return;
    } catch (error) {
      if (await boss.getQueue(queue.name).catch(() => null)) return;
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt + Math.random() * 200));
    }
  }
}

export async function openJobQueue(store: Store, options: JobQueueOptions = {}): Promise<JobQueue> {
  observeSettling();
  // The last queue opened reports them (one per process in the App; tests open one at a time).
  settleError = (error) => options.onError?.(error);
  const expireInSeconds = options.expireInSeconds ?? 40;
  const boss = new PgBoss({
    ...(options.databaseUrl
      ? { connectionString: options.databaseUrl, max: options.maxConnections ?? 4, application_name: "agent-gate-queue" }
      : { db: { executeSql: (text: string, values: unknown[]) => store.sql.executeSql(text, values) } }),
    schema: "pgboss",
    // Cron schedules are unused: fewer statements on the one PGlite connection.
    schedule: false,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 10,
    // Completed jobs are not needed once done: pending_work and the audit log are the record.
    archiveCompletedAfterSeconds: 600,
    deleteAfterDays: 1,
  });
  boss.on("error", (error) => options.onError?.(error));
  await boss.start();
  await createQueueOnce(boss, {
    name: WORK_QUEUE,
    policy: "standard",
    retryLimit: options.retryLimit ?? 5,
    retryDelay: options.retryDelaySeconds ?? 2,
    retryBackoff: true,
    expireInSeconds,
  });
  const workers: string[] = [];
  // Workers inside a job. Waking every worker for each new job made all the idle ones fetch, and all but one
  // fetched nothing: in the open-loop benchmark, three fetches for each job, one round trip each.
  const busy = new Set<string>();
  let nextToWake = 0;
  const pollingIntervalSeconds = options.pollingIntervalSeconds ?? 2;
  return {
    async enqueue(sql, key, enqueueOptions = {}) {
      const delay = enqueueOptions.delaySeconds;
      await boss.send(WORK_QUEUE, { key }, { db: { executeSql: (text: string, values: unknown[]) => sql.executeSql(text, values) }, ...(delay && delay > 0 ? { startAfter: Math.ceil(delay) } : {}) });
    },
    async work(concurrency, handler) {
      for (let i = 0; i < concurrency; i++) {
        const worker: { id?: string } = {};
        worker.id = await boss.work<{ key: string }>(WORK_QUEUE, { batchSize: 1, includeMetadata: true, pollingIntervalSeconds }, async ([job]) => {
          if (!job) return;
          if (worker.id !== undefined) busy.add(worker.id);
          try {
            await handler({ id: job.id, key: job.data.key, retryCount: job.retryCount, retryLimit: job.retryLimit });
          } finally {
            if (worker.id !== undefined) busy.delete(worker.id);
            // pg-boss would otherwise sleep out the rest of the interval after a short job, backlog or not.
            if (worker.id !== undefined) boss.notifyWorker(worker.id);
          }
        });
        workers.push(worker.id);
      }
    },
    notify(jobs) {
      // Round robin from where the last call stopped, so that one worker is not always the one woken.
      let woken = 0;
      for (let i = 0; i < workers.length && woken < jobs; i++) {
        const id = workers[(nextToWake + i) % workers.length]!;
        if (busy.has(id)) continue;
        boss.notifyWorker(id);
        woken++;
        nextToWake = (nextToWake + i + 1) % workers.length;
      }
    },
    async liveKeys(keys) {
      if (keys.length === 0) return new Set();
      // pg-boss's job states are an ordered enum: created < retry < active < completed < cancelled < failed.
      const { rows } = await store.sql.executeSql(
        "select distinct data->>'key' as key from pgboss.job where name = $1 and state < 'completed' and data->>'key' in (select jsonb_array_elements_text($2::jsonb))",
        [WORK_QUEUE, JSON.stringify(keys)],
      );
      return new Set(rows.map((r) => String(r.key)));
    },
    async stop(timeoutMs) {
      // close: false: the store owns the connection and closes it after us.
      await new Promise<void>((resolve) => {
        boss.once("stopped", () => resolve());
        boss.stop({ graceful: true, close: false, wait: true, timeout: Math.max(1000, timeoutMs) }).catch(() => resolve());
      });
    },
  };
}
