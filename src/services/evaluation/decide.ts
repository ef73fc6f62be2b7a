/**
 * The decide stage (pure): the engine's decision with the service's own conditions applied (telemetry.required),
 * and the notes the check summary carries. The engine's two phases meet here: `prepareEvaluation` (phase one)
 * named the teams, the load stage fetched them, `decide` (phase two) uses them.
 */
import { policyErrorDecision, prepareEvaluation } from "../../policy/decision.js";
import type { EngineAnswers, EvaluateInput, PreparedEvaluation } from "../../policy/decision.js";
import type { OwnerRejection } from "../../policy/owner-rejections.js";
import type { TeamMembership } from "../../policy/types.js";
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

export function decide(snapshot: EvaluableSnapshot, engine: PreparedEvaluation, teams: TeamMembership, answers: EngineAnswers = {}): Decided {
  const { commits } = answers;
  const evaluated = engine.decide(teams, answers);
  // telemetry.required: without accepted telemetry for this head, the check waits (DESIGN.md invariant 7).
  const { decision, note: telemetryNote } = withTelemetryRequirement(snapshot.policy, snapshot.pr.headSha, evaluated, snapshot.telemetryAccepted);
  const notes = [
    ...present(enforcementNote(snapshot.enforcement, snapshot.checkName, snapshot.pr.baseRef), telemetryNote, ownerRejectionNote(answers.ownerRejections)),
    ...snapshot.gateNotes,
  ];
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

const MAX_REJECTION_LINES = 10;

/**
 * Invariant 4: the base CODEOWNERS lines GitHub rejects, quoted (escaped: the message names logins and paths
 * someone wrote into the file) so a maintainer sees why an owner's approval did not count.
 */
function ownerRejectionNote(rejections: readonly OwnerRejection[] | undefined): string | null {
  if (!rejections || rejections.length === 0) return null;
  const lines = rejections.slice(0, MAX_REJECTION_LINES).map((r) => {
    const first = r.message.split("\n")[0] ?? "";
    const hint = r.suggestion && !first.includes(r.suggestion) ? ` (${escapeInline(r.suggestion, 300)})` : "";
    return `line ${r.line}: ${escapeInline(first, 300)}${hint}`;
  });
  const more = rejections.length > MAX_REJECTION_LINES ? `; and ${rejections.length - MAX_REJECTION_LINES} more` : "";
  return `GitHub rejects owners in the base CODEOWNERS; their approvals do not count: ${lines.join("; ")}${more}.`;
}

function present(...notes: Array<string | null>): string[] {
  return notes.filter((n): n is string => n !== null);
}
