export { evaluatePullRequest, triggeredByFromBody, FILE_LIMIT } from "./evaluate-pull-request.js";
export type { EvaluationTarget } from "./evaluate-pull-request.js";
export { evaluateCommit } from "./rerun.js";
export type { RerunTarget } from "./rerun.js";
export { TtlEnforcementCache } from "./enforcement-cache.js";
export { classifyRequiredChecks, enforcementNote, readEnforcement } from "./enforcement.js";
export { approvalCheckName, CHECK_NAME_PREFIX } from "./render.js";
export { loadPolicy, loadCodeownersAt, ORG_POLICY_REPO } from "./snapshot.js";
export type * from "./types.js";
