/**
 * The load stage: one snapshot of what the engine reads, then (after the engine's phase one) the teams it named,
 * then, right before publishing, the current state as the store knows it (no GitHub read). All reads; the only writes are the store's memory of
 * what was seen on first sight (the triggering user, the humans who pushed, the newest head).
 *
 * Order and why: the policy (base branch, base commit) first: it decides whether the PR is in scope at all, so a
 * human PR costs one conditional read and no writes. Then CODEOWNERS, files and reviews in parallel; no reviews on
 * the first attempt of a PR's `opened` (there are none yet).
 */
import type { PullRequestInfo, RepoRef } from "../../github/port.js";
import { classifyPullRequest } from "../../policy/agents.js";
import { conditionLabels, usesAgentCondition, usesTitleCondition } from "../../policy/conditions.js";
import type { ResolvedPolicy } from "../../policy/config.js";
import type { ChangedFile, Decision, PullRequestFacts, TeamMembership } from "../../policy/types.js";
import { MAX_LISTED_FILES } from "../../shared/limits.js";
import { readEnforcement } from "../enforcement.js";
import { approvalCheckName } from "../render.js";
import { loadCodeownersAt, loadPolicy } from "../snapshot.js";
import { telemetryAccepted } from "../telemetry-gate.js";
import type { ServiceDeps } from "../types.js";
import { proposedGateFileNotes } from "./gate-files.js";
import { diffIdentity, observeReviews } from "./observations.js";
import { modeQueryFor, withModes } from "./modes.js";
import type { CurrentState, EvaluationContext, Snapshot } from "./types.js";

export type Loaded = Snapshot | { kind: "skip"; reason: string };

/**
 * The pull request, its policy and everything the engine reads, or why it is not evaluated. `seen.pr` is set as
 * soon as the pull request is known, so a failure after it can still publish a failing check on its head.
 * @throws {GitHubApiError} when GitHub cannot be read.
 */
export async function loadSnapshot(ctx: EvaluationContext, seen: { pr?: PullRequestInfo | undefined }): Promise<Loaded> {
  const { deps, scope, target } = ctx;
  const { github } = deps;
  const repo = target.repo;
  const pr = target.pull ?? (await github.getPullRequest(repo, target.number));
  seen.pr = pr;
  if (pr.state !== "open") return { kind: "skip", reason: `the pull request is ${pr.merged ? "merged" : "closed"}` };
  if (target.onlyIfHeadSha && target.onlyIfHeadSha !== pr.headSha) {
    return { kind: "skip", reason: `the re-run check is for ${target.onlyIfHeadSha.slice(0, 7)}, but the head is now ${pr.headSha.slice(0, 7)}` };
  }
  const checkName = approvalCheckName(pr.baseRef);

  const policyLoad = await loadPolicy(github, repo, pr.baseSha);
  if (policyLoad.ok) {
    const irrelevant = irrelevantChange(policyLoad.policy, target);
    if (irrelevant) return { kind: "skip", reason: irrelevant };
  }
  const facts = toFacts(pr, await scope.firstTriggeredBy(triggeredByFromBody(pr.body)), await scope.recordPushers(target.pushers ?? [], pr.headSha));
  if (!policyLoad.ok) {
    // We cannot know the intended scope, so every PR fails until the policy is fixed (fail closed).
    const enforcement = await readEnforcement(deps, repo, target.installationId, pr.baseRef, checkName);
    return { kind: "invalid-policy", pr, checkName, enforcement, errors: policyLoad.errors, policySource: policyLoad.source };
  }
  const policy = policyLoad.policy;
  const classification = classifyPullRequest(policy, facts);
  if (!classification.inScope) return { kind: "skip", reason: `not in scope: ${classification.reason}` };

  // Recorded at once, so a failed attempt is remembered: only the PR's very first attempt may skip its reviews.
  const first = await scope.firstAttempt(pr.headSha, dateOf(pr.updatedAt));
  // A PR just opened has no reviews (issue 12: one request fewer). Fail closed if wrong: fewer approvals count,
  // and any review submitted has its own event, folded into this job (which then reads them) or run after it.
  const skipReviews = target.opened === true && first;
  if (skipReviews) deps.log.debug({}, "first evaluation of a PR just opened: no reviews to read");
  // GitHub already told us the PR is at the listing limit: reading 30 pages would not change the outcome.
  const truncatedUpFront = (pr.changedFiles ?? 0) >= MAX_LISTED_FILES;
  const [codeowners, listing, reviews] = await allReads([
    loadCodeownersAt(github, repo, pr.baseSha),
    truncatedUpFront
      ? Promise.resolve({ files: [], truncated: true })
      : github.listPullRequestFiles(repo, pr.number, { limit: MAX_LISTED_FILES, headSha: pr.headSha, baseSha: pr.baseSha }),
    skipReviews ? Promise.resolve([]) : github.listReviews(repo, pr.number),
  ]);
  // With the modes, the PR's commits (invariant 4 asks for them when an approval could count): the first review then
  // reads them from memory instead of REST (issue 12). Not needed if the policy lets pushers approve.
  const files = await readModes(deps, repo, pr, listing.files, policy.approvals.pushersCannotApprove);
  const truncated = listing.truncated || truncatedUpFront;
  // Invariant 3: what each approval was given against, recorded on first sight (when the policy binds approvals).
  const diff = policy.approvals.invalidateOnPush ? diffIdentity(pr.baseRef, listing.files, truncated) : undefined;
  const needsTelemetry = policy.telemetry.required && classification.isAgent;
  // An `agent:` condition counts accepted telemetry as agent evidence: a store read, never a GitHub request.
  const accepted = needsTelemetry || usesAgentCondition(policy) ? await telemetryAccepted(deps, repo, pr) : false;
  return {
    kind: "evaluable",
    pr,
    checkName,
    policy,
    policySource: policyLoad.source,
    facts: { ...facts, ...(accepted ? { telemetryAccepted: true } : {}), ...(diff ? { diff } : {}) },
    codeowners,
    files,
    truncated,
    reviews: diff ? await observeReviews(ctx, pr, reviews, diff) : reviews,
    telemetryAccepted: accepted,
    gateNotes: await proposedGateFileNotes(deps, repo, pr, files),
    enforcement: await readEnforcement(deps, repo, target.installationId, pr.baseRef, checkName),
  };
}

/**
 * Why a label or title change cannot alter the decision under this policy, or null: a label counts when it marks
 * agent PRs or a rule's `labels:` condition names it; a title when some rule has a `title:` condition.
 */
function irrelevantChange(policy: ResolvedPolicy, target: EvaluationContext["target"]): string | null {
  if (target.onlyIfAgentLabel !== undefined) {
    const label = target.onlyIfAgentLabel.toLowerCase();
    if (!policy.agents.labels.some((l) => l.toLowerCase() === label) && !conditionLabels(policy).has(label)) {
      return `label "${target.onlyIfAgentLabel}" is not an agent label and no rule's condition names it`;
    }
  }
  if (target.onlyIfTitleCondition && !usesTitleCondition(policy)) return "the title changed, and no rule has a title condition";
  return null;
}

/**
 * The listing with git modes, which the files API does not carry (invariant 2); one GraphQL query per 250 paths,
 * the first also reading the PR's commits when `withCommits`.
 */
async function readModes(deps: ServiceDeps, repo: RepoRef, pr: PullRequestInfo, files: ChangedFile[], withCommits: boolean): Promise<ChangedFile[]> {
  const query = modeQueryFor(files, { baseSha: pr.baseSha, headSha: pr.headSha });
  return query ? withModes(files, await deps.github.getFileModes(repo, { ...query, ...(withCommits ? { pullRequest: pr.number } : {}) })) : files;
}

/** Members of the teams the engine named (phase one), one request per team. */
export async function loadTeams(deps: ServiceDeps, teams: readonly string[]): Promise<TeamMembership> {
  const membership: TeamMembership = {};
  for (const team of teams) {
    const match = /^@([^/\s]+)\/([^/\s]+)$/.exec(team);
    if (!match) continue;
    membership[team] = await deps.github.listTeamMembers(match[1] as string, match[2] as string);
  }
  return membership;
}

/**
 * The state the plan compares against, right before publishing, without reading the PR again (issue 12): the
 * PR as the event (or the load) showed it, and what the store remembers.
 *
 * Why no re-read: every event is a durable per-PR job, the check run is bound to its head SHA, and a newer head's
 * event always has a job after this one (folded into it while pending, or run after it). So a decision for a head
 * that moved on can only publish a check on that older head (harmless: GitHub requires the check on the newest
 * head) and risk labels the newer head's job replaces. What the re-read protected, kept without it:
 * - a decision for a head older than one already evaluated (a retried or late job) publishes nothing: the store's
 *   head memory (`isStale`) says so, and also checks the PR lock is still held;
 * - the newer job removes the label this one set even when its event was sent before the label was (its payload
 *   does not show it): `lastRisk` names the label of the last recorded decision, which the plan removes if it is
 *   no longer wanted (a DELETE of a label that is gone is a no-op).
 */
export async function loadCurrentState(ctx: EvaluationContext, pr: PullRequestInfo, decision: Decision | null): Promise<CurrentState | { superseded: string }> {
  if (await ctx.scope.isStale(pr.headSha, dateOf(pr.updatedAt))) {
    return { superseded: `a head newer than ${pr.headSha.slice(0, 7)} was already seen for this pull request; its evaluation publishes` };
  }
  const waits = decision !== null && decision.approval.requirements.some((r) => !r.met && r.satisfiable && r.waitingOn.length > 0);
  if (waits && pr.draft) ctx.deps.log.debug({}, "draft: review requests wait for ready_for_review");
  const last = await ctx.scope.lastDecision();
  return { pull: pr, askedBefore: waits && !pr.draft ? await ctx.scope.requestedOwners() : new Set(), lastRisk: last?.risk ?? null };
}

/** Like Promise.all, but waits for every read to finish before failing, so nothing is in flight when we publish. */
async function allReads<T extends readonly unknown[]>(reads: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(reads);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export function dateOf(iso: string | undefined): Date | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function toFacts(pr: PullRequestInfo, triggeredBy: string | undefined, pushers: string[]): PullRequestFacts {
  return {
    number: pr.number,
    author: pr.author.login,
    authorType: pr.author.type,
    baseRef: pr.baseRef,
    headRef: pr.headRef,
    headSha: pr.headSha,
    labels: pr.labels.map((l) => l.name),
    changedFiles: pr.changedFiles,
    triggeredBy,
    title: pr.title,
    pushers,
  };
}

/**
 * The human who started the agent run, as the sandbox action writes it into the PR body:
 * `<!-- agent-gate: triggered-by=@login -->` (or a `Triggered-by: @login` line).
 */
export function triggeredByFromBody(body: string): string | undefined {
  const match = /<!--\s*agent-gate:[^>]*?\btriggered-by\s*[=:]\s*@?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(?:\[bot\])?[^>]*-->/i.exec(body) ?? /^\s*triggered-by:\s*@([A-Za-z0-9][A-Za-z0-9-]{0,38})\s*$/im.exec(body);
  return match?.[1];
}
