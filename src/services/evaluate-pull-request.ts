/**
 * The App's one use case: snapshot → policy engine → publish → record.
 *
 * Order and why:
 * 1. The policy (base branch, base commit) first: it decides whether the PR is in scope at all, so a human PR
 *    costs one conditional read and no writes.
 * 2. CODEOWNERS, files and reviews in parallel; team membership only for teams a requirement names and only for
 *    reviewers who approved.
 * 3. The engine decides (pure).
 * 4. The PR is read again right before publishing: a decision for a head or base that is no longer current is
 *    dropped (invariant 9), since the event for the newer state publishes its own.
 * 5. The check run first (it is the gate), then labels and review requests, whose failures are logged, not fatal.
 *
 * Any error before the check is published: a `failure` check "could not evaluate" is attempted, the error is
 * logged with the delivery id and rethrown (GitHub records the delivery as failed and it can be redelivered).
 */
import { isGitHubApiError } from "../github/errors.js";
import type { LabelInfo, PullRequestInfo, RepoRef } from "../github/port.js";
import { CODEOWNERS_LOCATIONS, parseCodeowners } from "../policy/codeowners.js";
import type { Codeowners } from "../policy/codeowners.js";
import { POLICY_PATH, formatPolicyError, parsePolicy } from "../policy/config.js";
import type { ResolvedPolicy } from "../policy/config.js";
import { classifyPullRequest, isBotLogin } from "../policy/agents.js";
import { ANNOTATIONS_PER_REQUEST, MAX_LISTED_FILES } from "../shared/limits.js";
import { buildRequirements, ineligibleReason, latestReviews, teamsToResolve } from "../policy/approvals.js";
import { evaluate, policyErrorDecision } from "../policy/decision.js";
import { RISK_LABEL_COLORS, RISK_LABEL_DESCRIPTIONS, renderDecisionMarkdown } from "../policy/render.js";
import { assessRisk } from "../policy/risk.js";
import { inputsDigest } from "../store/canonical.js";
import type { ChangedFile, Decision, PullRequestFacts, Review, TeamMembership } from "../policy/types.js";
import { enforcementNote, readEnforcement } from "./enforcement.js";
import { approvalCheckName, code, couldNotEvaluateSummary, fence } from "./render.js";
import { loadCodeownersAt, loadPolicy } from "./snapshot.js";
import { applyTelemetryRequirement } from "./telemetry-gate.js";
import type { Enforcement, EvaluationOutcome, PullRequestKey, PullRequestScope, ServiceDeps } from "./types.js";
import { riskAnnotations } from "../policy/annotations.js";

/** GitHub's listing limit: a PR at or over it cannot be fully read (invariant 2). */
export const FILE_LIMIT = MAX_LISTED_FILES;
/** At most this many teams' members are read per evaluation; owners in further teams cannot count. */
const MAX_TEAMS = 20;

export interface EvaluationTarget {
  repo: RepoRef;
  installationId?: number | undefined;
  number: number;
  /** The pull request from the webhook payload; read from GitHub when absent (check re-runs). */
  pull?: PullRequestInfo | undefined;
  /** `X-GitHub-Delivery`: logged with every error, and the key for redelivery dedup. */
  deliveryId?: string | undefined;
  /** `pull_request.opened` etc., for logs and the audit record. */
  event: string;
  /** labeled/unlabeled: evaluate only when this label is one of the policy's agent labels. */
  onlyIfAgentLabel?: string | undefined;
  /** check re-runs: evaluate only when the PR's head is still this commit. */
  onlyIfHeadSha?: string | undefined;
  /**
   * Whether a failure publishes a failing "could not evaluate" check (default true). A job queue passes false
   * on attempts it will retry, so a passing glitch (or a database error) never reaches the PR.
   */
  publishFailure?: boolean | undefined;
}

/**
 * Evaluates one pull request and publishes the outcome.
 * @throws {GitHubApiError} when GitHub fails before the decision is published (after trying to publish a
 *   failing "could not evaluate" check).
 */
export async function evaluatePullRequest(deps: ServiceDeps, target: EvaluationTarget): Promise<EvaluationOutcome> {
  const key: PullRequestKey = { ...target.repo, number: target.number, installationId: target.installationId };
  const log = childLog(deps, target);
  // Dedup inside the lock: two copies of one delivery arriving together cannot both pass the check.
  return deps.store.withPullRequestLock(key, async (scope) => {
    if (target.deliveryId && (await scope.isDeliveryDone(target.deliveryId, target.event))) {
      log.info({ deliveryId: target.deliveryId }, "skipped: this delivery was already handled (redelivery)");
      return { kind: "skipped", reason: "delivery already handled" };
    }
    const outcome = await run({ ...deps, log }, scope, target, key);
    // Only a delivery handled to the end is marked: a failed one may be redelivered and must run again.
    if (target.deliveryId) await scope.markDeliveryDone(target.deliveryId, outcome.kind);
    return outcome;
  });
}

function childLog(deps: ServiceDeps, target: EvaluationTarget): ServiceDeps["log"] {
  const fields = { pr: `${target.repo.owner}/${target.repo.repo}#${target.number}`, event: target.event, deliveryId: target.deliveryId };
  const base = deps.log;
  return {
    debug: (obj, msg) => base.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => base.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => base.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => base.error({ ...fields, ...obj }, msg),
  };
}

async function run(deps: ServiceDeps, scope: PullRequestScope, target: EvaluationTarget, key: PullRequestKey): Promise<EvaluationOutcome> {
  const { github, log } = deps;
  const repo = target.repo;
  let pr: PullRequestInfo | undefined = target.pull;
  let published = false;
  try {
    pr ??= await github.getPullRequest(repo, target.number);
    if (pr.state !== "open") return skip(log, `the pull request is ${pr.merged ? "merged" : "closed"}`);
    if (target.onlyIfHeadSha && target.onlyIfHeadSha !== pr.headSha) {
      return skip(log, `the re-run check is for ${target.onlyIfHeadSha.slice(0, 7)}, but the head is now ${pr.headSha.slice(0, 7)}`);
    }
    const checkName = approvalCheckName(pr.baseRef);

    const policyLoad = await loadPolicy(github, repo, pr.baseSha);
    if (policyLoad.ok && target.onlyIfAgentLabel !== undefined) {
      const label = target.onlyIfAgentLabel.toLowerCase();
      if (!policyLoad.policy.agents.labels.some((l) => l.toLowerCase() === label)) {
        return skip(log, `label "${target.onlyIfAgentLabel}" is not an agent label`);
      }
    }

    const triggeredBy = await scope.firstTriggeredBy(triggeredByFromBody(pr.body));
    const facts = toFacts(pr, triggeredBy);

    if (!policyLoad.ok) {
      // We cannot know the intended scope, so every PR fails until the policy is fixed (fail closed).
      const enforcement = await readEnforcement(deps, repo, target.installationId, pr.baseRef, checkName);
      if (!(await stillCurrent(deps, scope, target, pr))) return superseded(log, pr);
      const notes = noteList(enforcementNote(enforcement, checkName, pr.baseRef));
      const decision = policyErrorDecision({ errors: policyLoad.errors, policySource: policyLoad.source, headSha: pr.headSha });
      const check = await github.createCheckRun(repo, {
        name: checkName,
        headSha: pr.headSha,
        conclusion: "failure",
        title: decision.title,
        summary: renderDecisionMarkdown(decision, notes),
        externalId: `pr:${pr.number}`,
      });
      published = true;
      log.warn({ errors: decision.policyErrors, conclusion: "failure" }, "invalid policy: published a failing check");
      await scope.recordDecision({
        ...recordBase(deps, target, key, pr, checkName),
        checkRunId: check.id,
        conclusion: "failure",
        risk: null,
        decision,
        reason: decision.title,
        policy: policyLoad.source,
      });
      return { kind: "published", conclusion: "failure", risk: null, checkName, checkRunId: check.id, labels: { added: [], removed: [] }, reviewRequested: [], enforcement: enforcement.state };
    }

    const policy = policyLoad.policy;
    const classification = classifyPullRequest(policy, facts);
    if (!classification.inScope) return skip(log, `not in scope: ${classification.reason}`);

    const truncatedUpFront = (pr.changedFiles ?? 0) >= FILE_LIMIT;
    const [codeowners, listing, reviews] = await allReads([
      loadCodeownersAt(github, repo, pr.baseSha),
      // GitHub already told us the PR is at the listing limit: reading 30 pages would not change the outcome.
      truncatedUpFront ? Promise.resolve({ files: [] as ChangedFile[], truncated: true }) : github.listPullRequestFiles(repo, pr.number, { limit: FILE_LIMIT, headSha: pr.headSha, baseSha: pr.baseSha }),
      github.listReviews(repo, pr.number),
    ]);
    const truncated = listing.truncated || truncatedUpFront;
    const teams = await resolveTeams(deps, { policy, codeowners, files: listing.files, pr: facts, truncated, reviews });

    const evaluated = evaluate({
      policy,
      policySource: policyLoad.source,
      codeowners,
      files: listing.files,
      pr: facts,
      reviews,
      teams,
      truncated,
    });
    // telemetry.required: without accepted telemetry for this head, the check waits (DESIGN.md invariant 7).
    const { decision, note: telemetryNote } = await applyTelemetryRequirement(deps, repo, pr, policy, evaluated);

    const gateNotes = await validateProposedGateFiles(deps, repo, pr, listing.files);
    const enforcement = await readEnforcement(deps, repo, target.installationId, pr.baseRef, checkName);

    const fresh = await github.getPullRequest(repo, pr.number);
    if (!sameTarget(fresh, pr) || (await scope.isStale(fresh.headSha, dateOf(fresh.updatedAt)))) return superseded(log, pr, fresh);

    const notes = [...noteList(enforcementNote(enforcement, checkName, pr.baseRef), telemetryNote), ...gateNotes];
    const check = await github.createCheckRun(repo, {
      name: checkName,
      headSha: pr.headSha,
      conclusion: decision.conclusion,
      title: decision.title,
      summary: renderDecisionMarkdown(decision, notes),
      externalId: `pr:${pr.number}`,
      // The lines that made the pull request risky: the first 50, in the request that creates the check run (a
      // later decision on the same head sends none; see publishCheckRun), so publishing costs no extra request.
      annotations: riskAnnotations(decision.findings, ANNOTATIONS_PER_REQUEST),
    });
    published = true;
    log.info({ conclusion: decision.conclusion, risk: decision.risk, headSha: pr.headSha, checkRunId: check.id, enforcement: enforcement.state }, "published the approval check");

    const labels = await syncLabels(deps, repo, fresh, decision, policy);
    const reviewRequested = await requestCodeOwnerReviews(deps, scope, repo, fresh, decision, reviews);

    await scope.recordDecision({
      ...recordBase(deps, target, key, pr, checkName),
      checkRunId: check.id,
      conclusion: decision.conclusion,
      risk: decision.risk,
      decision,
      reason: decision.title,
      policy: decision.policy,
      // The policy and CODEOWNERS are named by source and commit: their content is fixed by those.
      inputsDigest: inputsDigest({
        policy: decision.policy,
        codeowners: { path: decision.codeowners.path, ref: pr.baseSha },
        pr: facts,
        files: listing.files,
        truncated,
        reviews,
        teams,
      }),
      reviews,
      labels,
    });
    return { kind: "published", conclusion: decision.conclusion, risk: decision.risk, checkName, checkRunId: check.id, labels, reviewRequested, enforcement: enforcement.state };
  } catch (error) {
    const errorLog = isGitHubApiError(error) ? error.toLog() : error;
    log.error({ err: errorLog, deliveryId: target.deliveryId }, "evaluation failed");
    if (!published && pr && target.publishFailure !== false) await publishCouldNotEvaluate(deps, scope, target, key, pr, error);
    throw error;
  }
}

/** Like Promise.all, but waits for every read to finish before failing, so nothing is in flight when we publish. */
async function allReads<T extends readonly unknown[]>(reads: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(reads);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function skip(log: ServiceDeps["log"], reason: string): EvaluationOutcome {
  log.info({ reason }, `skipped: ${reason}`);
  return { kind: "skipped", reason };
}

function superseded(log: ServiceDeps["log"], pr: PullRequestInfo, fresh?: PullRequestInfo): EvaluationOutcome {
  const reason = fresh
    ? `the pull request moved on (head ${pr.headSha.slice(0, 7)} -> ${fresh.headSha.slice(0, 7)}, base ${pr.baseRef} -> ${fresh.baseRef}, state ${fresh.state}); the newer event publishes`
    : "the pull request moved on while it was evaluated; the newer event publishes";
  log.info({ reason }, "not publishing a stale decision");
  return { kind: "superseded", reason };
}

function sameTarget(fresh: PullRequestInfo, pr: PullRequestInfo): boolean {
  return fresh.state === "open" && fresh.headSha === pr.headSha && fresh.baseRef === pr.baseRef;
}

async function stillCurrent(deps: ServiceDeps, scope: PullRequestScope, target: EvaluationTarget, pr: PullRequestInfo): Promise<boolean> {
  const fresh = await deps.github.getPullRequest(target.repo, pr.number);
  return sameTarget(fresh, pr) && !(await scope.isStale(fresh.headSha, dateOf(fresh.updatedAt)));
}

function dateOf(iso: string | undefined): Date | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function noteList(...notes: Array<string | null>): string[] {
  return notes.filter((n): n is string => n !== null);
}

function recordBase(deps: ServiceDeps, target: EvaluationTarget, key: PullRequestKey, pr: PullRequestInfo, checkName: string) {
  const pullRequest = pr.title === undefined ? undefined : { title: pr.title, author: pr.author.login || null, openedAt: dateOf(pr.createdAt) ?? null };
  return { key, deliveryId: target.deliveryId, event: target.event, headSha: pr.headSha, baseRef: pr.baseRef, baseSha: pr.baseSha, checkName, evaluatedAt: deps.clock(), pullRequest };
}

function toFacts(pr: PullRequestInfo, triggeredBy: string | undefined): PullRequestFacts {
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

/**
 * Full membership of the teams a requirement names (the engine also uses it to see whether enough eligible owners
 * exist at all), fetched only when a review could use it: an eligible approval (on the head commit when approvals
 * bind to it) or a "changes requested". Approvals by the author, agents, bots or the triggering user, and stale
 * approvals, cost nothing: they could not count anyway (invariants 3 and 4). One request per team per evaluation.
 */
async function resolveTeams(
  deps: ServiceDeps,
  input: { policy: ResolvedPolicy; codeowners: Codeowners; files: ChangedFile[]; pr: PullRequestFacts; truncated: boolean; reviews: Review[] },
): Promise<TeamMembership> {
  const membership: TeamMembership = {};
  const latest = latestReviews(input.reviews);
  const useful = latest.some(
    (r) =>
      r.state === "CHANGES_REQUESTED" ||
      (r.state === "APPROVED" &&
        (!input.policy.approvals.invalidateOnPush || r.commitId === input.pr.headSha) &&
        ineligibleReason(input.policy, input.pr, r.reviewer, r.reviewerType) === null),
  );
  if (!useful) return membership;
  const { findings } = assessRisk({ policy: input.policy, files: input.files, pr: input.pr, truncated: input.truncated });
  const requirements = buildRequirements({ policy: input.policy, findings, codeowners: input.codeowners });
  for (const team of teamsToResolve(requirements, input.reviews).slice(0, MAX_TEAMS)) {
    const match = /^@([^/\s]+)\/([^/\s]+)$/.exec(team);
    if (!match) continue;
    membership[team] = await deps.github.listTeamMembers(match[1] as string, match[2] as string);
  }
  return membership;
}

/**
 * A PR that edits the policy or CODEOWNERS is judged by the base versions (invariant 1); the versions it proposes
 * are validated here so their author sees the errors before merging.
 */
async function validateProposedGateFiles(deps: ServiceDeps, repo: RepoRef, pr: PullRequestInfo, files: ChangedFile[]): Promise<string[]> {
  const notes: string[] = [];
  const touched = new Map(files.map((f) => [f.filename, f]));
  const policyFile = touched.get(POLICY_PATH);
  if (policyFile) {
    if (policyFile.status === "removed") {
      notes.push(`This pull request deletes ${code(POLICY_PATH)}; it is judged by the base branch's policy. Once merged, the organisation default or the recommended preset applies.`);
    } else {
      const text = await deps.github.getFileText(repo, POLICY_PATH, pr.headSha);
      if (text !== null) {
        const parsed = parsePolicy(text, POLICY_PATH);
        notes.push(
          parsed.ok
            ? `This pull request changes ${code(POLICY_PATH)}. The proposed policy is valid; this evaluation still uses the base branch's policy, as every evaluation does.`
            : `This pull request changes ${code(POLICY_PATH)}, and the proposed policy is **invalid**; merged as is, every pull request would fail this check:\n\n${fence(parsed.errors.map(formatPolicyError).join("\n"))}`,
        );
      }
    }
  }
  const codeownersPaths = CODEOWNERS_LOCATIONS.filter((p) => touched.has(p) && touched.get(p)?.status !== "removed");
  for (const path of codeownersPaths) {
    const text = await deps.github.getFileText(repo, path, pr.headSha);
    if (text === null) continue;
    const proposed = parseCodeowners(text, { path, byteLength: Buffer.byteLength(text, "utf8") });
    const ours = proposed.errors.map((e) => `${path}:${e.line}: ${e.message}`);
    notes.push(
      ours.length === 0
        ? `This pull request changes ${code(path)}. The proposed file parses cleanly; this evaluation still uses the base branch's CODEOWNERS.`
        : `This pull request changes ${code(path)}, and the proposed file has errors (those lines would be ignored):\n\n${fence(ours.slice(0, 50).join("\n"))}`,
    );
  }
  if (codeownersPaths.length > 0) {
    try {
      const githubErrors = await deps.github.getCodeownersErrors(repo, pr.headSha);
      if (githubErrors && githubErrors.length > 0) {
        const lines = githubErrors.slice(0, 50).map((e) => `${e.path}:${e.line}: ${e.kind}: ${e.message.split("\n")[0] ?? ""}`);
        notes.push(`GitHub's own CODEOWNERS check of the proposed file reports:\n\n${fence(lines.join("\n"))}`);
      }
    } catch (error) {
      // Advisory only: GitHub's validator being unavailable does not change the decision.
      deps.log.warn({ err: isGitHubApiError(error) ? error.toLog() : error }, "GitHub's CODEOWNERS validation did not answer");
    }
  }
  return notes;
}

/**
 * Sets the one current risk label and removes stale ones with the policy's prefix; touches no other label.
 * A label GitHub creates on the fly comes back grey (`ededed`): we then give it the level's colour, once.
 */
async function syncLabels(deps: ServiceDeps, repo: RepoRef, fresh: PullRequestInfo, decision: Decision, policy: ResolvedPolicy): Promise<{ added: string[]; removed: string[] }> {
  const prefix = policy.labels.prefix.toLowerCase();
  const desired = new Set(decision.labels.map((l) => l.toLowerCase()));
  const current = fresh.labels.map((l) => l.name);
  const currentLower = new Set(current.map((l) => l.toLowerCase()));
  const toAdd = decision.labels.filter((l) => !currentLower.has(l.toLowerCase()));
  const toRemove = current.filter((l) => l.toLowerCase().startsWith(prefix) && !desired.has(l.toLowerCase()));
  const added: string[] = [];
  const removed: string[] = [];
  try {
    if (toAdd.length > 0) {
      const after: LabelInfo[] = await deps.github.addLabels(repo, fresh.number, toAdd);
      added.push(...toAdd);
      const color = RISK_LABEL_COLORS[decision.risk];
      for (const label of after) {
        if (toAdd.some((l) => l.toLowerCase() === label.name.toLowerCase()) && label.color === "ededed" && color.toLowerCase() !== "ededed") {
          await deps.github.updateLabel(repo, label.name, { color, description: RISK_LABEL_DESCRIPTIONS[decision.risk] });
        }
      }
    }
    for (const label of toRemove) {
      await deps.github.removeLabel(repo, fresh.number, label);
      removed.push(label);
    }
  } catch (error) {
    deps.log.warn({ err: isGitHubApiError(error) ? error.toLog() : error, toAdd, toRemove }, "could not update the risk labels");
  }
  return { added, removed };
}

/**
 * Asks the code owners a requirement still waits on, once: not those GitHub already lists as requested, not
 * those who reviewed already, not the author or bots, not anyone this App asked before. Not on drafts.
 */
async function requestCodeOwnerReviews(deps: ServiceDeps, scope: PullRequestScope, repo: RepoRef, fresh: PullRequestInfo, decision: Decision, reviews: Review[]): Promise<string[]> {
  if (fresh.draft) {
    deps.log.debug({}, "draft: review requests wait for ready_for_review");
    return [];
  }
  const waiting = new Set<string>();
  for (const requirement of decision.approval.requirements) {
    if (requirement.met || !requirement.satisfiable) continue;
    for (const owner of requirement.waitingOn) waiting.add(owner);
  }
  if (waiting.size === 0) return [];
  const askedBefore = await scope.requestedOwners();
  const reviewed = new Set(reviews.map((r) => r.reviewer.toLowerCase()));
  const requestedUsers = new Set(fresh.requestedReviewers.map((l) => l.toLowerCase()));
  const requestedTeams = new Set(fresh.requestedTeams.map((s) => s.toLowerCase()));
  const users: string[] = [];
  const teams: string[] = [];
  const owners: string[] = [];
  for (const owner of waiting) {
    const lower = owner.toLowerCase();
    if (askedBefore.has(lower)) continue;
    const team = /^@([^/\s]+)\/([^/\s]+)$/.exec(owner);
    if (team) {
      const [, org, slug] = team as unknown as [string, string, string];
      // GitHub only takes teams of the repository's own organisation.
      if (org.toLowerCase() !== repo.owner.toLowerCase() || requestedTeams.has(slug.toLowerCase())) continue;
      teams.push(slug);
      owners.push(owner);
      continue;
    }
    const user = /^@([A-Za-z0-9-]+)$/.exec(owner)?.[1];
    if (!user) continue; // an email owner cannot be requested through the API
    const u = user.toLowerCase();
    if (requestedUsers.has(u) || reviewed.has(u) || u === fresh.author.login.toLowerCase() || isBotLogin(user)) continue;
    users.push(user);
    owners.push(owner);
  }
  if (owners.length === 0) return [];
  try {
    await deps.github.requestReviewers(repo, fresh.number, { users, teams });
    await scope.recordReviewRequests(owners);
    deps.log.info({ owners }, "requested code-owner reviews");
    return owners;
  } catch (error) {
    deps.log.warn({ err: isGitHubApiError(error) ? error.toLog() : error, owners }, "GitHub refused the review request");
    return [];
  }
}

async function publishCouldNotEvaluate(deps: ServiceDeps, scope: PullRequestScope, target: EvaluationTarget, key: PullRequestKey, pr: PullRequestInfo, error: unknown): Promise<void> {
  const checkName = approvalCheckName(pr.baseRef);
  const { title, summary } = couldNotEvaluateSummary(error, target.deliveryId);
  try {
    const check = await deps.github.createCheckRun(target.repo, { name: checkName, headSha: pr.headSha, conclusion: "failure", title, summary, externalId: `pr:${pr.number}` });
    deps.log.warn({ checkRunId: check.id, deliveryId: target.deliveryId }, "published a failing 'could not evaluate' check");
    await scope.recordDecision({
      ...recordBase(deps, target, key, pr, checkName),
      checkRunId: check.id,
      conclusion: "failure",
      risk: null,
      decision: null,
      reason: title,
      policy: { source: "unknown", ref: pr.baseSha },
    });
  } catch (publishError) {
    deps.log.error(
      { err: isGitHubApiError(publishError) ? publishError.toLog() : publishError, deliveryId: target.deliveryId },
      "could not publish the failing check either; the previous check on this commit (if any) stays",
    );
  }
}

export type { Enforcement };
