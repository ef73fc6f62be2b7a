/**
 * The App's one use case, in named stages (src/services/evaluation/), each a function testable alone:
 *
 *   load (one snapshot) → decide (pure; the engine's two phases, teams fetched in between)
 *   → current state (the store's, no GitHub read) → plan (desired vs current GitHub state, pure) → publish (one path) → record
 *
 * The decision is recorded (evaluation row and audit entry, committed) before its check is published, and the
 * check names that audit entry (`SEQ:HASH`): no check run exists on GitHub without its audit entry (invariant 9).
 *
 * Any error before the check is published: a `failure` check "could not evaluate" is recorded, planned and
 * published the same way, the error is logged with the delivery id and rethrown (the job retries it).
 */
import { isGitHubApiError } from "../github/errors.js";
import type { PullRequestInfo } from "../github/port.js";
import { MAX_LISTED_FILES } from "../shared/limits.js";
import { decide, decideInvalidPolicy, prepare, withOverride } from "./evaluation/decide.js";
import { loadCurrentState, loadSnapshot, loadTeams } from "./evaluation/load.js";
import { planCouldNotEvaluate, planPublication, withAuditEntry } from "./evaluation/plan.js";
import { publish } from "./evaluation/publish.js";
import { recordCouldNotEvaluate, recordDecided, recordPublished } from "./evaluation/record.js";
import { restoreRiskLabels } from "./evaluation/restore-labels.js";
import type { Decided, EvaluationContext, EvaluationTarget, Snapshot } from "./evaluation/types.js";
import type { Enforcement, EvaluationOutcome, PullRequestKey, ServiceDeps } from "./types.js";

export { triggeredByFromBody } from "./evaluation/load.js";
export type { EvaluationTarget };

/** GitHub's listing limit: a PR at or over it cannot be fully read (invariant 2). */
export const FILE_LIMIT = MAX_LISTED_FILES;

/**
 * Evaluates one pull request and publishes the outcome.
 * @throws {GitHubApiError} when GitHub fails before the decision is published (after trying to publish a
 *   failing "could not evaluate" check).
 */
export async function evaluatePullRequest(deps: ServiceDeps, target: EvaluationTarget): Promise<EvaluationOutcome> {
  const key: PullRequestKey = { ...target.repo, number: target.number, installationId: target.installationId };
  const log = childLog(deps, target);
  // Dedup inside the lock: two copies of one delivery arriving together cannot both pass the check.
  return deps.store.withPullRequestLock(key, async (scope) => {
    if (target.deliveryId && (await scope.isDeliveryDone(target.deliveryId, target.event))) {
      log.info({ deliveryId: target.deliveryId }, "skipped: this delivery was already handled (redelivery)");
      return { kind: "skipped", reason: "delivery already handled" };
    }
    const ctx: EvaluationContext = { deps: { ...deps, log }, scope, target, key };
    // A hand-changed risk label goes back to the recorded decision; a full evaluation only when there is none.
    const outcome = (target.restoreLabels ? await restoreRiskLabels(ctx) : null) ?? (await run(ctx));
    // Only a delivery handled to the end is marked: a failed one may be redelivered and must run again.
    if (target.deliveryId) await scope.markDeliveryDone(target.deliveryId, outcome.kind);
    return outcome;
  });
}

function childLog(deps: ServiceDeps, target: EvaluationTarget): ServiceDeps["log"] {
  const fields = { pr: `${target.repo.owner}/${target.repo.repo}#${target.number}`, event: target.event, deliveryId: target.deliveryId };
  const base = deps.log;
  return {
    debug: (obj, msg) => base.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => base.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => base.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => base.error({ ...fields, ...obj }, msg),
  };
}

async function run(ctx: EvaluationContext): Promise<EvaluationOutcome> {
  const { log } = ctx.deps;
  const seen: { pr?: PullRequestInfo | undefined } = {};
  let published = false;
  try {
    const snapshot = await loadSnapshot(ctx, seen);
    if (snapshot.kind === "skip") return skip(ctx, snapshot.reason);
    const decided = await decideSnapshot(ctx, snapshot);
    const current = await loadCurrentState(ctx, snapshot.pr, snapshot.kind === "evaluable" ? decided.decision : null);
    if ("superseded" in current) return superseded(ctx, current.superseded);
    // Recorded (committed, with its audit entry) before GitHub sees it; the check names that entry (invariant 9).
    const recorded = await recordDecided(ctx, snapshot, decided);
    const plan = withAuditEntry(planPublication(ctx.target.repo, snapshot, decided, current), recorded.audit);
    const result = await publish(ctx.deps, ctx.target.repo, plan);
    published = true;
    announce(ctx, snapshot, decided, result.checkRunId);
    await recordPublished(ctx, plan, recorded, result);
    return {
      kind: "published",
      conclusion: decided.decision.conclusion,
      risk: decided.risk,
      checkName: snapshot.checkName,
      checkRunId: result.checkRunId,
      labels: result.labels,
      reviewRequested: result.reviewRequested,
      enforcement: snapshot.enforcement.state,
    };
  } catch (error) {
    log.error({ err: isGitHubApiError(error) ? error.toLog() : error, deliveryId: ctx.target.deliveryId }, "evaluation failed");
    if (!published && seen.pr && ctx.target.publishFailure !== false) await publishCouldNotEvaluate(ctx, seen.pr, error);
    throw error;
  }
}

/**
 * The engine's two phases: it names the teams (and whether the PR's commits and the base CODEOWNERS errors) it needs, the service fetches
 * them, the engine decides.
 */
async function decideSnapshot(ctx: EvaluationContext, snapshot: Snapshot): Promise<Decided> {
  if (snapshot.kind === "invalid-policy") return decideInvalidPolicy(snapshot);
  const engine = prepare(snapshot);
  const teams = await loadTeams(ctx.deps, engine.needs.teams);
  const { pr } = snapshot;
  const { repo } = ctx.target;
  // The commits only when an approval could count, so ordinary events cost no extra request (invariant 4); the
  // CODEOWNERS errors whenever a requirement has code owners (conditional: a 304 after the first read, issue 12).
  const [commits, rejections] = await Promise.all([
    engine.needs.commits ? ctx.deps.github.listPullRequestCommitLogins(repo, pr.number, { headSha: pr.headSha, baseSha: pr.baseSha }) : undefined,
    engine.needs.ownerRejections ? ctx.deps.github.getCodeownersErrors(repo, pr.baseSha).then((errors) => errors ?? []) : undefined,
  ]);
  return withOverride(decide(snapshot, engine, teams, { commits, ownerRejections: rejections }), await ctx.scope.activeOverride(pr.headSha, pr.baseRef));
}

function announce(ctx: EvaluationContext, snapshot: Snapshot, decided: Decided, checkRunId: number): void {
  const { decision } = decided;
  if (snapshot.kind === "invalid-policy") {
    ctx.deps.log.warn({ errors: decision.policyErrors, conclusion: "failure" }, "invalid policy: published a failing check");
    return;
  }
  ctx.deps.log.info(
    { conclusion: decision.conclusion, risk: decision.risk, headSha: snapshot.pr.headSha, checkRunId, enforcement: snapshot.enforcement.state },
    "published the approval check",
  );
}

function skip(ctx: EvaluationContext, reason: string): EvaluationOutcome {
  ctx.deps.log.info({ reason }, `skipped: ${reason}`);
  return { kind: "skipped", reason };
}

function superseded(ctx: EvaluationContext, reason: string): EvaluationOutcome {
  ctx.deps.log.info({ reason }, "not publishing a stale decision");
  return { kind: "superseded", reason };
}

/** Fail closed (invariant 5): the same publish and record stages, with a failing check and no decision. */
async function publishCouldNotEvaluate(ctx: EvaluationContext, pr: PullRequestInfo, error: unknown): Promise<void> {
  const { deps, target } = ctx;
  try {
    // Recorded first, like a decision: a store that cannot record it (a database outage) publishes nothing.
    const planned = planCouldNotEvaluate(pr, error, target.deliveryId);
    const recorded = await recordCouldNotEvaluate(ctx, pr, planned);
    const plan = withAuditEntry(planned, recorded.audit);
    const result = await publish(deps, target.repo, plan);
    deps.log.warn({ checkRunId: result.checkRunId, deliveryId: target.deliveryId }, "published a failing 'could not evaluate' check");
    await recordPublished(ctx, plan, recorded, result);
  } catch (publishError) {
    deps.log.error(
      { err: isGitHubApiError(publishError) ? publishError.toLog() : publishError, deliveryId: target.deliveryId },
      "could not publish the failing check either; the previous check on this commit (if any) stays",
    );
  }
}

export type { Enforcement };
