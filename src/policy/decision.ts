import { classifyPullRequest } from "./agents.js";
import { approvalVerdicts, buildRequirements, commitsNeeded, evaluateApprovals, ownerRejectionsNeeded, teamsNeeded } from "./approvals.js";
import type { Codeowners } from "./codeowners.js";
import { formatPolicyError } from "./config.js";
import type { PolicyError, ResolvedPolicy } from "./config.js";
import { EVALUATION_INCOMPLETE_ID } from "./preset.js";
import { assessRisk, conditionFacts } from "./risk.js";
import { withoutRejectedOwners } from "./owner-rejections.js";
import type { OwnerRejection } from "./owner-rejections.js";
import { ruleRequirements, settleRequirements, withRuleReasons } from "./rules.js";
import type { ChangedFile, Conclusion, Decision, Finding, PullRequestCommits, PullRequestFacts, Requirement, RequirementStatus, Review, RiskLevel, TeamMembership } from "./types.js";

export const POLICY_INVALID_ID = "policy-invalid";

export interface EvaluateInput {
  policy: ResolvedPolicy;
  /** Where the policy was read: `source` names it (file or preset), `ref` the base commit (invariant 1). */
  policySource: { source: string; ref: string };
  /** Read from the base branch at the same commit as the policy (invariant 1). */
  codeowners: Codeowners;
  files: ChangedFile[];
  pr: PullRequestFacts;
  reviews: Review[];
  /** Members of the teams `teamsToResolve` named; missing teams count as nobody. */
  teams: TeamMembership;
  /**
   * Who authored or committed the PR's commits, when `needs.commits` asks for them. Omitted in a one-call
   * `evaluate`: none of the reviewers has commits in it (the caller knows; e.g. the CLI has no reviews).
   */
  commits?: PullRequestCommits | undefined;
  truncated?: boolean | undefined;
}

export function riskLabel(policy: Pick<ResolvedPolicy, "labels">, risk: RiskLevel): string {
  return `${policy.labels.prefix}${risk}`;
}

/** What the engine needs from the outside before it can decide (phase one's answer). */
export interface EngineNeeds {
  /** `@org/team` owners whose members the decision depends on. */
  teams: string[];
  /** Whether the decision needs the PR's commits (an approval could count unless its reviewer made some). */
  commits: boolean;
  /**
   * Whether the decision needs GitHub's validation errors of the base CODEOWNERS (invariant 4): a requirement has
   * code owners. Read with its ETag, so only the first read of a base commit is counted.
   */
  ownerRejections: boolean;
}

/** What the caller fetched for phase two. */
export interface EngineAnswers {
  /** The PR's commits when `needs.commits`; absent, approvals that needed the check do not count. */
  commits?: PullRequestCommits | undefined;
  /** GitHub's validation errors of the base CODEOWNERS (asked with `needs.ownerRejections`); absent: not checked (the CLI). */
  ownerRejections?: readonly OwnerRejection[] | undefined;
}

/** Phase one done: what the decision still needs, and the decision once the caller has fetched it. */
export interface PreparedEvaluation {
  needs: EngineNeeds;
  /** Phase two: members of the teams in `needs.teams` (a team left out counts as nobody), and `answers` to the rest. */
  decide(teams: TeamMembership, answers?: EngineAnswers): Decision;
}

/**
 * The two-phase engine (as policy-bot's evaluation asks its context for memberships): findings, risk and
 * requirements first, which name the teams the decision depends on; the caller fetches those, then `decide`
 * evaluates approvals and the conclusion. Nothing is computed twice and no caller re-derives engine logic.
 */
export function prepareEvaluation(input: Omit<EvaluateInput, "teams" | "commits">): PreparedEvaluation {
  const { policy, codeowners, pr } = input;
  const { risk, findings } = assessRisk({ policy, files: input.files, pr, truncated: input.truncated });
  const mode = policy.approvals.codeowners.requests;
  const builtIn = buildRequirements({ policy, findings, codeowners }).map((r) => (mode === "all" ? r : { ...r, requests: mode }));
  // Named approval rules and the disapproval group: a stage of their own (rules.ts), numbered after the built-in ones.
  const facts = conditionFacts(policy, pr, input.files);
  const named = ruleRequirements({ policy, findings, risk, files: input.files, facts, codeowners, reviews: input.reviews }, builtIn.length + 1);
  const requirements = [...builtIn, ...named];
  const asked = { policy, pr, requirements, reviews: input.reviews };
  return {
    needs: { teams: teamsNeeded(asked), commits: commitsNeeded(asked), ownerRejections: ownerRejectionsNeeded(asked) },
    decide: (teams, answers = {}) => decide(input, { risk, findings, requirements }, teams, answers),
  };
}

/**
 * The whole engine in one call: findings → risk → requirements → approvals → conclusion. `teams` are the members
 * of the teams `prepareEvaluation(...).needs` names (callers that know them all may pass more).
 *
 * Conclusions: `failure` when the pull request cannot be fully evaluated or a requirement can never be met
 * (nobody could turn it green, so "waiting" would be a lie); `action_required` while approvals are missing or
 * an owner requests changes; `success` when every requirement is met (or none exists).
 */
export function evaluate(input: EvaluateInput): Decision {
  return prepareEvaluation(input).decide(input.teams, { commits: input.commits ?? { logins: [], truncated: false } });
}

function decide(
  input: Omit<EvaluateInput, "teams" | "commits">,
  phaseOne: { risk: RiskLevel; findings: Finding[]; requirements: Requirement[] },
  teams: TeamMembership,
  answers: EngineAnswers,
): Decision {
  const { policy, codeowners, pr } = input;
  const { risk, findings, requirements } = phaseOne;
  // Invariant 4: owners GitHub's own CODEOWNERS validation rejects do not count (read only when an approval could).
  const counted = answers.ownerRejections ? withoutRejectedOwners(requirements, answers.ownerRejections) : requirements;
  const evaluated = evaluateApprovals({ policy, requirements: counted, reviews: input.reviews, headSha: pr.headSha, pr, teams, commits: answers.commits });
  const settled = settleRequirements(evaluated.requirements);
  const approval = { ...evaluated, required: settled.requirements.length > 0, satisfied: settled.satisfied, requirements: settled.requirements };

  const incomplete = findings.some((f) => f.rule === EVALUATION_INCOMPLETE_ID);
  const conclusion: Conclusion = incomplete || settled.unsatisfiable.length > 0 ? "failure" : approval.satisfied ? "success" : "action_required";

  return {
    risk,
    labels: [riskLabel(policy, risk)],
    findings,
    approval: { required: approval.required, satisfied: approval.satisfied, requirements: approval.requirements },
    conclusion,
    title: titleFor(risk, conclusion, incomplete, approval.requirements, settled.unsatisfiable),
    policy: { ...input.policySource },
    ignoredReviews: approval.ignoredReviews,
    approvals: withRuleReasons(approvalVerdicts(approval, input.reviews), approval.requirements),
    scope: classifyPullRequest(policy, pr),
    headSha: pr.headSha,
    codeowners: {
      path: codeowners.path,
      tooLarge: codeowners.tooLarge,
      errors: codeowners.errors.map((e) => ({ line: e.line, message: e.message })),
    },
  };
}

/**
 * The decision when the policy file itself is invalid (invariant 5): `failure`, critical, and the errors
 * quoted with file and line so the summary tells an admin exactly what to fix.
 */
export function policyErrorDecision(input: { errors: PolicyError[]; policySource: { source: string; ref: string }; headSha: string; labelPrefix?: string }): Decision {
  const lines = input.errors.map(formatPolicyError);
  const first = lines[0] ?? "invalid policy";
  return {
    risk: "critical",
    labels: [`${input.labelPrefix ?? "agent-risk:"}critical`],
    findings: [{ rule: POLICY_INVALID_ID, level: "critical", paths: [...new Set(input.errors.map((e) => e.file))], message: `the policy is invalid: ${first}` }],
    approval: { required: true, satisfied: false, requirements: [] },
    conclusion: "failure",
    title: `Invalid policy: ${truncate(first, 100)}`,
    policy: { ...input.policySource },
    ignoredReviews: [],
    approvals: [],
    scope: { inScope: true, isAgent: false, reason: "the policy is invalid, so every pull request fails closed" },
    headSha: input.headSha,
    codeowners: { path: null, tooLarge: false, errors: [] },
    policyErrors: lines,
  };
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

const LEVEL_NAME: Record<RiskLevel, string> = { low: "Low", medium: "Medium", high: "High", critical: "Critical" };

function listOwners(owners: string[], max = 3): string {
  const unique = [...new Set(owners)];
  const shown = unique.slice(0, max).join(", ");
  return unique.length > max ? `${shown} and ${unique.length - max} more` : shown;
}

function titleFor(risk: RiskLevel, conclusion: Conclusion, incomplete: boolean, reqs: RequirementStatus[], unsatisfiable: RequirementStatus[]): string {
  const head = `${LEVEL_NAME[risk]} risk`;
  let tail: string;
  if (incomplete) {
    tail = "cannot be fully evaluated";
  } else if (conclusion === "failure") {
    const paths = unsatisfiable.reduce((n, r) => n + r.paths.length, 0);
    const rule = unsatisfiable.find((r) => r.name !== undefined && r.paths.length === 0)?.name;
    tail = paths === 0 && rule !== undefined ? `nobody can satisfy rule ${rule}` : `nobody can approve ${paths} sensitive path${paths === 1 ? "" : "s"}`;
  } else if (conclusion === "action_required") {
    const blocked = reqs.flatMap((r) => r.blockedBy);
    tail = blocked.length > 0 ? `changes requested by ${listOwners(blocked.map((b) => `@${b}`))}` : `waiting on ${listOwners(reqs.flatMap((r) => r.waitingOn))}`;
  } else if (reqs.length > 0) {
    tail = `approved by ${listOwners(reqs.flatMap((r) => r.approvedBy.map((a) => `@${a}`)))}`;
  } else {
    tail = risk === "low" ? "no approval needed" : "no code-owner approval needed";
  }
  return truncate(`${head}: ${tail}`, 120);
}
