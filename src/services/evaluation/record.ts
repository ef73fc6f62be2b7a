/**
 * The record stage, in two steps around publishing (invariant 9: no check run exists on GitHub without its
 * audit entry):
 *
 * 1. `recordDecided`, before publishing: the decision (evaluation row, approvals, its `evaluation_decided` audit
 *    entry) is committed; the check run then names that entry (`SEQ:HASH`). If the process dies after this and
 *    before the check is published, the job runs again, decides again and publishes (idempotently, on the same
 *    check run); the orphan decision stays in the log as what it was: decided, never shown.
 * 2. `recordPublished`, after publishing: the check run id, labels and review requests, committed with the
 *    delivery when the evaluation ends.
 */
import type { PullRequestInfo } from "../../github/port.js";
import { inputsDigest } from "../../store/canonical.js";
import type { DecisionRecord, CommittedDecision } from "../types.js";
import { dateOf } from "./load.js";
import type { Decided, EvaluationContext, PublicationPlan, Published, Snapshot } from "./types.js";

/** Commits the decision before its check is published. @throws when the store cannot (nothing is published then). */
export function recordDecided(ctx: EvaluationContext, snapshot: Snapshot, decided: Decided): Promise<CommittedDecision> {
  return ctx.scope.recordDecision(decisionRecord(ctx, snapshot, decided));
}

/** What GitHub took: the check run of the recorded decision, the labels, the owners asked to review. */
export async function recordPublished(ctx: EvaluationContext, plan: PublicationPlan, recorded: CommittedDecision, published: Published): Promise<void> {
  if (published.reviewRequested.length > 0) await ctx.scope.recordReviewRequests(published.reviewRequested);
  await ctx.scope.recordPublished({
    decided: recorded,
    deliveryId: ctx.target.deliveryId,
    headSha: plan.check.headSha,
    checkName: plan.check.name,
    checkRunId: published.checkRunId,
    conclusion: plan.check.conclusion,
    title: plan.check.title,
    labels: published.labels,
  });
}

/** The record of a decision. Pure given the context's clock. */
export function decisionRecord(ctx: EvaluationContext, snapshot: Snapshot, decided: Decided): DecisionRecord {
  const { decision } = decided;
  const base = { ...recordBase(ctx, snapshot.pr, snapshot.checkName), conclusion: decision.conclusion, decision, reason: decision.title };
  if (snapshot.kind === "invalid-policy") return { ...base, risk: null, policy: snapshot.policySource };
  return {
    ...base,
    risk: decision.risk,
    policy: decision.policy,
    // The policy and CODEOWNERS are named by source and commit: their content is fixed by those.
    inputsDigest: inputsDigest({
      policy: decision.policy,
      codeowners: { path: decision.codeowners.path, ref: snapshot.pr.baseSha },
      pr: snapshot.facts,
      files: snapshot.files,
      truncated: snapshot.truncated,
      reviews: snapshot.reviews,
      teams: decided.teams,
      ...(decided.commits ? { commits: decided.commits } : {}),
    }),
    reviews: snapshot.reviews,
    override: decided.override,
  };
}

/** The failing "could not evaluate" check, recorded without a decision, before it is published. */
export function recordCouldNotEvaluate(ctx: EvaluationContext, pr: PullRequestInfo, plan: PublicationPlan): Promise<CommittedDecision> {
  return ctx.scope.recordDecision({
    ...recordBase(ctx, pr, plan.check.name),
    conclusion: "failure",
    risk: null,
    decision: null,
    reason: plan.check.title,
    policy: { source: "unknown", ref: pr.baseSha },
  });
}

function recordBase(ctx: EvaluationContext, pr: PullRequestInfo, checkName: string) {
  const { target, key, deps } = ctx;
  // What the compliance pages show of the PR, as GitHub showed it to this evaluation.
  // `asOf` (GitHub's updated_at) lets the store tell a reopened PR from a job that ran late, after the close.
  const pullRequest = pr.title === undefined ? undefined : { title: pr.title, author: pr.author.login || null, openedAt: dateOf(pr.createdAt) ?? null, asOf: dateOf(pr.updatedAt) ?? null };
  return { key, deliveryId: target.deliveryId, event: target.event, headSha: pr.headSha, baseRef: pr.baseRef, baseSha: pr.baseSha, checkName, evaluatedAt: deps.clock(), pullRequest };
}
