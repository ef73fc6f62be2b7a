/**
 * Reconciliation: recovers the work GitHub will never send again. GitHub does not redeliver a failed webhook by
 * itself, and a job can die or give up; without this pass a PR could wait forever on a check nobody publishes.
 * It runs at start-up and then every RECONCILE_INTERVAL_SECONDS (default 300; 0 turns it off), on one replica at
 * a time (a lease in `app_state`), and does three cheap things:
 *
 * 1. Deliveries GitHub failed to hand us: it walks the App's delivery log (`GET /app/hook/deliveries`, App JWT,
 *    100 a page, newest first) down to where the previous pass stopped (a cursor kept in `app_state`), at most
 *    `maxPages` pages a pass (the rest next pass, from where it stopped). A delivery whose newest attempt failed
 *    on GitHub's side (could not connect, timed out, or a 5xx, which the edge answers only when it recorded
 *    nothing) and whose GUID we have no row for is redelivered (`POST /app/hook/deliveries/{id}/attempts`);
 *    GitHub keeps the GUID, so the edge's dedup still holds. A delivery we refused on purpose (4xx: bad
 *    signature, malformed, over 25 MB) is not: it would be refused again.
 * 2. Work whose job died or gave up: a `pending_work` row no job has touched for `staleAfterSeconds` and with no
 *    live job in the queue gets a fresh job.
 * 3. Heads without a decision: a PR whose newest observed head has no recorded evaluation (its event never came,
 *    e.g. an evaluation of an older head saw it and stood down) is evaluated again, once per head.
 *
 * Cost, counted in the report and logged: a quiet pass is one request (the first page of the delivery log) made
 * with the App's JWT, so it never touches an installation's rate limit; plus one request per redelivery and per
 * repository of an undecided head (which installation it belongs to). Every bound is per pass.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { AppGitHub, HookDelivery } from "../github/port.js";
import type { Log } from "../services/types.js";
import type { Store } from "../store/index.js";
import type { JobQueue } from "../store/job-queue.js";
import { foldWork, pullRequestWorkKey } from "./routes.js";
import type { Work } from "./routes.js";

export interface ReconcileDeps {
  store: Store;
  queue: JobQueue;
  /** The App's delivery log and redelivery, authenticated as the App (JWT). */
  github: () => Promise<AppGitHub>;
  log: Log;
  /** Who holds the lease (default: host, pid and a random suffix). */
  holder?: string | undefined;
  clock?: (() => Date) | undefined;
}

export interface ReconcileOptions {
  /** Delivery-log pages (100 each) walked per pass (default 3). */
  maxPages: number;
  /** Redeliveries asked for per pass (default 20). */
  maxRedeliveries: number;
  /** Pending work and undecided heads re-enqueued per pass (default 50 each). */
  maxRequeued: number;
  /** Work untouched this long, or a head observed this long ago without a decision, is recovered (default 600). */
  staleAfterSeconds: number;
  /** GitHub redelivers deliveries of the last 3 days only; older ones are not looked at. */
  maxAgeHours: number;
  /** The lease outlives a pass that hangs by at most this (default 300). */
  leaseSeconds: number;
  /** After a pass, other replicas wait this long before the next (default: half the interval). */
  spacingSeconds: number;
}

export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = {
  maxPages: 3,
  maxRedeliveries: 20,
  maxRequeued: 50,
  staleAfterSeconds: 600,
  maxAgeHours: 72,
  leaseSeconds: 300,
  spacingSeconds: 150,
};

export interface ReconcileReport {
  /** False when another replica holds the lease (or ran a pass moments ago): nothing was done. */
  ran: boolean;
  /** GitHub requests this pass made (all with the App's JWT). */
  requests: number;
  /** Delivery-log entries looked at. */
  listed: number;
  /** GUIDs asked to be redelivered. */
  redelivered: string[];
  /** Pending work given a fresh job. */
  requeued: number;
  /** PRs whose undecided newest head was enqueued. */
  undecided: number;
  /** True when the walk reached the previous pass's cursor (false: it resumes there next pass). */
  caughtUp: boolean;
}

const LEASE = "reconcile.lease";
const CURSOR = "reconcile.deliveries";

/** Where the walk of the delivery log stopped. */
export interface DeliveryCursor {
  /** Every delivery up to this id has been looked at. */
  stopAt: number | null;
  /** A walk cut short by `maxPages`: continue from `cursor` down to `stopAt`; then everything up to `newest` is done. */
  resume: { cursor: string; stopAt: number | null; newest: number } | null;
}

/** GitHub could not hand it to us: connection failure or timeout (status 0), a 5xx, or 408/429. */
export function failedOnGitHub(d: HookDelivery): boolean {
  return d.statusCode === 0 || d.statusCode >= 500 || d.statusCode === 408 || d.statusCode === 429;
}

/** The newest attempt of each GUID among `deliveries` (listed newest first), when it failed on GitHub's side. */
export function failedGuids(deliveries: HookDelivery[]): HookDelivery[] {
  const seen = new Set<string>();
  const failed: HookDelivery[] = [];
  for (const d of deliveries) {
    if (seen.has(d.guid)) continue;
    seen.add(d.guid);
    if (failedOnGitHub(d)) failed.push(d);
  }
  return failed;
}

interface Walk {
  deliveries: HookDelivery[];
  cursor: DeliveryCursor;
  requests: number;
  caughtUp: boolean;
}

/** Walks the delivery log from the newest entry (or where a cut-short walk stopped) down to the cursor. */
export async function walkDeliveries(github: AppGitHub, from: DeliveryCursor, options: Pick<ReconcileOptions, "maxPages" | "maxAgeHours">, now: Date): Promise<Walk> {
  const stopAt = from.resume ? from.resume.stopAt : from.stopAt;
  let newest = from.resume?.newest ?? null;
  let page: string | null = from.resume?.cursor ?? null;
  const oldest = now.getTime() - options.maxAgeHours * 3_600_000;
  const deliveries: HookDelivery[] = [];
  for (let requests = 1; requests <= options.maxPages; requests++) {
    const { deliveries: items, next } = await github.listHookDeliveries(page, 100);
    let done = next === null || items.length === 0;
    for (const d of items) {
      if ((stopAt !== null && d.id <= stopAt) || d.deliveredAt.getTime() < oldest) {
        done = true;
        break;
      }
      newest = Math.max(newest ?? d.id, d.id);
      deliveries.push(d);
    }
    if (done) return { deliveries, cursor: { stopAt: newest ?? stopAt, resume: null }, requests, caughtUp: true };
    page = next;
  }
  return { deliveries, cursor: { stopAt: from.stopAt, resume: { cursor: page!, stopAt, newest: newest! } }, requests: options.maxPages, caughtUp: false };
}

/** Part 1: redeliver what GitHub failed to hand us and we never recorded. */
async function redeliverFailed(deps: ReconcileDeps, github: AppGitHub, options: ReconcileOptions, report: ReconcileReport): Promise<void> {
  const { store, log } = deps;
  const from = (await store.reconciliation.getState<DeliveryCursor>(CURSOR)) ?? { stopAt: null, resume: null };
  const walk = await walkDeliveries(github, from, options, (deps.clock ?? (() => new Date()))());
  report.requests += walk.requests;
  report.listed = walk.deliveries.length;
  report.caughtUp = walk.caughtUp;
  const failed = failedGuids(walk.deliveries);
  const known = await store.reconciliation.knownDeliveries(failed.map((d) => ({ installationId: d.installationId, guid: d.guid })));
  const missing = failed.filter((d) => !known.has(d.guid));
  for (const d of missing.slice(0, options.maxRedeliveries)) {
    report.requests++;
    try {
      await github.redeliverHookDelivery(d.id);
      report.redelivered.push(d.guid);
      log.info({ deliveryId: d.guid, event: d.action ? `${d.event}.${d.action}` : d.event, githubStatus: d.statusCode, attemptedAt: d.deliveredAt.toISOString() }, "reconcile: asked GitHub to redeliver a delivery we never received");
    } catch (error) {
      log.warn({ deliveryId: d.guid, err: error instanceof Error ? error.message : String(error) }, "reconcile: GitHub refused the redelivery");
    }
  }
  // Capped: keep the cursor where it was, so the next pass sees the rest (the ones asked for now are recorded by then).
  if (missing.length <= options.maxRedeliveries) await store.reconciliation.putState(CURSOR, walk.cursor);
}

/** Part 2: pending work whose job died or gave up gets a fresh job. */
async function requeueStalled(deps: ReconcileDeps, options: ReconcileOptions, now: Date): Promise<number> {
  const { store, queue } = deps;
  const stale = await store.pendingWork.stale(new Date(now.getTime() - options.staleAfterSeconds * 1000), options.maxRequeued);
  if (stale.length === 0) return 0;
  const live = await queue.liveKeys(stale.map((w) => w.key));
  const dead = stale.filter((w) => !live.has(w.key));
  for (const w of dead) {
    await store.transaction(async (tx) => {
      await tx.pendingWork.touch(w.key);
      await queue.enqueue(tx.sql, w.key);
    });
    deps.log.info({ key: w.key, untouchedSince: w.updatedAt.toISOString(), deliveries: w.deliveries.length }, "reconcile: work without a live job was enqueued again");
  }
  return dead.length;
}

/** Part 3: PRs whose newest observed head has no decision are evaluated (once per head). */
async function evaluateUndecided(deps: ReconcileDeps, github: AppGitHub, options: ReconcileOptions, now: Date, report: ReconcileReport): Promise<void> {
  const { store, queue, log } = deps;
  const heads = await store.reconciliation.undecidedHeads(new Date(now.getTime() - options.staleAfterSeconds * 1000), options.maxRequeued);
  const installations = new Map<string, number | null>();
  for (const head of heads) {
    const [owner = "", repo = ""] = head.repository.split("/");
    const repoKey = head.repository.toLowerCase();
    if (!installations.has(repoKey)) {
      report.requests++;
      installations.set(repoKey, await github.installationOf({ owner, repo }));
    }
    const installationId = installations.get(repoKey) ?? null;
    await store.transaction(async (tx) => {
      await tx.reconciliation.markReconciled(head.repository, head.pullRequest, head.headSha);
      if (installationId === null) return;
      const key = pullRequestWorkKey(installationId, { owner, repo }, head.pullRequest);
      const work: Work = { kind: "evaluate", target: { repo: { owner, repo }, installationId, number: head.pullRequest, event: "reconcile.undecided_head" } };
      const offered = await tx.pendingWork.offer({ key, kind: "evaluate", installationId, work, delivery: { guid: `reconcile:${head.headSha}`, event: "reconcile.undecided_head" } }, (older, newer) =>
        foldWork(older as Work, newer as Work),
      );
      if (offered === "created") await queue.enqueue(tx.sql, key);
    });
    if (installationId === null) continue;
    report.undecided++;
    log.info({ pr: `${head.repository}#${head.pullRequest}`, headSha: head.headSha, observedAt: head.observedAt.toISOString() }, "reconcile: the newest head has no decision: evaluating it");
  }
}

/**
 * One pass, if this replica gets the lease (otherwise `ran: false` and nothing is done).
 * @throws when GitHub or the database fails; the lease is given back either way.
 */
export async function reconcileOnce(deps: ReconcileDeps, options: Partial<ReconcileOptions> = {}): Promise<ReconcileReport> {
  const o = { ...DEFAULT_RECONCILE_OPTIONS, ...options };
  const holder = deps.holder ?? defaultHolder();
  const report: ReconcileReport = { ran: false, requests: 0, listed: 0, redelivered: [], requeued: 0, undecided: 0, caughtUp: false };
  if (!(await deps.store.reconciliation.claimLease(LEASE, holder, o.leaseSeconds))) return report;
  report.ran = true;
  try {
    const now = (deps.clock ?? (() => new Date()))();
    const github = await deps.github();
    await redeliverFailed(deps, github, o, report);
    report.requeued = await requeueStalled(deps, o, now);
    await evaluateUndecided(deps, github, o, now, report);
    if (report.requeued + report.undecided > 0) deps.queue.notify(report.requeued + report.undecided);
    return report;
  } finally {
    await deps.store.reconciliation.releaseLease(LEASE, holder, o.spacingSeconds).catch(() => {});
  }
}

let processHolder: string | undefined;
function defaultHolder(): string {
  processHolder ??= `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  return processHolder;
}

export interface Reconciler {
  /** Stops the timer and waits for a running pass. */
  stop(): Promise<void>;
}

/** Runs `reconcileOnce` after `firstDelayMs`, then every `intervalSeconds`; errors are logged, never thrown. */
export function startReconciler(deps: ReconcileDeps, schedule: { intervalSeconds: number; firstDelayMs?: number | undefined }, options: Partial<ReconcileOptions> = {}): Reconciler {
  const intervalMs = schedule.intervalSeconds * 1000;
  const passOptions = { spacingSeconds: schedule.intervalSeconds / 2, ...options };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = async () => {
    try {
      const report = await reconcileOnce(deps, passOptions);
      if (report.ran) deps.log.info({ ...report, redelivered: report.redelivered.length }, "reconcile: pass done");
    } catch (error) {
      deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, "reconcile: the pass failed; the next one tries again");
    }
  };
  const arm = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(() => arm(intervalMs));
    }, ms);
    timer.unref();
  };
  arm(schedule.firstDelayMs ?? Math.min(5000, intervalMs));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
