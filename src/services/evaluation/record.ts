/**
 * The record stage: what was published goes into the store (review requests remembered, the decision's audit
 * entry and evaluation record). It runs after publishing; the store commits it with the delivery (invariant 9).
 */
import type { PullRequestInfo } from "../../github/port.js";
import { inputsDigest } from "../../store/canonical.js";
import type { DecisionRecord } from "../types.js";
import { dateOf } from "./load.js";
import type { Decided, EvaluationContext, PublicationPlan, Published, Snapshot } from "./types.js";

export async function record(ctx: EvaluationContext, snapshot: Snapshot, decided: Decided, published: Published): Promise<void> {
  if (published.reviewRequested.length > 0) await ctx.scope.recordReviewRequests(published.reviewRequested);
  await ctx.scope.recordDecision(decisionRecord(ctx, snapshot, decided, published));
}

/** The record of a published decision. Pure given the context's clock. */
export function decisionRecord(ctx: EvaluationContext, snapshot: Snapshot, decided: Decided, published: Published): DecisionRecord {
  const { decision } = decided;
  const base = { ...recordBase(ctx, snapshot.pr, snapshot.checkName), checkRunId: published.checkRunId, conclusion: decision.conclusion, decision, reason: decision.title };
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
    }),
    reviews: snapshot.reviews,
    labels: published.labels,
  };
}

/** The failing "could not evaluate" check, recorded without a decision. */
export async function recordCouldNotEvaluate(ctx: EvaluationContext, pr: PullRequestInfo, plan: PublicationPlan, published: Published): Promise<void> {
  await ctx.scope.recordDecision({
    ...recordBase(ctx, pr, plan.check.name),
    checkRunId: published.checkRunId,
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
  const pullRequest = pr.title === undefined ? undefined : { title: pr.title, author: pr.author.login || null, openedAt: dateOf(pr.createdAt) ?? null };
  return { key, deliveryId: target.deliveryId, event: target.event, headSha: pr.headSha, baseRef: pr.baseRef, baseSha: pr.baseSha, checkName, evaluatedAt: deps.clock(), pullRequest };
}
