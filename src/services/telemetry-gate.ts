/**
 * `telemetry.required`: an agent pull request whose head has no accepted telemetry cannot pass the approval check.
 * It waits (action_required), saying so; ingestion re-evaluates once telemetry is accepted.
 */
import type { PullRequestInfo, RepoRef } from "../github/port.js";
import type { ResolvedPolicy } from "../policy/config.js";
import type { Decision } from "../policy/types.js";
import { code } from "./render.js";
import type { ServiceDeps } from "./types.js";

export interface TelemetryGateResult {
  decision: Decision;
  /** A note for the check summary, or null when telemetry is not required or already accepted. */
  note: string | null;
}

/** Reads whether telemetry for this head was accepted; only asked when the policy requires it of an agent PR. */
export async function telemetryAccepted(deps: ServiceDeps, repo: RepoRef, pr: PullRequestInfo): Promise<boolean> {
  // No telemetry store means nothing can ever be accepted: fail closed rather than pass silently.
  return deps.telemetry ? deps.telemetry.hasAccepted(`${repo.owner}/${repo.repo}`, pr.number, pr.headSha) : false;
}

/** Pure: the decision once `telemetry.required` is applied, given whether telemetry for the head was accepted. */
export function withTelemetryRequirement(policy: ResolvedPolicy, headSha: string, decision: Decision, accepted: boolean): TelemetryGateResult {
  if (!policy.telemetry.required || !decision.scope.isAgent || accepted) return { decision, note: null };
  const workflows = policy.telemetry.workflows.length > 0 ? policy.telemetry.workflows.map((w) => code(w)).join(", ") : "none (telemetry.workflows is empty)";
  const note = `**Waiting on agent telemetry.** The policy requires accepted telemetry (\`telemetry.required: true\`) for the head commit ${code(headSha.slice(0, 12))}, and none has been accepted yet. Telemetry is accepted from these workflows only: ${workflows}.`;
  if (decision.conclusion !== "success") return { decision, note };
  return {
    decision: { ...decision, conclusion: "action_required", title: `Waiting on agent telemetry (${decision.title})` },
    note,
  };
}

/** Both together: read acceptance (only when it matters), then apply the requirement. */
export async function applyTelemetryRequirement(deps: ServiceDeps, repo: RepoRef, pr: PullRequestInfo, policy: ResolvedPolicy, decision: Decision): Promise<TelemetryGateResult> {
  if (!policy.telemetry.required || !decision.scope.isAgent) return { decision, note: null };
  return withTelemetryRequirement(policy, pr.headSha, decision, await telemetryAccepted(deps, repo, pr));
}
