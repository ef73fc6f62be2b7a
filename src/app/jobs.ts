/**
 * What a job does: take the pending work of its key, hand it to its service, settle it. Also the in-process
 * path (`perform`), which the App uses without a job queue (tests, `probot.receive`).
 *
 * - A job whose work changed while it ran (a newer event folded in) runs it again, so the newest event is
 *   always evaluated after it arrived.
 * - Failures are attempts: the job throws and pg-boss retries it with backoff; when GitHub said how long to wait
 *   (Retry-After, an exhausted rate limit) a fresh job is scheduled for then instead. Only the last attempt
 *   may publish a "could not evaluate" check, naming the real cause; a database error never becomes a GitHub
 *   failure on the way.
 * - A job that finds no pending work (a replay after a crash that happened after settling) does nothing.
 */
import { retryAfterSeconds } from "../github/retry-after.js";
import { evaluatePullRequest } from "../services/evaluate-pull-request.js";
import { ingestTelemetry } from "../services/ingest-telemetry.js";
import type { TelemetryDeps } from "../services/ingest-telemetry.js";
import { checkMergeGroup } from "../services/merge-group.js";
import { applyOverride } from "../services/override.js";
import { recordPullRequestClosed } from "../services/record-closed.js";
import { evaluateCommit } from "../services/rerun.js";
import type { CommitWith, GateStore, Log } from "../services/types.js";
import type { AuditAppend, PendingWork, Store, StoreTx } from "../store/index.js";
import type { JobQueue, WorkJob } from "../store/job-queue.js";
import type { Work, WorkKind, WorkOf, WorkTargets } from "./routes.js";

export interface Attempt {
  /** The last attempt the queue will make: failures may now be published. */
  final: boolean;
}

/** A service as a job calls it: the work's target, and whether this is the last attempt. */
type Service<K extends WorkKind> = (deps: TelemetryDeps, target: WorkTargets[K], attempt: Attempt) => Promise<unknown>;

/**
 * The service of each kind of work: a table, not a switch, so the compiler refuses a kind without its service.
 * Only the last attempt may publish a failure (see the top of the file).
 */
const SERVICES: { [K in WorkKind]: Service<K> } = {
  evaluate: (deps, target, { final }) => evaluatePullRequest(deps, { ...target, publishFailure: final }),
  commit: (deps, target, { final }) => evaluateCommit(deps, { ...target, publishFailure: final }),
  // Which workflows count, and whether this run's telemetry is accepted, is the service's call (invariant 7).
  telemetry: (deps, target) => ingestTelemetry(deps, target),
  closed: (deps, target) => recordPullRequestClosed(deps, target),
  "merge-group": (deps, target, { final }) => checkMergeGroup(deps, { ...target, publishFailure: final }),
  override: (deps, target) => applyOverride(deps, target),
};

async function serve<K extends WorkKind>(deps: TelemetryDeps, work: WorkOf<K>, attempt: Attempt): Promise<void> {
  const service: Service<K> = SERVICES[work.kind];
  await service(deps, work.target, attempt);
}

/** Does one work with its service. @throws whatever the service threw (a failed attempt). */
export function perform(deps: TelemetryDeps, work: Work, attempt: Attempt): Promise<void> {
  return serve(deps, work, attempt);
}

export interface JobRunner {
  store: Store;
  queue: JobQueue;
  log: Log;
  /**
   * Service dependencies acting as the installation (an installation token). `replay`: an earlier attempt of
   * this job may have published before it died, so publishing looks for what it left first.
   */
  depsFor(installationId: number | null, attempt: { replay: boolean }): Promise<TelemetryDeps>;
}

/** Rounds one job may spend on work that keeps changing before it hands the key to a fresh job. */
const MAX_ROUNDS = 5;

export async function runJob(runner: JobRunner, job: WorkJob): Promise<void> {
  const final = job.retryCount >= job.retryLimit;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pending = await runner.store.pendingWork.take<Work>(job.key);
    // Taken and touched on every attempt (one statement): reconciliation re-enqueues only untouched work.
    if (!pending) return;
    const deps = await runner.depsFor(pending.installationId, { replay: job.retryCount > 0 });
    const fold = pending.work.kind === "evaluate" ? foldSettle(deps, pending) : null;
    try {
      await perform(fold?.deps ?? deps, pending.work, { final });
    } catch (error) {
      const wait = retryAfterSeconds(error);
      if (wait === null || final) throw error;
      runner.log.warn({ key: job.key, retryAfterSeconds: wait, err: error instanceof Error ? error.message : String(error) }, "GitHub asked us to wait: the work runs again then");
      await runner.store.transaction((tx) => runner.queue.enqueue(tx.sql, job.key, { delaySeconds: wait }));
      return;
    }
    // Settled in the evaluation's last transaction if it got that far (it returned, so that one committed).
    if (fold?.settled() ?? (await settle(runner.store, pending))) return;
    runner.log.debug({ key: job.key, round }, "a newer event folded in while the work ran: running it again");
  }
  await runner.store.transaction((tx) => runner.queue.enqueue(tx.sql, job.key));
}

/** The delivery a work was last offered for (`guid#pr` for a re-run that covers several pull requests). */
function primaryDelivery(work: Work): string | undefined {
  return work.target.deliveryId?.split("#")[0];
}

function scopeOf(work: Work): { repository: string; pullRequest: number | null } {
  const repository = `${work.target.repo.owner}/${work.target.repo.repo}`;
  return { repository, pullRequest: work.kind === "evaluate" || work.kind === "override" || work.kind === "closed" ? work.target.number : null };
}

/**
 * Deletes the work if no newer event folded in (false otherwise), and finishes the deliveries that folded into
 * it, each with a `delivery_coalesced` audit entry naming the delivery whose evaluation covered it (returned,
 * for the caller to append with its own).
 */
async function settleIn(tx: StoreTx, pending: PendingWork<Work>): Promise<{ settled: boolean; audit: AuditAppend[] }> {
  if (!(await tx.pendingWork.settle(pending.key, pending.version))) return { settled: false, audit: [] };
  const primary = primaryDelivery(pending.work);
  const { repository, pullRequest } = scopeOf(pending.work);
  const finished = new Set(await tx.deliveries.finishPending([...new Set(pending.deliveries.map((d) => d.guid))], pending.installationId, "processed"));
  const coalesced = pending.deliveries.filter((d) => finished.delete(d.guid) && d.guid !== primary);
  const audit = coalesced.map((delivery): AuditAppend => ({ kind: "delivery_coalesced", repository, pullRequest, deliveryId: delivery.guid, payload: { event: delivery.event, coveredBy: primary ?? null } }));
  return { settled: true, audit };
}

/** `settleIn` in a transaction of its own: the work's service did not commit it (another kind, or it failed). */
function settle(store: Store, pending: PendingWork<Work>): Promise<boolean> {
  return store.transaction(async (tx) => {
    const { settled, audit } = await settleIn(tx, pending);
    await tx.audit.appendAll(audit);
    return settled;
  });
}

/**
 * The deps of an evaluation whose settle commits with the evaluation's last transaction (`commitWith`): one
 * transaction fewer per job, and the work is deleted exactly when the evaluation's outcome commits. Only an
 * evaluation (one PR, one `withPullRequestLock` call): a service that takes several locks would settle its work
 * while some of it was still to do. `settled` is meaningful only once the service returned.
 */
function foldSettle(deps: TelemetryDeps, pending: PendingWork<Work>): { deps: TelemetryDeps; settled: () => boolean | undefined } {
  const { store } = deps;
  let settled: boolean | undefined;
  let offered = false;
  const commitWith: CommitWith = async (tx) => {
    const result = await settleIn(tx, pending);
    settled = result.settled;
    return result.audit;
  };
  const folding: GateStore = {
    latestDecision: (key) => store.latestDecision(key),
    recordMergeGroup: (record) => store.recordMergeGroup(record),
    withPullRequestLock: (key, fn, options) => {
      if (offered || options?.commitWith) return store.withPullRequestLock(key, fn, options);
      offered = true;
      return store.withPullRequestLock(key, fn, { commitWith });
    },
  };
  return { deps: { ...deps, store: folding }, settled: () => settled };
}
