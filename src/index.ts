/**
 * Agent Gate as a library: the pure policy engine, the CODEOWNERS matcher and the policy schema.
 * Everything exported here is pure (no I/O); the App and the CLI supply the data.
 */
export * from "./policy/types.js";
export {
  POLICY_PATH,
  MAX_POLICY_BYTES,
  DETECTORS,
  policySchema,
  parsePolicy,
  resolvePolicy,
  defaultPolicy,
  formatPolicyError,
  policyJsonSchema,
} from "./policy/config.js";
export type { PolicyConfig, ResolvedPolicy, ResolvedRule, RiskRule, PolicyError, ParsePolicyResult, Detector } from "./policy/config.js";
export { RECOMMENDED_RULES, GATE_CONTROL_RULE, GATE_CONTROL_PATHS, EVALUATION_INCOMPLETE_ID, RESERVED_RULE_IDS } from "./policy/preset.js";
export { classifyPullRequest, isBotLogin } from "./policy/agents.js";
export { assessRisk, isBinary, pathsOf, levelRank, maxLevel, MAX_LISTED_FILES } from "./policy/risk.js";
export type { RiskInput, RiskResult } from "./policy/risk.js";
export { buildRequirements, teamsToResolve, evaluateApprovals, ineligibleReason, latestReviews } from "./policy/approvals.js";
export { evaluate, policyErrorDecision, riskLabel, POLICY_INVALID_ID } from "./policy/decision.js";
export type { EvaluateInput } from "./policy/decision.js";
export {
  renderDecisionMarkdown,
  renderDecisionText,
  escapeMarkdown,
  RISK_LABEL_COLORS,
  RISK_LABEL_DESCRIPTIONS,
  CHECK_RUN_TEXT_LIMIT,
} from "./policy/render.js";
export {
  CODEOWNERS_LOCATIONS,
  CODEOWNERS_MAX_BYTES,
  parseCodeowners,
  loadCodeowners,
  isValidOwner,
  isCodeownersPath,
} from "./policy/codeowners.js";
export type { Codeowners, CodeownersError, CodeownersLocation, CodeownersRule, OwnershipMatch } from "./policy/codeowners.js";
