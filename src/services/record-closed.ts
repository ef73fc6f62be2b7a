/**
 * pull_request.closed: the compliance pages show a merged (or closed) agent PR as such, not as the last "approved" or
 * "waiting" it had while open. Only PRs the gate has a decision for are recorded (no row for every human PR), under
 * the PR's lock so a decision being recorded cannot overwrite the close. A reopen clears it with the next decision.
 */
import type { RepoRef } from "../github/port.js";
import type { EvaluationOutcome, PullRequestScope, ServiceDeps } from "./types.js";

export interface ClosedTarget {
  repo: RepoRef;
  installationId?: number | undefined;
  number: number;
  title: string;
  author: string | null;
  /** ISO times, as the payload has them (the work is stored as JSON until a job takes it). */
  openedAt: string | null;
  closedAt: string;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  deliveryId?: string | undefined;
  event: string;
}

export async function recordPullRequestClosed(deps: ServiceDeps, target: ClosedTarget): Promise<EvaluationOutcome> {
  const key = { ...target.repo, number: target.number, installationId: target.installationId };
  return deps.store.withPullRequestLock(key, async (scope) => {
    if (target.deliveryId && (await scope.isDeliveryDone(target.deliveryId, target.event))) return { kind: "skipped", reason: "delivery already handled" };
    const outcome = await record(deps, target, scope);
    if (target.deliveryId) await scope.markDeliveryDone(target.deliveryId, outcome.kind);
    return outcome;
  });
}

async function record(deps: ServiceDeps, target: ClosedTarget, scope: PullRequestScope): Promise<EvaluationOutcome> {
  const pr = `${target.repo.owner}/${target.repo.repo}#${target.number}`;
  if ((await scope.lastDecision()) === null) {
    deps.log.debug({ pr }, "closed: no decision recorded for this pull request, nothing to show");
    return { kind: "skipped", reason: "no decision recorded for this pull request" };
  }
  const date = (iso: string | null) => (iso === null ? null : new Date(iso));
  const { title, author, merged, mergedBy, mergeCommitSha, event } = target;
  await scope.recordClosed({ title, author, merged, mergedBy, mergeCommitSha, event, openedAt: date(target.openedAt), closedAt: new Date(target.closedAt), mergedAt: date(target.mergedAt) });
  deps.log.info({ pr, merged: target.merged, mergedBy: target.mergedBy }, target.merged ? "recorded the merge" : "recorded the close");
  return { kind: "closed-recorded", merged: target.merged };
}
