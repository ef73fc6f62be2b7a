import { latestReviews } from "./approvals.js";
import type { Codeowners } from "./codeowners.js";
import { conditionsHold } from "./conditions.js";
import type { ConditionFacts } from "./conditions.js";
import type { ResolvedPolicy } from "./config.js";
import { globMatcher } from "./globs.js";
import { levelRank, pathsOf } from "./risk.js";
import type { ApprovalRule, Disapproval, Requires } from "./rules-schema.js";
import type { ApprovalVerdict, ChangedFile, Finding, OwnerSource, Requirement, RequirementStatus, Review, RiskLevel } from "./types.js";

/**
 * Named approval rules (`approvals.rules`) and the disapproval group (`approvals.disapproval`), as a stage of
 * their own beside the code-owner requirements of approvals.ts: each rule becomes ordinary requirements (so the
 * approval evaluation, its eligibility rules and team resolution apply unchanged), and `settleRequirements`
 * then folds `anyOf` alternatives and the disapproval group into the outcome.
 *
 * Fail-closed choices: a rule that applies but names nobody who could approve is unsatisfiable (the check
 * fails, as for an unowned sensitive file); an `anyOf` rule fails only when every alternative is unsatisfiable.
 */

export interface RuleInput {
  policy: ResolvedPolicy;
  findings: Finding[];
  risk: RiskLevel;
  files: readonly ChangedFile[];
  facts: ConditionFacts;
  codeowners: Codeowners;
  reviews: readonly Review[];
}

type Draft = Omit<Requirement, "id">;

/** Requirements of every named rule that applies, then the disapproval group's, numbered after `firstId`. */
export function ruleRequirements(input: RuleInput, firstId: number): Requirement[] {
  const drafts: Draft[] = [];
  for (const rule of input.policy.approvals.rules) {
    const paths = appliesTo(rule, input);
    if (paths === null) continue;
    const alternatives: Requires[] = rule.anyOf ?? (rule.requires ? [rule.requires] : []);
    alternatives.forEach((requires, i) => {
      for (const d of alternativeDrafts(rule, requires, paths, input)) {
        drafts.push(alternatives.length > 1 ? { ...d, alternative: { index: i + 1, of: alternatives.length } } : d);
      }
    });
  }
  const veto = input.policy.approvals.disapproval;
  if (veto && latestReviews(input.reviews).some((r) => r.state === "CHANGES_REQUESTED")) drafts.push(disapprovalDraft(veto, input.risk));
  return drafts.map((d, i) => withSatisfiability({ id: `r${firstId + i}`, ...d }));
}

/**
 * The paths the rule matched when it applies, else null. With file selectors (paths, excludePaths, status) the
 * matched files; with only `level`, the files whose findings reach it; with neither, the whole pull request ([]
 * for display; `codeowners: true` then looks at every changed file).
 */
function appliesTo(rule: ApprovalRule, input: RuleInput): string[] | null {
  const cond = rule.if ?? {};
  if (!conditionsHold(cond, input.facts)) return null;
  if (cond.level && levelRank(input.risk) < levelRank(cond.level)) return null;
  if (cond.paths || cond.excludePaths || cond.status) {
    const include = cond.paths ? globMatcher(cond.paths) : null;
    const exclude = cond.excludePaths ? globMatcher(cond.excludePaths) : null;
    const matched = new Set<string>();
    for (const file of input.files) {
      if (cond.status && !(cond.status as readonly string[]).includes(file.status)) continue;
      const names = pathsOf(file);
      if (names.some((n) => (!include || include(n)) && !(exclude && exclude(n)))) for (const n of names) matched.add(n);
    }
    return matched.size > 0 ? [...matched] : null;
  }
  if (cond.level) {
    const threshold = levelRank(cond.level);
    return [...new Set(input.findings.filter((f) => levelRank(f.level) >= threshold).flatMap((f) => f.paths))];
  }
  return [];
}

const withAt = (name: string) => (name.startsWith("@") ? name : `@${name}`);

function listed(requires: Pick<Requires, "from">): string[] {
  return dedupe([...(requires.from.users ?? []).map(withAt), ...(requires.from.teams ?? []).map(withAt)]);
}

/** One alternative's requirements: one for users and teams, or one per owner group with `codeowners: true`. */
function alternativeDrafts(rule: ApprovalRule, requires: Requires, paths: string[], input: RuleInput): Draft[] {
  const extra = listed(requires);
  const base = { level: input.risk, rules: [rule.name], count: requires.count, name: rule.name, requests: rule.requests, satisfiable: true };
  if (!requires.from.codeowners) return [{ ...base, paths, owners: extra, source: "rule" }];
  const files = paths.length > 0 ? paths : input.files.flatMap(pathsOf);
  const groups = new Map<string, Draft>();
  for (const path of files) {
    const { owners, source, line } = ownersFor(path, input);
    const all = dedupe([...owners, ...extra]);
    const key = `${source}\u0000${all.map((o) => o.toLowerCase()).sort().join(" ")}`;
    const group = groups.get(key);
    if (group) {
      group.paths.push(path);
      if (group.codeownersLine !== line) group.codeownersLine = undefined;
      continue;
    }
    const draft: Draft = { ...base, paths: [path], owners: all, source: owners.length === 0 && extra.length > 0 ? "rule" : source };
    if (line !== undefined) draft.codeownersLine = line;
    groups.set(key, draft);
  }
  return groups.size > 0 ? [...groups.values()] : [{ ...base, paths, owners: extra, source: extra.length > 0 ? "rule" : "unowned" }];
}

function ownersFor(path: string, input: RuleInput): { owners: string[]; source: OwnerSource; line?: number } {
  const match = input.codeowners.tooLarge ? null : input.codeowners.ownersOf(path);
  if (match && match.owners.length > 0) return { owners: [...match.owners], source: "codeowners", line: match.line };
  const fallback = input.policy.approvals.fallback;
  return fallback.length > 0 ? { owners: [...fallback], source: "fallback" } : { owners: [], source: "unowned" };
}

function disapprovalDraft(veto: Disapproval, risk: RiskLevel): Draft {
  return { paths: [], level: risk, rules: [veto.name], owners: listed(veto), count: 0, source: "rule", name: veto.name, requests: "none", disapproval: true, satisfiable: true };
}

function withSatisfiability(req: Requirement): Requirement {
  const reviewers = req.owners.filter((o) => o.startsWith("@"));
  let why: string | null = null;
  if (req.disapproval) why = null;
  else if (reviewers.length === 0) {
    why = req.source === "unowned" ? `nobody can approve: rule "${req.name ?? ""}" needs code owners, and these files have none (nor does approvals.fallback)` : `nobody can approve: rule "${req.name ?? ""}" names no user or team (email owners cannot be matched to reviewers)`;
  } else if (!reviewers.some((o) => o.includes("/")) && reviewers.length < req.count) {
    why = `nobody can approve: rule "${req.name ?? ""}" needs ${req.count} approvals but names only ${reviewers.length} user${reviewers.length === 1 ? "" : "s"}`;
  }
  return why ? { ...req, satisfiable: false, reason: why } : req;
}

function dedupe(owners: readonly string[]): string[] {
  const seen = new Set<string>();
  return owners.filter((o) => !seen.has(o.toLowerCase()) && seen.add(o.toLowerCase()));
}

export interface Settled {
  requirements: RequirementStatus[];
  satisfied: boolean;
  /** The requirements no review can ever meet that decide the outcome (an `anyOf` with a viable alternative does not). */
  unsatisfiable: RequirementStatus[];
}

/**
 * The outcome once approvals are evaluated: an `anyOf` rule is met when all requirements of one alternative are
 * (the others are shown as met by it), and only its first viable alternative asks for reviews, so one rule does
 * not ping two groups. The disapproval group blocks while a member's latest review requests changes, waiting on
 * those members; it is shown only then.
 */
export function settleRequirements(statuses: readonly RequirementStatus[]): Settled {
  const byRule = new Map<string, RequirementStatus[]>();
  for (const s of statuses) if (s.alternative && s.name) byRule.set(s.name, [...(byRule.get(s.name) ?? []), s]);
  const replaced = new Map<string, RequirementStatus>();
  const viableGroups = new Set<string>();
  for (const [name, group] of byRule) {
    const alt = (i: number) => group.filter((s) => s.alternative?.index === i);
    const of = group[0]?.alternative?.of ?? 0;
    const indices = Array.from({ length: of }, (_, i) => i + 1).filter((i) => alt(i).length > 0);
    const metIndex = indices.find((i) => alt(i).every((s) => s.met));
    const firstViable = indices.find((i) => alt(i).every((s) => s.satisfiable));
    if (firstViable !== undefined) viableGroups.add(name);
    for (const s of group) {
      const index = s.alternative?.index;
      if (metIndex !== undefined && index !== metIndex && !s.met) replaced.set(s.id, { ...s, met: true, waitingOn: [], metByAlternative: metIndex, requests: "none" });
      else if (metIndex === undefined && index !== firstViable) replaced.set(s.id, { ...s, requests: "none" });
    }
  }
  const requirements: RequirementStatus[] = [];
  for (const s of statuses) {
    if (s.disapproval) {
      if (s.blockedBy.length > 0) requirements.push({ ...s, met: false, waitingOn: s.blockedBy.map(withAt), approvedBy: [] });
      continue;
    }
    requirements.push(replaced.get(s.id) ?? s);
  }
  const unsatisfiable = requirements.filter((s) => !s.satisfiable && !(s.alternative && s.name && viableGroups.has(s.name)) && !s.met);
  return { requirements, satisfied: requirements.every((s) => s.met), unsatisfiable };
}

/**
 * The audit trail's reason for an approval that counted towards a named rule: approvals.ts words it for code-owner
 * requirements ("counts as a code owner for r1 (paths)"); a rule's row has a name and may have no paths.
 */
export function withRuleReasons(verdicts: ApprovalVerdict[], requirements: readonly RequirementStatus[]): ApprovalVerdict[] {
  const rulesOf = new Map<string, string[]>();
  for (const r of requirements) {
    if (r.name === undefined || r.disapproval) continue;
    for (const login of r.approvedBy) {
      const label = `rule ${r.name}${r.alternative ? ` (alternative ${r.alternative.index})` : ""}`;
      const list = rulesOf.get(login.toLowerCase()) ?? [];
      if (!list.includes(label)) list.push(label);
      rulesOf.set(login.toLowerCase(), list);
    }
  }
  return verdicts.map((v) => {
    const rules = rulesOf.get(v.reviewer.toLowerCase());
    if (!rules) return v;
    const ownerParts = requirements.filter((r) => r.name === undefined && r.approvedBy.some((a) => a.toLowerCase() === v.reviewer.toLowerCase()));
    const prefix = ownerParts.length > 0 ? `counts as a code owner for ${ownerParts.map((r) => r.id).join(", ")}; ` : "";
    return { ...v, counted: true, reason: `${prefix}counts for ${rules.join(", ")}` };
  });
}
