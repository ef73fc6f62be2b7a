/**
 * The plan stage (pure): the desired GitHub state against the current one, as the changes that get there (like
 * repository-settings' diffable plugins): the approval check, the risk labels, the review requests.
 */
import type { PullRequestInfo, RepoRef } from "../../github/port.js";
import { isBotLogin } from "../../policy/agents.js";
import { riskAnnotations } from "../../policy/annotations.js";
import type { ResolvedPolicy } from "../../policy/config.js";
import { riskLabel } from "../../policy/decision.js";
import { RISK_LABEL_COLORS, RISK_LABEL_DESCRIPTIONS, renderDecisionMarkdown } from "../../policy/render.js";
import { ownersToAsk } from "../../policy/requests.js";
import type { Decision, Review } from "../../policy/types.js";
import { MAX_ANNOTATIONS } from "../../shared/limits.js";
import { approvalCheckName, couldNotEvaluateSummary, summaryWithAuditEntry } from "../render.js";
import type { AuditWitnessRef } from "../types.js";
import type { CurrentState, Decided, LabelPlan, PublicationPlan, ReviewRequestPlan, Snapshot } from "./types.js";

export function planPublication(repo: RepoRef, snapshot: Snapshot, decided: Decided, current: CurrentState): PublicationPlan {
  const { decision } = decided;
  const { pr } = snapshot;
  const check = {
    name: snapshot.checkName,
    headSha: pr.headSha,
    conclusion: decision.conclusion,
    title: decision.title,
    summary: renderDecisionMarkdown(decision, decided.notes),
    externalId: `pr:${pr.number}`,
  };
  // An invalid policy says nothing about risk or owners: only the failing check is published.
  if (snapshot.kind === "invalid-policy") return { number: pr.number, check, labels: null, reviews: null };
  return {
    number: pr.number,
    // The lines that made the pull request risky, up to MAX_ANNOTATIONS: the first 50 with the request that creates
    // the check run, the rest 50 per PATCH (a later decision on the same head sends none: GitHub keeps them; see
    // publishCheckRun). Past 50 each batch costs one write, so the cap keeps a huge PR at 10 requests.
    check: { ...check, annotations: riskAnnotations(decision.findings, MAX_ANNOTATIONS) },
    labels: planLabels(current.pull, decision, snapshot.policy, current.lastRisk ? [riskLabel(snapshot.policy, current.lastRisk)] : []),
    reviews: planReviewRequests(repo, current, decision, snapshot.reviews),
  };
}

/** The failing check published when the evaluation could not finish (invariant 5): nothing else changes. */
export function planCouldNotEvaluate(pr: PullRequestInfo, error: unknown, deliveryId: string | undefined): PublicationPlan {
  const { title, summary } = couldNotEvaluateSummary(error, deliveryId);
  return {
    number: pr.number,
    check: { name: approvalCheckName(pr.baseRef), headSha: pr.headSha, conclusion: "failure", title, summary, externalId: `pr:${pr.number}` },
    labels: null,
    reviews: null,
  };
}

/**
 * The check with the audit entry of its recorded decision at the end of its summary. The summary is cut first if
 * it needs the room, so GitHub's limit never cuts the entry off.
 */
export function withAuditEntry(plan: PublicationPlan, audit: AuditWitnessRef | null): PublicationPlan {
  if (audit === null) return plan;
  return { ...plan, check: { ...plan.check, summary: summaryWithAuditEntry(plan.check.summary, audit) } };
}

/**
 * The one current risk label; stale ones with the policy's prefix go; no other label is touched. `maybeSet`: labels
 * this App may have set after `pull` was read (removed when stale, never taken as present: it may not have been set).
 */
export function planLabels(pull: PullRequestInfo, decision: Pick<Decision, "labels" | "risk">, policy: ResolvedPolicy, maybeSet: readonly string[] = []): LabelPlan {
  const prefix = policy.labels.prefix.toLowerCase();
  const desired = new Set(decision.labels.map((l) => l.toLowerCase()));
  const shown = pull.labels.map((l) => l.name);
  const shownLower = new Set(shown.map((l) => l.toLowerCase()));
  const current = [...shown, ...maybeSet.filter((l) => !shownLower.has(l.toLowerCase()))];
  return {
    add: decision.labels.filter((l) => !shownLower.has(l.toLowerCase())),
    remove: current.filter((l) => l.toLowerCase().startsWith(prefix) && !desired.has(l.toLowerCase())),
    style: { color: RISK_LABEL_COLORS[decision.risk], description: RISK_LABEL_DESCRIPTIONS[decision.risk] },
  };
}

/**
 * The owners a requirement still waits on, asked once: not those GitHub already lists as requested, not those
 * who reviewed already (on this head or any), not the author or bots, not anyone this App asked before. Not on
 * drafts. Each requirement's `requests` mode (all, one, team, none) picks among them (src/policy/requests.ts).
 */
export function planReviewRequests(repo: RepoRef, current: CurrentState, decision: Decision, reviews: readonly Review[]): ReviewRequestPlan | null {
  const { pull, askedBefore } = current;
  if (pull.draft) return null;
  const reviewed = new Set(reviews.map((r) => r.reviewer.toLowerCase()));
  const requestedUsers = new Set(pull.requestedReviewers.map((l) => l.toLowerCase()));
  const requestedTeams = new Set(pull.requestedTeams.map((s) => s.toLowerCase()));
  const target = (owner: string): { team: string } | { user: string } | null => {
    const team = /^@([^/\s]+)\/([^/\s]+)$/.exec(owner);
    if (team) {
      const [, org, slug] = team as unknown as [string, string, string];
      // GitHub only takes teams of the repository's own organisation.
      return org.toLowerCase() === repo.owner.toLowerCase() ? { team: slug } : null;
    }
    const user = /^@([A-Za-z0-9-]+)$/.exec(owner)?.[1];
    if (!user) return null; // an email owner cannot be requested through the API
    const u = user.toLowerCase();
    return reviewed.has(u) || u === pull.author.login.toLowerCase() || isBotLogin(user) ? null : { user };
  };
  const pending = (owner: string): boolean => {
    if (askedBefore.has(owner.toLowerCase())) return true;
    const t = target(owner);
    return t !== null && ("team" in t ? requestedTeams.has(t.team.toLowerCase()) : requestedUsers.has(t.user.toLowerCase()));
  };
  const askable = (owner: string) => target(owner) !== null && !pending(owner);
  const waiting = new Set<string>();
  for (const requirement of decision.approval.requirements) {
    if (requirement.met || !requirement.satisfiable) continue;
    for (const owner of ownersToAsk(requirement, pull.number, askable, pending)) waiting.add(owner);
  }
  const plan: ReviewRequestPlan = { users: [], teams: [], owners: [] };
  for (const owner of waiting) {
    const t = target(owner);
    if (t === null) continue;
    if ("team" in t) plan.teams.push(t.team);
    else plan.users.push(t.user);
    plan.owners.push(owner);
  }
  return plan.owners.length > 0 ? plan : null;
}
