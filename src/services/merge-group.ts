/**
 * The approval check on a merge queue's merge group (`merge_group.checks_requested`).
 *
 * GitHub's merge queue builds one commit per queued pull request: the base branch plus every pull request ahead of
 * it plus this one, on `gh-readonly-queue/<base>/pr-<n>-<sha>`, and asks for the required checks on that commit.
 * Our check there is `success` only when every pull request in the group has a current `success` decision: the
 * latest one recorded, for the head the queue shows and for this base. Nothing is evaluated again: the group
 * holds exactly the PRs already judged, and their decisions are what merges.
 *
 * Which PRs a group holds: GraphQL `mergeQueue(branch).entries` (one query). The group of the entry whose merge
 * commit is our head is that entry and every entry ahead of it. The ref names only the last PR, and the commits
 * between base and head do not name their PRs reliably (a rebase merge keeps the PRs' own messages), so neither
 * alone can tell an unapproved PR ahead in the queue from an approved one; a superset only ever makes the check
 * stricter. When the queue no longer lists the group, the ref's PR and those ahead of it stand in; when neither
 * is there, the check fails (fail closed, invariant 5).
 */
import { isGitHubApiError } from "../github/errors.js";
import type { MergeQueueEntry, RepoRef } from "../github/port.js";
import type { Conclusion } from "../policy/types.js";
import { escapeInline } from "../shared/markdown.js";
import { approvalCheckName, couldNotEvaluateSummary } from "./render.js";
import type { MergeGroupMember, RecordedDecision, ServiceDeps } from "./types.js";

export interface MergeGroupTarget {
  repo: RepoRef;
  installationId?: number | undefined;
  /** The merge group's commit (`merge_group.head_sha`): the check goes there. */
  headSha: string;
  /** `merge_group.head_ref`, e.g. `refs/heads/gh-readonly-queue/main/pr-104-<sha>`. */
  headRef: string;
  /** The branch the group merges into, without `refs/heads/`. */
  baseRef: string;
  deliveryId?: string | undefined;
  event: string;
  /** See EvaluationTarget.publishFailure. */
  publishFailure?: boolean | undefined;
}

export type MergeGroupOutcome = { kind: "published"; conclusion: Conclusion; checkRunId: number; members: MergeGroupMember[] };

/** `refs/heads/gh-readonly-queue/<base>/pr-<n>-<sha>` -> n, for this base only; null for anything else. */
export function pullRequestOfQueueRef(headRef: string, baseRef: string): number | null {
  const ref = headRef.replace(/^refs\/heads\//, "");
  const prefix = `gh-readonly-queue/${baseRef}/pr-`;
  if (!ref.startsWith(prefix)) return null;
  const match = /^(\d+)-[0-9a-f]{7,64}$/i.exec(ref.slice(prefix.length));
  return match?.[1] ? Number(match[1]) : null;
}

/**
 * The entries of the group whose merge commit is `headSha`: that entry and those ahead of it. Without it, the
 * ref's PR's entry stands in. Null when the queue shows neither.
 */
export function groupEntries(queue: readonly MergeQueueEntry[], headSha: string, named: number | null): MergeQueueEntry[] | null {
  const own = queue.find((e) => e.headSha === headSha) ?? queue.find((e) => named !== null && e.pullRequest?.number === named);
  if (!own) return null;
  return queue.filter((e) => e.position <= own.position);
}

/** Whether one PR's latest decision lets it merge through this group (pure). */
export function judgeMember(number: number, headSha: string | null, decision: RecordedDecision | null, baseRef: string): MergeGroupMember {
  const member = { number, headSha, decision };
  if (headSha === null) return { ...member, approved: false, reason: "GitHub does not show this pull request's head to Agent Gate" };
  if (!decision) return { ...member, approved: false, reason: "Agent Gate has recorded no decision for it" };
  if (decision.headSha !== headSha) return { ...member, approved: false, reason: `its latest decision is for head ${decision.headSha.slice(0, 7)}, not ${headSha.slice(0, 7)}` };
  if (decision.baseRef !== baseRef) return { ...member, approved: false, reason: `its latest decision is for base ${decision.baseRef}, not ${baseRef}` };
  if (decision.conclusion !== "success") return { ...member, approved: false, reason: `not approved: ${decision.title}` };
  return { ...member, approved: true, reason: decision.title };
}

/** `#12`; a pull request GitHub did not show us has no number to name. */
const prName = (m: MergeGroupMember): string => (m.number > 0 ? `#${m.number}` : "a pull request Agent Gate cannot see");

/** The check's text (pure): the unapproved PRs are named in the title. */
export function renderMergeGroup(members: readonly MergeGroupMember[], note?: string): { conclusion: Conclusion; title: string; summary: string } {
  const blocked = members.filter((m) => !m.approved);
  const conclusion: Conclusion = members.length > 0 && blocked.length === 0 ? "success" : "failure";
  const count = `${members.length} pull request${members.length === 1 ? "" : "s"}`;
  const title =
    members.length === 0
      ? "Cannot tell which pull requests are in this merge group"
      : blocked.length === 0
        ? `All ${count} in this merge group are approved`
        : `Not approved: ${blocked.map(prName).join(", ")}`;
  const rows = members.map((m) => `| ${prName(m)} | ${m.headSha ? `\`${m.headSha.slice(0, 7)}\`` : "?"} | ${m.approved ? "approved" : "**blocks**"} | ${escapeInline(m.reason, 300)} |`);
  const summary = [
    "## Merge group",
    "",
    conclusion === "success"
      ? `Every pull request in this merge group has a current approving decision (${count}).`
      : "This merge group may merge only when every pull request in it has a current approving decision (fail closed).",
    ...(note ? ["", note] : []),
    ...(rows.length > 0 ? ["", "| Pull request | Head | Decision | Why |", "| --- | --- | --- | --- |", ...rows] : []),
  ].join("\n");
  return { conclusion, title, summary };
}

/**
 * Publishes the approval check on a merge group and records it.
 * @throws {GitHubApiError} when the queue cannot be read or the check cannot be created (after trying to publish a
 *   failing check, when `publishFailure` allows).
 */
export async function checkMergeGroup(deps: ServiceDeps, target: MergeGroupTarget): Promise<MergeGroupOutcome> {
  const log = deps.log;
  let members: MergeGroupMember[];
  let note: string | undefined;
  try {
    ({ members, note } = await membersOf(deps, target));
  } catch (error) {
    log.error({ err: isGitHubApiError(error) ? error.toLog() : error, headSha: target.headSha, deliveryId: target.deliveryId }, "merge group: could not read the merge queue");
    if (target.publishFailure !== false) await publishFailure(deps, target, error);
    throw error;
  }
  const rendered = renderMergeGroup(members, note);
  const check = await deps.github.createCheckRun(target.repo, {
    name: approvalCheckName(target.baseRef),
    headSha: target.headSha,
    conclusion: rendered.conclusion,
    title: rendered.title,
    summary: rendered.summary,
    externalId: `merge-group:${target.headSha}`,
  });
  log.info({ headSha: target.headSha, conclusion: rendered.conclusion, members: members.map((m) => m.number), checkRunId: check.id }, "published the merge group's approval check");
  await deps.store.recordMergeGroup({
    repo: target.repo,
    installationId: target.installationId,
    deliveryId: target.deliveryId,
    headSha: target.headSha,
    baseRef: target.baseRef,
    checkName: approvalCheckName(target.baseRef),
    checkRunId: check.id,
    conclusion: rendered.conclusion,
    title: rendered.title,
    members,
    evaluatedAt: deps.clock(),
  });
  return { kind: "published", conclusion: rendered.conclusion, checkRunId: check.id, members };
}

async function membersOf(deps: ServiceDeps, target: MergeGroupTarget): Promise<{ members: MergeGroupMember[]; note?: string }> {
  const named = pullRequestOfQueueRef(target.headRef, target.baseRef);
  const queue = await deps.github.listMergeQueue(target.repo, target.baseRef);
  const entries = groupEntries(queue, target.headSha, named);
  if (!entries) {
    const note = `The merge queue of ${escapeInline(target.baseRef, 200)} does not list this group (ref ${escapeInline(target.headRef, 300)}).`;
    return { members: [], note };
  }
  const members: MergeGroupMember[] = [];
  for (const entry of entries) {
    if (!entry.pullRequest) {
      members.push({ number: 0, headSha: null, decision: null, approved: false, reason: "a pull request Agent Gate cannot see" });
      continue;
    }
    const { number, headSha } = entry.pullRequest;
    const decision = await deps.store.latestDecision({ ...target.repo, number, installationId: target.installationId });
    members.push(judgeMember(number, headSha, decision, target.baseRef));
  }
  return { members };
}

async function publishFailure(deps: ServiceDeps, target: MergeGroupTarget, error: unknown): Promise<void> {
  const { title, summary } = couldNotEvaluateSummary(error, target.deliveryId);
  const name = approvalCheckName(target.baseRef);
  try {
    const check = await deps.github.createCheckRun(target.repo, { name, headSha: target.headSha, conclusion: "failure", title, summary, externalId: `merge-group:${target.headSha}` });
    const { repo, installationId, deliveryId, headSha, baseRef } = target;
    await deps.store.recordMergeGroup({ repo, installationId, deliveryId, headSha, baseRef, checkName: name, checkRunId: check.id, conclusion: "failure", title, members: [], evaluatedAt: deps.clock() });
  } catch (publishError) {
    deps.log.error({ err: isGitHubApiError(publishError) ? publishError.toLog() : publishError }, "merge group: could not publish the failing check either");
  }
}
