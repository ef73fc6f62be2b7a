import { isBotLogin, sameLogin } from "./agents.js";
import type { Codeowners } from "./codeowners.js";
import type { ResolvedPolicy } from "./config.js";
import { MAX_TEAMS_PER_EVALUATION } from "../shared/limits.js";
import { levelRank } from "./risk.js";
import type {
  ApprovalResult,
  ApprovalVerdict,
  Finding,
  IgnoredReview,
  OwnerSource,
  PullRequestCommits,
  PullRequestFacts,
  Requirement,
  RequirementStatus,
  Review,
  RiskLevel,
  TeamMembership,
} from "./types.js";

/**
 * Approval requirements (issue 2, section 5) and their evaluation against reviews (invariants 3 and 4).
 *
 * Semantics, chosen to fail closed:
 * - `count` means distinct approvals from the requirement's own owners (a team counts each approving member).
 * - A sensitive path with no owner uses `approvals.fallback`; with no fallback nobody can approve it, the
 *   requirement is unsatisfiable and the check fails (action_required would promise an approval that can't come).
 * - Email owners cannot be matched to reviewers (reviews carry logins), so they never satisfy a requirement.
 */

export function isTeamOwner(owner: string): boolean {
  return owner.startsWith("@") && owner.includes("/");
}

function isUserOwner(owner: string): boolean {
  return owner.startsWith("@") && !owner.includes("/");
}

function ownerLogin(owner: string): string {
  return owner.slice(1);
}

export interface BuildRequirementsInput {
  policy: ResolvedPolicy;
  findings: Finding[];
  codeowners: Codeowners;
}

/**
 * Per sensitive path (in a finding at or above `from`): its highest level and its rules in first-seen order. A path
 * is in a handful of findings at most, so a plain array beats a Set; a large pull request has thousands of paths.
 */
function sensitivePaths(findings: readonly Finding[], from: RiskLevel): Map<string, { level: RiskLevel; rules: string[] }> {
  const threshold = levelRank(from);
  const perPath = new Map<string, { level: RiskLevel; rules: string[] }>();
  for (const f of findings) {
    if (levelRank(f.level) < threshold) continue;
    for (const p of f.paths) {
      const entry = perPath.get(p);
      if (!entry) {
        perPath.set(p, { level: levelRank(f.level) > 0 ? f.level : "low", rules: [f.rule] });
        continue;
      }
      if (levelRank(f.level) > levelRank(entry.level)) entry.level = f.level;
      if (!entry.rules.includes(f.rule)) entry.rules.push(f.rule);
    }
  }
  return perPath;
}

/** Group the sensitive paths (findings at or above `approvals.codeowners.from`) by their owners and level. */
export function buildRequirements(input: BuildRequirementsInput): Requirement[] {
  const { policy, findings, codeowners } = input;
  const perPath = sensitivePaths(findings, policy.approvals.codeowners.from);

  // Owners and their grouping key depend only on the CODEOWNERS line that matched: computed once per line
  // (and recomputed should a line ever come back with other owners).
  const byLine = new Map<number, { raw: readonly string[]; owners: string[]; key: string }>();
  const ownersKey = (owners: string[]) => owners.map((o) => o.toLowerCase()).sort().join(" ");
  let fallback: { owners: string[]; key: string } | undefined;
  const groups = new Map<string, Omit<Requirement, "id" | "satisfiable" | "reason">>();
  for (const [path, entry] of perPath) {
    const level = entry.level;
    const match = codeowners.tooLarge ? null : codeowners.ownersOf(path);
    let owners: { owners: string[]; key: string };
    let source: OwnerSource;
    let line: number | undefined;
    if (match && match.owners.length > 0) {
      let known = byLine.get(match.line);
      if (!known || !sameList(known.raw, match.owners)) {
        const deduped = dedupeOwners(match.owners);
        byLine.set(match.line, (known = { raw: [...match.owners], owners: deduped, key: ownersKey(deduped) }));
      }
      owners = known;
      source = "codeowners";
      line = match.line;
    } else if (policy.approvals.fallback.length > 0) {
      if (!fallback) {
        const deduped = dedupeOwners(policy.approvals.fallback);
        fallback = { owners: deduped, key: ownersKey(deduped) };
      }
      owners = fallback;
      source = "fallback";
    } else {
      owners = { owners: [], key: "" };
      source = "unowned";
    }
    const key = `${source}\u0000${level}\u0000${owners.key}`;
    const group = groups.get(key);
    if (group) {
      group.paths.push(path);
      for (const r of entry.rules) if (!group.rules.includes(r)) group.rules.push(r);
      if (group.codeownersLine !== line) group.codeownersLine = undefined;
    } else {
      groups.set(key, {
        paths: [path],
        level,
        rules: [...entry.rules],
        owners: [...owners.owners],
        count: policy.approvals.count[level],
        source,
        codeownersLine: line,
      });
    }
  }

  const sorted = [...groups.values()].sort((a, b) => levelRank(b.level) - levelRank(a.level) || (a.paths[0] ?? "").localeCompare(b.paths[0] ?? ""));
  return sorted.map((g, i) => {
    const requirement: Requirement = { id: `r${i + 1}`, ...g, satisfiable: true };
    if (g.codeownersLine === undefined) delete requirement.codeownersLine;
    const why = staticUnsatisfiable(g, codeowners);
    if (why) {
      requirement.satisfiable = false;
      requirement.reason = why;
    }
    return requirement;
  });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function dedupeOwners(owners: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const o of owners) {
    const k = o.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(o);
  }
  return out;
}

function staticUnsatisfiable(g: { owners: string[]; count: number; source: OwnerSource }, codeowners: Codeowners): string | null {
  if (g.source === "unowned") {
    const where = codeowners.tooLarge
      ? `${codeowners.path ?? "CODEOWNERS"} is 3 MB or larger, so GitHub and Agent Gate ignore it`
      : codeowners.path === null
        ? "there is no CODEOWNERS file"
        : `${codeowners.path} gives these paths no owner`;
    return `nobody can approve: ${where} and approvals.fallback is empty`;
  }
  const reviewers = g.owners.filter((o) => o.startsWith("@"));
  if (reviewers.length === 0) {
    return "nobody can approve: the owners are email addresses, which cannot be matched to reviewers; use @user or @org/team";
  }
  if (!reviewers.some(isTeamOwner) && reviewers.length < g.count) {
    return `nobody can approve: ${g.count} approvals are needed but only ${reviewers.length} owner${reviewers.length === 1 ? " is" : "s are"} listed`;
  }
  return null;
}

/**
 * The `@org/team` owners whose membership decides the outcome, so the App fetches only those. When `reviews`
 * is given and nobody approved or requested changes, membership cannot change anything and none are needed.
 */
export function teamsToResolve(requirements: Requirement[], reviews?: Review[]): string[] {
  if (reviews && !reviews.some((r) => r.state === "APPROVED" || r.state === "CHANGES_REQUESTED")) return [];
  const seen = new Map<string, string>();
  for (const r of requirements) {
    if (!r.satisfiable) continue;
    for (const o of r.owners) if (isTeamOwner(o) && !seen.has(o.toLowerCase())) seen.set(o.toLowerCase(), o);
  }
  return [...seen.values()];
}

/**
 * Phase one of the two-phase engine: the teams whose full membership the decision needs (the engine also uses it
 * to see whether enough eligible owners exist at all). None unless a review could use them: an eligible approval
 * (on the head commit when approvals bind to it) or a "changes requested". Approvals by the author, agents, bots
 * or the triggering user, and stale approvals, cost nothing: they could not count anyway (invariants 3 and 4).
 */
export function teamsNeeded(input: { policy: ResolvedPolicy; pr: PullRequestFacts; requirements: Requirement[]; reviews: Review[] }): string[] {
  const { policy, pr } = input;
  const useful = latestReviews(input.reviews).some((r) => r.state === "CHANGES_REQUESTED" || (r.state === "APPROVED" && refusal(policy, pr, r) === null));
  return useful ? teamsToResolve(input.requirements, input.reviews).slice(0, MAX_TEAMS_PER_EVALUATION) : [];
}

/**
 * Phase one, too: whether the decision needs the PR's commits (who authored or committed them). Only when an
 * approval could otherwise count towards a requirement: an ordinary event costs no extra request (invariant 4).
 */
export function commitsNeeded(input: { policy: ResolvedPolicy; pr: PullRequestFacts; requirements: Requirement[]; reviews: Review[] }): boolean {
  if (!input.policy.approvals.pushersCannotApprove) return false;
  return approvalMayCount(input);
}

/**
 * Phase one: whether GitHub's validation of the base CODEOWNERS is needed (invariant 4): whenever a requirement
 * has code owners, whatever the reviews and `pushersCannotApprove` say. Not only when an approval could count: the
 * validation is read with its ETag, so reading it when the PR is opened makes every review's read a 304, which
 * GitHub does not count (issue 12); and the owners GitHub rejects are then never asked to review.
 */
export function ownerRejectionsNeeded(input: { requirements: Requirement[] }): boolean {
  return input.requirements.some((r) => r.source === "codeowners" && r.owners.length > 0);
}

/** An approval on the head from an eligible reviewer who may own an open requirement. */
function approvalMayCount(input: { policy: ResolvedPolicy; pr: PullRequestFacts; requirements: Requirement[]; reviews: Review[] }): boolean {
  const { policy, pr } = input;
  const open = input.requirements.filter((r) => r.satisfiable);
  // A team owner's members are not known yet: any reviewer may be one of them.
  const mayOwn = (login: string) => open.some((req) => req.owners.some((o) => isTeamOwner(o) || (isUserOwner(o) && sameLogin(ownerLogin(o), login))));
  return latestReviews(input.reviews).some((r) => r.state === "APPROVED" && refusal(policy, pr, r) === null && mayOwn(r.reviewer));
}

/**
 * Why this approval cannot count whoever owns what (invariants 3 and 4), or null: an ineligible reviewer, or a
 * review given on another head. The commit check comes after it (`commitRefusal`), since it costs a request.
 */
function refusal(policy: ResolvedPolicy, pr: PullRequestFacts, r: Review): string | null {
  const why = ineligibleReason(policy, pr, r.reviewer, r.reviewerType);
  if (why) return `approval does not count: ${r.reviewer} ${why}`;
  if (policy.approvals.invalidateOnPush && r.commitId !== pr.headSha) {
    return `approval does not count: given on ${r.commitId.slice(0, 7) || "an unknown commit"}, not on the head ${pr.headSha.slice(0, 7)}`;
  }
  if (policy.approvals.invalidateOnPush && r.givenFor && pr.diff && r.givenFor.fingerprint !== pr.diff.fingerprint) {
    return r.givenFor.baseRef !== pr.diff.baseRef
      ? `approval does not count: given for the diff against ${r.givenFor.baseRef}; the pull request now targets ${pr.diff.baseRef}`
      : `approval does not count: the diff changed since it was given (same head ${pr.headSha.slice(0, 7)}, base ${pr.diff.baseRef})`;
  }
  return null;
}

/** Whether the reviewer has commits in the PR (invariant 4); `commits` undefined: nobody could check, so no. */
function commitRefusal(policy: ResolvedPolicy, reviewer: string, commits: PullRequestCommits | undefined): string | null {
  if (!policy.approvals.pushersCannotApprove) return null;
  if (!commits) return `approval does not count: whether ${reviewer} has commits in the pull request could not be checked`;
  if (commits.logins.some((l) => sameLogin(l, reviewer))) return `approval does not count: ${reviewer} has commits in the pull request (author or committer)`;
  if (commits.truncated) return `approval does not count: the pull request has more commits than GitHub lists (250), so whether ${reviewer} made some cannot be checked`;
  return null;
}

/** Which latest approvals counted (and towards which requirement) and why the others did not. */
export function approvalVerdicts(result: Omit<ApprovalResult, "satisfied">, reviews: readonly Review[]): ApprovalVerdict[] {
  const countedFor = new Map<string, string[]>();
  for (const requirement of result.requirements) {
    for (const login of requirement.approvedBy) {
      const list = countedFor.get(login.toLowerCase()) ?? [];
      const paths = requirement.paths.length > 3 ? `${requirement.paths.slice(0, 3).join(", ")}, …` : requirement.paths.join(", ");
      list.push(`${requirement.id} (${paths})`);
      countedFor.set(login.toLowerCase(), list);
    }
  }
  const ignored = new Map(result.ignoredReviews.map((i) => [i.reviewer.toLowerCase(), i.reason]));
  return latestReviews(reviews)
    .filter((r) => r.state === "APPROVED")
    .map((r) => {
      const counted = countedFor.get(r.reviewer.toLowerCase());
      const reason = counted
        ? `counts as a code owner for ${counted.join("; ")}`
        : (ignored.get(r.reviewer.toLowerCase()) ?? (result.required ? "not an owner of any path that needs approval" : "no approval is required"));
      return { reviewer: r.reviewer, state: "APPROVED" as const, commitId: r.commitId || null, counted: counted !== undefined, reason };
    });
}

export interface EvaluateApprovalsInput {
  policy: ResolvedPolicy;
  requirements: Requirement[];
  reviews: Review[];
  headSha: string;
  pr: PullRequestFacts;
  teams: TeamMembership;
  /** The PR's commit authors and committers; needed when `commitsNeeded` said so (absent: such approvals do not count). */
  commits?: PullRequestCommits | undefined;
}

/** Why this login can never count as an approver (invariant 4), or null. */
export function ineligibleReason(policy: ResolvedPolicy, pr: PullRequestFacts, login: string, type?: string): string | null {
  if (sameLogin(login, pr.author)) return "is the pull request's author";
  if (policy.agents.authors.some((a) => sameLogin(a, login))) return "is an agent identity (agents.authors)";
  if (isBotLogin(login, type)) return "is a bot";
  if (pr.triggeredBy && sameLogin(login, pr.triggeredBy)) return "triggered the agent run";
  if (policy.approvals.pushersCannotApprove && pr.pushers?.some((p) => sameLogin(p, login))) return "pushed to the pull request's branch";
  return null;
}

const STATE_SETTING = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/** Each reviewer's review that decides their state: the latest that is not a comment (as on GitHub). */
export function latestReviews(reviews: readonly Review[]): Review[] {
  const order = reviews
    .map((r, i) => ({ r, i, t: Date.parse(r.submittedAt) }))
    .sort((a, b) => (Number.isNaN(a.t) ? -Infinity : a.t) - (Number.isNaN(b.t) ? -Infinity : b.t) || (a.r.id ?? 0) - (b.r.id ?? 0) || a.i - b.i);
  const latest = new Map<string, Review>();
  for (const { r } of order) {
    if (!STATE_SETTING.has(r.state)) continue;
    latest.set(r.reviewer.toLowerCase(), r);
  }
  return [...latest.values()].filter((r) => r.state !== "DISMISSED");
}

export function evaluateApprovals(input: EvaluateApprovalsInput): ApprovalResult {
  const { policy, requirements, reviews, headSha, pr } = input;
  const teams = new Map<string, Set<string>>();
  for (const [slug, members] of Object.entries(input.teams)) {
    teams.set(slug.toLowerCase(), new Set(members.map((m) => m.toLowerCase())));
  }

  const ignored: IgnoredReview[] = [];
  const approvers: string[] = [];
  const changers: string[] = [];
  for (const r of latestReviews(reviews)) {
    if (r.state === "CHANGES_REQUESTED") {
      // Blocks whoever sent it, eligible approver or not: an owner's objection stands until they withdraw it.
      changers.push(r.reviewer);
      continue;
    }
    const why = refusal(policy, { ...pr, headSha }, r);
    if (why) ignored.push({ reviewer: r.reviewer, reason: why });
    else approvers.push(r.reviewer);
  }

  const owns = (owner: string, login: string): boolean => {
    if (isUserOwner(owner)) return sameLogin(ownerLogin(owner), login);
    if (isTeamOwner(owner)) return teams.get(owner.toLowerCase())?.has(login.toLowerCase()) ?? false;
    return false;
  };

  // Checked only for an owner's approval, once per reviewer: a non-owner's approval needs no commit list.
  const commitChecked = new Map<string, boolean>();
  const madeNoCommits = (login: string): boolean => {
    let ok = commitChecked.get(login.toLowerCase());
    if (ok === undefined) {
      const why = commitRefusal(policy, login, input.commits);
      if (why) ignored.push({ reviewer: login, reason: why });
      commitChecked.set(login.toLowerCase(), (ok = why === null));
    }
    return ok;
  };

  const statuses: RequirementStatus[] = requirements.map((req) => {
    const isOwner = (login: string) => req.owners.some((o) => owns(o, login));
    const approvedBy = approvers.filter(isOwner).filter(madeNoCommits);
    const blockedBy = changers.filter(isOwner);
    let satisfiable = req.satisfiable;
    let reason = req.reason;
    if (satisfiable) {
      const why = dynamicUnsatisfiable(req, teams, (login) => ineligibleReason(policy, pr, login) !== null);
      if (why) {
        satisfiable = false;
        reason = why;
      }
    }
    const met = satisfiable && approvedBy.length >= req.count && blockedBy.length === 0;
    const waitingOn = met
      ? []
      : req.owners.filter(
          (o) =>
            o.startsWith("@") &&
            !(isUserOwner(o) && (approvedBy.some((a) => sameLogin(a, ownerLogin(o))) || ineligibleReason(policy, pr, ownerLogin(o)) !== null)),
        );
    const status: RequirementStatus = { ...req, satisfiable, approvedBy, waitingOn, blockedBy, met };
    if (reason !== undefined) status.reason = reason;
    return status;
  });

  ignored.sort((a, b) => a.reviewer.localeCompare(b.reviewer));
  return { required: statuses.length > 0, satisfied: statuses.every((s) => s.met), requirements: statuses, ignoredReviews: ignored };
}

/** With every team's members known, can enough eligible owners exist at all? */
function dynamicUnsatisfiable(req: Requirement, teams: Map<string, Set<string>>, ineligible: (login: string) => boolean): string | null {
  const candidates = new Set<string>();
  for (const o of req.owners) {
    if (isUserOwner(o)) candidates.add(ownerLogin(o).toLowerCase());
    else if (isTeamOwner(o)) {
      const members = teams.get(o.toLowerCase());
      if (!members) return null; // unknown membership: someone may still approve
      for (const m of members) candidates.add(m);
    }
  }
  let eligible = 0;
  for (const c of candidates) if (!ineligible(c)) eligible++;
  if (eligible >= req.count) return null;
  return `nobody can approve: ${req.count} approval${req.count === 1 ? " is" : "s are"} needed from its owners but only ${eligible} of them can approve (the author, agent identities, bots, whoever triggered the run and whoever pushed to it cannot)`;
}
