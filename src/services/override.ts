/**
 * Break-glass, on the record: `/agent-gate override <reason>` commented on a pull request.
 *
 * Under the PR's lock (so it is ordered with the PR's evaluations): the PR and the base branch's policy are read,
 * the commenter is judged against the policy's override group (team membership read from GitHub, never taken
 * from the comment), and the override binds to the head the commenter saw: the PR's latest decision must be for
 * its current head and base, and that head must have been decided before the comment was written (a push between
 * the comment and this job would otherwise be waved through unseen). Then the approval check becomes `success`
 * titled "Overridden by @user" and the record keeps the reason and the decision it overrode. Every refusal gets a
 * reply on the PR and an audit entry. A push (a new head) ends the override: the evaluation of the new head finds
 * no override in force.
 */
import { isGitHubApiError } from "../github/errors.js";
import type { PullRequestInfo, RepoRef } from "../github/port.js";
import { judgeOverride, overrideTeamsNeeded, parseOverrideCommand } from "../policy/override.js";
import type { Commenter } from "../policy/override.js";
import { escapeInline } from "../shared/markdown.js";
import { loadTeams, triggeredByFromBody } from "./evaluation/load.js";
import { withAuditEntry } from "./evaluation/plan.js";
import { approvalCheckName } from "./render.js";
import { loadPolicy } from "./snapshot.js";
import type { OverrideComment, PullRequestKey, PullRequestScope, RecordedDecision, ServiceDeps } from "./types.js";

export interface OverrideTarget {
  repo: RepoRef;
  installationId?: number | undefined;
  number: number;
  comment: { id: number; body: string; url: string | null; createdAt: string; user: Commenter };
  deliveryId?: string | undefined;
  event: string;
}

export type OverrideOutcome = { kind: "overridden"; checkRunId: number; by: string } | { kind: "refused"; why: string } | { kind: "skipped"; reason: string };

/**
 * @throws {GitHubApiError} when GitHub cannot be read or the check cannot be published (nothing is recorded then;
 *   the delivery can be redelivered).
 */
export async function applyOverride(deps: ServiceDeps, target: OverrideTarget): Promise<OverrideOutcome> {
  const key: PullRequestKey = { ...target.repo, number: target.number, installationId: target.installationId };
  return deps.store.withPullRequestLock(key, async (scope) => {
    if (target.deliveryId && (await scope.isDeliveryDone(target.deliveryId, target.event))) return { kind: "skipped", reason: "delivery already handled" };
    const outcome = await decideAndPublish(deps, scope, key, target);
    if (target.deliveryId) await scope.markDeliveryDone(target.deliveryId, outcome.kind === "overridden" ? "published" : "skipped");
    return outcome;
  });
}

async function decideAndPublish(deps: ServiceDeps, scope: PullRequestScope, key: PullRequestKey, target: OverrideTarget): Promise<OverrideOutcome> {
  const command = parseOverrideCommand(target.comment.body);
  if (!command) return { kind: "skipped", reason: "not an override command" };
  const comment: OverrideComment = { id: target.comment.id, url: target.comment.url, createdAt: target.comment.createdAt, by: target.comment.user.login, reason: command.reason };
  const refuse = (why: string, headSha: string | null) => refuseOverride(deps, scope, key, target, comment, why, headSha);
  // One comment, one override: a retried job (the check POST failed after the record committed) or a redelivery
  // finds its own record. Published already: nothing to do, not even a read. Not published: it is judged again
  // below (the PR may have moved on) and its check goes out naming the entry recorded the first time.
  const previous = await scope.overrideOfComment(comment.id);
  if (previous && previous.checkRunId !== null) return { kind: "skipped", reason: "this comment's override is already applied" };
  // Refused before any read: a bot or an empty reason never needs the policy.
  const early = judgeEarly(target.comment.user, command.reason);
  if (early) return refuse(early, null);

  const pr = await deps.github.getPullRequest(target.repo, target.number);
  if (pr.state !== "open") return refuse(`the pull request is ${pr.merged ? "merged" : "closed"}`, pr.headSha);
  const policyLoad = await loadPolicy(deps.github, target.repo, pr.baseSha);
  if (!policyLoad.ok) return refuse("the base branch's policy is invalid, so nobody can be recognised as an override group member", pr.headSha);
  const policy = policyLoad.policy;
  const teams = await loadTeams(deps, overrideTeamsNeeded(policy, target.comment.user, command.reason));
  const triggeredBy = await scope.firstTriggeredBy(triggeredByFromBody(pr.body));
  const verdict = judgeOverride(policy, { commenter: target.comment.user, reason: command.reason, prAuthor: pr.author.login, triggeredBy, teams });
  if (!verdict.allowed) return refuse(verdict.why, pr.headSha);

  const decision = await deps.store.latestDecision(key);
  const stale = staleness(decision, pr, target.comment.createdAt);
  if (stale || !decision) return refuse(stale ?? "Agent Gate has not decided this pull request yet", pr.headSha);
  // A previous record is for this head (the staleness check refuses a comment older than the head's first decision,
  // and the record's head was decided before the comment); checked anyway, since the two clocks differ (GitHub's
  // comment time, the database's decision time). Another member's comment is another override, on the record too.
  if (previous && previous.headSha !== pr.headSha) return refuse(`the pull request moved on (head ${pr.headSha.slice(0, 7)}) since this override was recorded; comment again`, pr.headSha);

  const checkName = approvalCheckName(pr.baseRef);
  // On the record (committed, with its audit entry) before GitHub sees the check, which names that entry (invariant 9).
  const recorded = previous?.committed ?? (await scope.recordOverride({ key, deliveryId: target.deliveryId, event: target.event, headSha: pr.headSha, baseRef: pr.baseRef, checkName, comment, via: verdict.via, overridden: decision, evaluatedAt: deps.clock() }));
  const overrode = previous?.overrode ?? { conclusion: decision.conclusion, title: decision.title };
  const title = `Overridden by @${comment.by}`;
  const plan = withAuditEntry(
    { number: pr.number, check: { name: checkName, headSha: pr.headSha, conclusion: "success", title, summary: overrideSummary(comment, overrode), externalId: `pr:${pr.number}` }, labels: null, reviews: null },
    recorded.audit,
  );
  const check = await deps.github.createCheckRun(target.repo, plan.check);
  deps.log.warn({ pr: `${target.repo.owner}/${target.repo.repo}#${pr.number}`, by: comment.by, headSha: pr.headSha, overrode: decision.conclusion, checkRunId: check.id }, "break-glass: approval check overridden");
  await scope.recordPublished({ decided: recorded, deliveryId: target.deliveryId, headSha: pr.headSha, checkName, checkRunId: check.id, conclusion: "success", title });
  return { kind: "overridden", checkRunId: check.id, by: comment.by };
}

function judgeEarly(user: Commenter, reason: string): string | null {
  if (user.type !== "User" || user.login.toLowerCase().endsWith("[bot]")) return "a bot cannot override the approval check";
  if (reason === "") return "an override needs a reason: `/agent-gate override <reason>`";
  return null;
}

/** Why the latest decision is not the one the commenter saw, or null when it is. */
export function staleness(decision: RecordedDecision | null, pr: PullRequestInfo, commentCreatedAt: string): string | null {
  if (!decision) return null;
  if (decision.headSha !== pr.headSha || decision.baseRef !== pr.baseRef) {
    return `the pull request moved on (head ${pr.headSha.slice(0, 7)}) and Agent Gate has not decided it yet; comment again once its check has run`;
  }
  const written = new Date(commentCreatedAt).getTime();
  // GitHub's own timestamp of the comment; a comment older than the head's first decision was about an older head.
  if (Number.isNaN(written) || written < decision.headFirstDecidedAt.getTime()) {
    return `the pull request changed after your comment (head ${pr.headSha.slice(0, 7)}); comment again to override this head`;
  }
  return null;
}

function overrideSummary(comment: OverrideComment, decision: { conclusion: string; title: string }): string {
  return [
    "## Overridden (break-glass)",
    "",
    `@${comment.by} overrode this check${comment.url ? ` ([comment](${comment.url}))` : ""}. The override is on the audit record and ends with the next push.`,
    "",
    "**Reason**",
    "",
    `> ${escapeInline(comment.reason, 1_000)}`,
    "",
    `**The decision it overrode:** ${decision.conclusion}: ${escapeInline(decision.title, 500)}`,
  ].join("\n");
}

async function refuseOverride(deps: ServiceDeps, scope: PullRequestScope, key: PullRequestKey, target: OverrideTarget, comment: OverrideComment, why: string, headSha: string | null): Promise<OverrideOutcome> {
  deps.log.info({ by: comment.by, why, commentId: comment.id }, "override refused");
  // The login is quoted as code: no notification loop with a bot, no mention of anyone else.
  const body = `\`@${comment.by}\`: override refused: ${why}. The approval check is unchanged.`;
  try {
    await deps.github.createIssueComment(target.repo, target.number, body);
  } catch (error) {
    deps.log.warn({ err: isGitHubApiError(error) ? error.toLog() : error }, "could not reply to the refused override");
  }
  await scope.recordOverrideRefused({ key, deliveryId: target.deliveryId, headSha, comment, why });
  return { kind: "refused", why };
}
