/**
 * Which work a webhook asks for, decided from the payload alone (no I/O), so the edge can answer in
 * milliseconds and a job does the rest. The same routing serves the in-process mode (tests, `probot.receive`).
 *
 * Each work has a coalescing key: every event of one pull request shares `pr:…`, so events that arrive while
 * its evaluation is pending fold into one (every evaluation re-reads GitHub; one run after the latest event
 * is enough). Filtering that needs no I/O happens here and says why.
 */
import { toPullRequestInfo } from "../github/octokit-github.js";
import type { RepoRef } from "../github/port.js";
import type { EvaluationTarget } from "../services/evaluate-pull-request.js";
import type { TelemetryTarget } from "../services/ingest-telemetry.js";
import { CHECK_NAME_PREFIX } from "../services/render.js";
import type { MergeGroupTarget } from "../services/merge-group.js";
import type { OverrideTarget } from "../services/override.js";
import { parseOverrideCommand } from "../policy/override.js";
import type { ClosedTarget } from "../services/record-closed.js";
import type { RerunTarget } from "../services/rerun.js";

/** What each kind of work hands its service. */
export interface WorkTargets {
  evaluate: EvaluationTarget;
  commit: RerunTarget;
  telemetry: TelemetryTarget;
  "merge-group": MergeGroupTarget;
  override: OverrideTarget;
  closed: ClosedTarget;
}

export type WorkKind = keyof WorkTargets;
/** One work of kind `K`; `Work` is the union of all kinds (written as a map so a job can dispatch by kind, typed). */
export type WorkOf<K extends WorkKind> = { kind: K; target: WorkTargets[K] };
export type Work = { [K in WorkKind]: WorkOf<K> }[WorkKind];

export interface KeyedWork {
  /** Coalescing key: one pending work per key. */
  key: string;
  installationId: number | null;
  work: Work;
}

export type Route = { works: KeyedWork[] } | { skip: string };

export interface WebhookEvent {
  /** X-GitHub-Delivery */
  id: string;
  /** X-GitHub-Event */
  name: string;
  payload: unknown;
}

/** The default risk label prefix, recognised without reading the policy. */
const RISK_LABEL_PREFIX = "agent-risk:";
/** A label that could be a risk label under another prefix (`labels.prefix`): the policy's prefix plus a level. */
const LEVEL_SUFFIX = /(?:low|medium|high|critical)$/i;

export interface RouteOptions {
  appId: number | null;
  /** This App's bot login (`<slug>[bot]`): its own label events are skipped, so putting labels back never loops. */
  botLogin?: string | null | undefined;
}

const PULL_ACTIONS = new Set(["opened", "reopened", "synchronize", "ready_for_review"]);
const REVIEW_ACTIONS = new Set(["submitted", "edited", "dismissed"]);

type Json = Record<string, unknown>;
const rec = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The coalescing key of a pull request's evaluations (GitHub names are case-insensitive). */
export function pullRequestWorkKey(installationId: number | null, repo: RepoRef, number: number): string {
  return `pr:${installationId ?? 0}:${repo.owner}/${repo.repo}#${number}`.toLowerCase();
}

function repoOf(payload: Json): RepoRef | null {
  const repository = rec(payload.repository);
  const owner = str(rec(repository.owner).login);
  const repo = str(repository.name);
  return owner && repo ? { owner, repo } : null;
}

function installationOf(payload: Json): number | null {
  const id = rec(payload.installation).id;
  return typeof id === "number" ? id : null;
}

/**
 * @throws {GitHubApiError} when a pull request payload lacks its number, head or base (the edge answers 400).
 */
export function routeEvent(event: WebhookEvent, options: RouteOptions): Route {
  const payload = rec(event.payload);
  const action = str(payload.action);
  const name = `${event.name}.${action}`;
  const repo = repoOf(payload);
  if (!repo) return { skip: `${name}: no repository in the payload` };
  const installationId = installationOf(payload);
  const evaluate = (extra: Partial<EvaluationTarget> = {}): Route => {
    const pull = toPullRequestInfo(payload.pull_request);
    const target: EvaluationTarget = { repo, installationId: installationId ?? undefined, number: pull.number, pull, deliveryId: event.id, event: name, ...extra };
    return { works: [{ key: pullRequestWorkKey(installationId, repo, pull.number), installationId, work: { kind: "evaluate", target } }] };
  };

  switch (event.name) {
    case "pull_request":
      if (action === "synchronize") return evaluate(pushedBy(payload));
      if (action === "opened") return evaluate({ opened: true });
      if (PULL_ACTIONS.has(action)) return evaluate();
      if (action === "edited") return editedEvent(name, payload, evaluate);
      if (action === "labeled" || action === "unlabeled") return labelEvent(name, payload, options, evaluate);
      if (action === "closed") return closed(event, payload, repo, installationId);
      return { skip: `${name}: not an event the gate acts on` };
    case "pull_request_review": {
      if (!REVIEW_ACTIONS.has(action)) return { skip: `${name}: not an event the gate acts on` };
      const state = str(rec(payload.review).state).toLowerCase();
      // A comment never changes an approval or a "changes requested" (GitHub keeps the latest state-setting review).
      if (action !== "dismissed" && state === "commented") return { skip: `${name}: a comment changes no approval` };
      return evaluate();
    }
    case "check_run": {
      if (action !== "rerequested") return { skip: `${name}: not a re-run` };
      const run = rec(payload.check_run);
      if (!str(run.name).startsWith(CHECK_NAME_PREFIX)) return { skip: `${name}: not our approval check` };
      return rerun(event, name, repo, installationId, str(run.head_sha), run.pull_requests);
    }
    case "check_suite": {
      if (action !== "rerequested") return { skip: `${name}: not a re-run` };
      const suite = rec(payload.check_suite);
      const suiteApp = rec(suite.app).id;
      if (options.appId !== null && typeof suiteApp === "number" && suiteApp !== options.appId) return { skip: `${name}: not our suite` };
      return rerun(event, name, repo, installationId, str(suite.head_sha), suite.pull_requests);
    }
    case "workflow_run":
      if (action !== "completed") return { skip: `${name}: telemetry is read when the run has completed` };
      return telemetry(event, payload, repo, installationId);
    case "issue_comment":
      // Only a new comment: an edit could turn an old comment into an override after the fact.
      if (action !== "created") return { skip: `${name}: only a new comment can carry an override` };
      return overrideCommand(event, payload, repo, installationId);
    case "merge_group":
      // `destroyed` (merged, dequeued, invalidated): the group's commit is gone; nothing to report on it.
      if (action !== "checks_requested") return { skip: `${name}: only checks_requested asks for our check` };
      return mergeGroup(event, payload, repo, installationId);
    default:
      return { skip: `${name}: not an event the gate acts on` };
  }
}

/** `/agent-gate override <reason>` on a pull request; anything else is skipped here, without I/O. */
function overrideCommand(event: WebhookEvent, payload: Json, repo: RepoRef, installationId: number | null): Route {
  const issue = rec(payload.issue);
  const comment = rec(payload.comment);
  const user = rec(comment.user);
  if (!issue.pull_request) return { skip: "issue_comment.created: not on a pull request" };
  if (!parseOverrideCommand(str(comment.body))) return { skip: "issue_comment.created: not an override command" };
  const number = issue.number;
  const id = comment.id;
  if (typeof number !== "number" || typeof id !== "number") return { skip: "issue_comment.created: no issue number or comment id" };
  const target: OverrideTarget = {
    repo,
    installationId: installationId ?? undefined,
    number,
    comment: { id, body: str(comment.body), url: str(comment.html_url) || null, createdAt: str(comment.created_at), user: { login: str(user.login), type: str(user.type) } },
    deliveryId: event.id,
    event: "issue_comment.created",
  };
  // Its own key: an override must not fold into (and replace) a pending evaluation of the PR; the PR lock orders them.
  const key = `override:${installationId ?? 0}:${repo.owner}/${repo.repo}#${number}:${id}`.toLowerCase();
  return { works: [{ key, installationId, work: { kind: "override", target } }] };
}

/** One check per merge group commit; a redelivery folds into the pending one. */
function mergeGroup(event: WebhookEvent, payload: Json, repo: RepoRef, installationId: number | null): Route {
  const group = rec(payload.merge_group);
  const headSha = str(group.head_sha);
  const baseRef = str(group.base_ref).replace(/^refs\/heads\//, "");
  if (!/^[0-9a-f]{40}$/i.test(headSha) || !baseRef) return { skip: "merge_group.checks_requested: no head_sha or base_ref in the payload" };
  const target: MergeGroupTarget = { repo, installationId: installationId ?? undefined, headSha, headRef: str(group.head_ref), baseRef, deliveryId: event.id, event: "merge_group.checks_requested" };
  return { works: [{ key: `merge-group:${installationId ?? 0}:${repo.owner}/${repo.repo}@${headSha}`.toLowerCase(), installationId, work: { kind: "merge-group", target } }] };
}

/**
 * An edit: a new base re-evaluates; a new title only when the policy has a `title:` condition (the service reads
 * the policy and skips otherwise), so a stale decision cannot outlive a title that now makes a rule apply.
 */
function editedEvent(name: string, payload: Json, evaluate: (extra?: Partial<EvaluationTarget>) => Route): Route {
  const changes = rec(payload.changes);
  if (changes.base) return evaluate(retargeted(payload));
  if (changes.title) return evaluate({ onlyIfTitleCondition: true });
  return { skip: `${name}: neither the base branch nor the title changed` };
}

/**
 * A label change. A risk label is the App's: one changed by anyone else is put back to the decision (the service
 * does it from the recorded decision); one changed by this App itself is skipped. Any other label may be an agent
 * label, which is the policy's call: the service reads it and skips otherwise.
 */
function labelEvent(name: string, payload: Json, options: RouteOptions, evaluate: (extra?: Partial<EvaluationTarget>) => Route): Route {
  const label = str(rec(payload.label).name);
  if (!label) return { skip: `${name}: no label in the payload` };
  const known = label.toLowerCase().startsWith(RISK_LABEL_PREFIX);
  // Ends in a level: a risk label if it carries the policy's prefix, which the service checks; else an agent label, or nothing.
  if (!known && !LEVEL_SUFFIX.test(label)) return evaluate({ onlyIfAgentLabel: label });
  const sender = str(rec(payload.sender).login);
  if (options.botLogin && sender.toLowerCase() === options.botLogin.toLowerCase()) return { skip: `${name}: our own risk label change (${sender})` };
  return evaluate(known ? { restoreLabels: { label, sender } } : { onlyIfAgentLabel: label, restoreLabels: { label, sender, ifPolicyPrefix: true } });
}

/** A retarget: approvals given before it were for the old base's diff (invariant 3). */
function retargeted(payload: Json): Partial<EvaluationTarget> {
  const from = str(rec(rec(rec(payload.changes).base).ref).from);
  const at = str(rec(payload.pull_request).updated_at);
  return from && at ? { retarget: { from, at } } : {};
}

/** A human who pushed to the branch cannot approve it (invariant 4): the `synchronize` sender, unless a bot. */
function pushedBy(payload: Json): Partial<EvaluationTarget> {
  const sender = rec(payload.sender);
  const login = str(sender.login);
  if (login === "" || sender.type === "Bot" || login.toLowerCase().endsWith("[bot]")) return {};
  return { pushers: [login] };
}

/** An ISO time from the payload, normalised, or null. */
const isoOr = (v: unknown): string | null => {
  const d = typeof v === "string" ? new Date(v) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
};

/**
 * pull_request.closed, merged or not, for the compliance pages. Its own key: folded into a pending evaluation of
 * the PR it would replace it (an evaluation of a closed PR skips anyway, but a reopen's must not be lost).
 */
function closed(event: WebhookEvent, payload: Json, repo: RepoRef, installationId: number | null): Route {
  const pr = rec(payload.pull_request);
  const number = typeof pr.number === "number" ? pr.number : typeof payload.number === "number" ? payload.number : 0;
  if (number <= 0) return { skip: "pull_request.closed: no pull request number in the payload" };
  const merged = pr.merged === true;
  const target: ClosedTarget = {
    repo,
    installationId: installationId ?? undefined,
    number,
    title: str(pr.title),
    author: str(rec(pr.user).login) || null,
    openedAt: isoOr(pr.created_at),
    closedAt: isoOr(pr.closed_at) ?? new Date().toISOString(),
    merged,
    mergedAt: merged ? isoOr(pr.merged_at) : null,
    mergedBy: merged ? str(rec(pr.merged_by).login) || null : null,
    mergeCommitSha: merged ? str(pr.merge_commit_sha) || null : null,
    deliveryId: event.id,
    event: "pull_request.closed",
  };
  return { works: [{ key: `closed:${pullRequestWorkKey(installationId, repo, number)}`, installationId, work: { kind: "closed", target } }] };
}

/** A re-run: one evaluation per listed pull request (coalesced with its other events), or a lookup by commit (forks). */
function rerun(event: WebhookEvent, name: string, repo: RepoRef, installationId: number | null, headSha: string, pulls: unknown): Route {
  const numbers = [...new Set((Array.isArray(pulls) ? pulls : []).map((p) => rec(p).number).filter((n): n is number => typeof n === "number"))];
  if (numbers.length === 0) {
    const target: RerunTarget = { repo, installationId: installationId ?? undefined, headSha, pullNumbers: [], deliveryId: event.id, event: name };
    return { works: [{ key: `commit:${installationId ?? 0}:${repo.owner}/${repo.repo}@${headSha}`.toLowerCase(), installationId, work: { kind: "commit", target } }] };
  }
  return {
    works: numbers.map((number) => ({
      key: pullRequestWorkKey(installationId, repo, number),
      installationId,
      work: {
        kind: "evaluate",
        // Dedup is per PR here: one delivery may cover several PRs.
        target: { repo, installationId: installationId ?? undefined, number, deliveryId: `${event.id}#${number}`, event: name, onlyIfHeadSha: headSha },
      },
    })),
  };
}

/** The workflow_run payload as plain facts; a missing field becomes a value provenance will reject. */
function telemetry(event: WebhookEvent, payload: Json, repo: RepoRef, installationId: number | null): Route {
  const run = rec(payload.workflow_run);
  const headRepo = rec(run.head_repository).full_name;
  const target: TelemetryTarget = {
    repo,
    installationId: installationId ?? undefined,
    defaultBranch: str(rec(payload.repository).default_branch),
    run: {
      id: typeof run.id === "number" ? run.id : 0,
      path: str(run.path),
      headSha: str(run.head_sha),
      headBranch: str(run.head_branch),
      repositoryFullName: str(rec(run.repository).full_name),
      headRepositoryFullName: typeof headRepo === "string" ? headRepo : undefined,
      pullRequests: (Array.isArray(run.pull_requests) ? run.pull_requests : []).flatMap((p) => {
        const pr = rec(p);
        return typeof pr.number === "number" ? [{ number: pr.number, headSha: str(rec(pr.head).sha) }] : [];
      }),
      conclusion: typeof run.conclusion === "string" ? run.conclusion : null,
    },
    deliveryId: event.id,
    event: "workflow_run.completed",
  };
  return { works: [{ key: `telemetry:${installationId ?? 0}:${repo.owner}/${repo.repo}:${target.run.id}`.toLowerCase(), installationId, work: { kind: "telemetry", target } }] };
}

/**
 * Folds a newer work into the pending one of the same key. The newer event's facts win; a filter that could make
 * the job skip (agent label, title condition, re-run head) or read less (`opened`: no reviews) survives only if both
 * events carry it, so folding never loses an evaluation, or a review, the older event asked for.
 */
export function foldWork(older: Work, newer: Work): Work {
  if (older.kind !== "evaluate" || newer.kind !== "evaluate") return newer;
  const a = older.target;
  const b = newer.target;
  const label = a.onlyIfAgentLabel !== undefined && a.onlyIfAgentLabel === b.onlyIfAgentLabel ? b.onlyIfAgentLabel : undefined;
  const head = a.onlyIfHeadSha !== undefined && a.onlyIfHeadSha === b.onlyIfHeadSha ? b.onlyIfHeadSha : undefined;
  const title = a.onlyIfTitleCondition === true && b.onlyIfTitleCondition === true ? true : undefined;
  // "Only opened" (no reviews to read) only when every event folded in is that opened: a review folded in is read.
  const opened = a.opened === true && b.opened === true ? true : undefined;
  // Putting labels back instead of evaluating only when no folded event asked for an evaluation.
  const restore = a.restoreLabels !== undefined && b.restoreLabels !== undefined ? b.restoreLabels : undefined;
  // Every push folded in is kept: a pusher must not vanish because a later event folded over it.
  const pushers = [...new Set([...(a.pushers ?? []), ...(b.pushers ?? [])])];
  // The latest retarget folded in decides which approvals were given before it.
  const retarget = [a.retarget, b.retarget].filter((r) => r !== undefined).sort((x, y) => x.at.localeCompare(y.at)).at(-1);
  return { kind: "evaluate", target: { ...b, onlyIfAgentLabel: label, onlyIfHeadSha: head, onlyIfTitleCondition: title, opened, restoreLabels: restore, pushers: pushers.length > 0 ? pushers : undefined, retarget } };
}
