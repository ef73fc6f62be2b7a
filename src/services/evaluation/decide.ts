/**
 * The decide stage (pure): the engine's decision with the service's own conditions applied (telemetry.required),
 * and the notes the check summary carries. The engine's two phases meet here: `prepareEvaluation` (phase one)
 * named the teams, the load stage fetched them, `decide` (phase two) uses them.
 */
import { policyErrorDecision, prepareEvaluation } from "../../policy/decision.js";
import type { EvaluateInput, PreparedEvaluation } from "../../policy/decision.js";
import type { PullRequestCommits, TeamMembership } from "../../policy/types.js";
import { enforcementNote } from "../enforcement.js";
import { withTelemetryRequirement } from "../telemetry-gate.js";
import { escapeInline } from "../../shared/markdown.js";
import type { ActiveOverride } from "../types.js";
import type { Decided, EvaluableSnapshot, InvalidPolicySnapshot } from "./types.js";

/** What the engine reads, from the snapshot. */
export function engineInput(snapshot: EvaluableSnapshot): Omit<EvaluateInput, "teams" | "commits"> {
  const { policy, policySource, codeowners, files, facts, reviews, truncated } = snapshot;
  return { policy, policySource, codeowners, files, pr: facts, reviews, truncated };
}

/** Phase one of the engine: findings, risk, requirements, and the teams the decision needs. */
export function prepare(snapshot: EvaluableSnapshot): PreparedEvaluation {
  return prepareEvaluation(engineInput(snapshot));
}

export function decide(snapshot: EvaluableSnapshot, engine: PreparedEvaluation, teams: TeamMembership, commits?: PullRequestCommits): Decided {
  const evaluated = engine.decide(teams, { commits });
  // telemetry.required: without accepted telemetry for this head, the check waits (DESIGN.md invariant 7).
  const { decision, note: telemetryNote } = withTelemetryRequirement(snapshot.policy, snapshot.pr.headSha, evaluated, snapshot.telemetryAccepted);
  const notes = [...present(enforcementNote(snapshot.enforcement, snapshot.checkName, snapshot.pr.baseRef), telemetryNote), ...snapshot.gateNotes];
  return { decision, notes, risk: decision.risk, teams, ...(commits ? { commits } : {}) };
}

/**
 * Break-glass: an override in force on this head and base keeps the check passing through every re-evaluation of
 * the same head (a review, a label, a re-run), with the decision it stands in for named; a push ends it, since
 * the new head has none.
 */
export function withOverride(decided: Decided, override: ActiveOverride | null): Decided {
  if (!override) return decided;
  const { decision } = decided;
  const own = decision.conclusion === "success";
  const note = `Overridden by @${override.by} (break-glass; ends with the next push): ${escapeInline(override.reason, 1_000)}. Without the override: ${decision.conclusion}: ${escapeInline(decision.title, 500)}.`;
  return {
    ...decided,
    decision: own ? decision : { ...decision, conclusion: "success", title: `Overridden by @${override.by}` },
    notes: [note, ...decided.notes],
    override,
  };
}

/** Invariant 5: an invalid policy is a failing decision that quotes file, line and message. */
export function decideInvalidPolicy(snapshot: InvalidPolicySnapshot): Decided {
  const decision = policyErrorDecision({ errors: snapshot.errors, policySource: snapshot.policySource, headSha: snapshot.pr.headSha });
  return { decision, notes: present(enforcementNote(snapshot.enforcement, snapshot.checkName, snapshot.pr.baseRef)), risk: null, teams: {} };
}

function present(...notes: Array<string | null>): string[] {
  return notes.filter((n): n is string => n !== null);
}
