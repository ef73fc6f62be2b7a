/**
 * Telemetry ingestion (invariant 7): a completed workflow run → its telemetry artifact → provenance → the
 * "Agent Gate: rationale" check run, the store and the audit log → (telemetry.required) a re-evaluation.
 *
 * Order and why:
 * 1. The default branch's policy first (one conditional read): most workflow runs are CI, not agents, and cost
 *    nothing more. A run is a candidate when its workflow is in that policy's `telemetry.workflows`, or when it
 *    uploaded an artifact named like our bundle (a spoof attempt worth an audit entry). Others are skipped quietly.
 * 2. Run-level provenance (this repository, not a fork) before any download.
 * 3. The artifact is downloaded within a size cap and parsed within unzip limits (pure code does the parsing).
 * 4. The pull request: the one the bundle names, or (plain Codex / Claude Code transcript, no manifest) the open
 *    PR whose head is the run's head commit. Its BASE commit's policy decides which workflows count.
 * 5. checkProvenance (pure) decides. Rejections are stored and audited with their reasons and logged; nothing is
 *    published. Accepted telemetry is cross-checked against the PR's files, stored and audited, then published.
 * 6. Record before publish (invariant 9, as the evaluation does): the rationale check names its
 *    `telemetry_accepted` entry (`Audit entry SEQ:HASH`), so no rationale check exists on GitHub without its
 *    entry. A crash between the two leaves a record without a check; the job's next run finds the record
 *    unpublished and publishes it, looking for one an earlier attempt may have created first. `telemetry_published`
 *    (the check run id) is appended last: until it is, a retried job publishes (idempotently) and re-evaluates again.
 */
import { ArtifactTooLargeError, NotFoundError } from "../github/errors.js";
import type { ArtifactInfo, TelemetryGitHub } from "../github/port.js";
import type { PullRequestInfo, RepoRef } from "../github/port.js";
import {
  BUNDLE_ARTIFACT_NAME,
  DEFAULT_ARTIFACT_LIMITS,
  RATIONALE_CHECK_NAME,
  TelemetryError,
  buildAnnotations,
  checkProvenance,
  crossCheck,
  normalizeWorkflowPath,
  parseTelemetryArtifact,
  redactTrace,
  renderRationaleMarkdown,
} from "../telemetry/index.js";
import type { ArtifactLimits, CrossCheckResult, ParsedArtifact, ProvenancePullRequest, ProvenanceRun, Trace } from "../telemetry/index.js";
import { evaluatePullRequest } from "./evaluate-pull-request.js";
import { loadPolicy } from "./snapshot.js";
import { summaryWithAuditEntry } from "./render.js";
import type { RecordedTelemetry, TelemetryAuditEntry, TelemetryDiscrepancyRecord, TelemetryOutcomeRecord, TelemetryStore } from "./telemetry-types.js";
import type { AuditWitnessRef, EvaluationOutcome, Log, ServiceDeps } from "./types.js";

/** The workflow run of a `workflow_run` event, as plain facts. */
export interface WorkflowRunFacts {
  id: number;
  /** workflow_run.path, e.g. `.github/workflows/agent.yml`. */
  path: string;
  headSha: string;
  headBranch: string;
  /** workflow_run.repository.full_name. */
  repositoryFullName: string;
  /** workflow_run.head_repository.full_name (a fork's name for runs triggered from a fork). */
  headRepositoryFullName: string | undefined;
  /** workflow_run.pull_requests: PRs of this repository whose head is the run's head (empty for forks). */
  pullRequests: Array<{ number: number; headSha: string }>;
  conclusion: string | null;
}

export interface TelemetryTarget {
  repo: RepoRef;
  installationId?: number | undefined;
  /** The repository's default branch: whose policy says which workflows to look at. */
  defaultBranch: string;
  run: WorkflowRunFacts;
  deliveryId?: string | undefined;
  event: string;
}

export interface TelemetryLimits {
  /** Compressed bytes downloaded per artifact (default 64 MiB). */
  maxDownloadBytes: number;
  /** Unzip limits (entries, uncompressed bytes). */
  artifact: ArtifactLimits;
  /** Artifacts tried per run when none carries the bundle's name (default 3). */
  maxCandidates: number;
}

export const DEFAULT_TELEMETRY_LIMITS: TelemetryLimits = {
  maxDownloadBytes: 64 * 1024 * 1024,
  artifact: DEFAULT_ARTIFACT_LIMITS,
  maxCandidates: 3,
};

export interface TelemetryDeps extends ServiceDeps {
  artifacts: TelemetryGitHub;
  telemetry: TelemetryStore;
  limits?: Partial<TelemetryLimits> | undefined;
}

export type TelemetryIngestOutcome =
  | { kind: "skipped"; reason: string }
  | { kind: "rejected"; reasons: string[]; pullRequest: number | null }
  | {
      kind: "accepted";
      pullRequest: number;
      headSha: string;
      checkRunId: number;
      annotations: number;
      discrepancies: TelemetryDiscrepancyRecord[];
      reevaluation: EvaluationOutcome | null;
    };

/** Audit payloads list at most this many paths per discrepancy kind; the count is always complete. */
const AUDIT_PATHS = 200;

/** What every stage knows about the run being ingested. */
interface IngestContext {
  deps: TelemetryDeps;
  target: TelemetryTarget;
  log: Log;
  limits: TelemetryLimits;
  repoFull: string;
  /** The workflow path, normalised. */
  workflow: string;
  facts: { workflowRunId: number; workflowPath: string };
  sameRepoRun: boolean;
}

/** A stage either hands its result to the next one or ends the ingestion with an outcome. */
type Stage<T> = { done: TelemetryIngestOutcome } | { next: T };

/** Telemetry accepted for a pull request: what the publish and record stages need. */
interface Accepted {
  artifact: ArtifactInfo;
  result: ParsedArtifact;
  pr: PullRequestInfo;
  required: boolean;
  files: ReadonlyArray<{ filename: string; previous_filename?: string | undefined }>;
  truncated: boolean;
  /** An earlier attempt recorded this telemetry and died before publishing: it may have created the check already. */
  republish: boolean;
}

/**
 * Ingests the telemetry of one completed workflow run, in stages: screen (is this a telemetry workflow at all) →
 * run provenance → artifact → pull request and its base policy → judge (provenance, tampering) → publish the
 * record → publish the rationale check → re-evaluate when the policy requires telemetry → record it published.
 * @throws {GitHubApiError} when GitHub fails (the delivery can then be redelivered); a bad artifact is a rejection, not an error.
 */
export async function ingestTelemetry(deps: TelemetryDeps, target: TelemetryTarget): Promise<TelemetryIngestOutcome> {
  const ctx = contextOf(deps, target);
  const screened = await screenRun(ctx);
  if ("done" in screened) return screened.done;
  const provenance = await checkRunProvenance(ctx);
  if ("done" in provenance) return provenance.done;
  const fetched = await fetchArtifact(ctx);
  if ("done" in fetched) return fetched.done;
  const accepted = await judge(ctx, fetched.next);
  if ("done" in accepted) return accepted.done;
  const a = accepted.next;
  const rationale = render(a);
  const recorded = await record(ctx, a, rationale);
  // Recorded already, though judge found no record: another attempt got there in between, and may have published.
  const checkRunId = await publish(ctx, { ...a, republish: a.republish || !recorded.created }, rationale, recorded.entry);
  const reevaluation = a.required ? await reevaluate(ctx, a.pr) : null;
  await deps.telemetry.recordPublished({ repository: ctx.repoFull, pullRequest: a.pr.number, workflowRunId: target.run.id, headSha: a.pr.headSha, checkRunId, deliveryId: target.deliveryId });
  return { kind: "accepted", pullRequest: a.pr.number, headSha: a.pr.headSha, checkRunId, annotations: rationale.annotations.length, discrepancies: rationale.discrepancies, reevaluation };
}

function contextOf(deps: TelemetryDeps, target: TelemetryTarget): IngestContext {
  const { repo, run } = target;
  const repoFull = `${repo.owner}/${repo.repo}`;
  const workflow = normalizeWorkflowPath(run.path, run.repositoryFullName);
  return {
    deps,
    target,
    log: childLog(deps.log, target),
    limits: { ...DEFAULT_TELEMETRY_LIMITS, ...deps.limits },
    repoFull,
    workflow,
    facts: { workflowRunId: run.id, workflowPath: workflow },
    sameRepoRun: sameName(run.repositoryFullName, repoFull),
  };
}

/**
 * 1. Which workflows the default branch lists. Invalid or empty: telemetry is not configured, nothing to do. A run of
 * an unlisted workflow that uploaded an artifact named like our bundle is a spoof attempt worth an audit entry.
 */
async function screenRun(ctx: IngestContext): Promise<Stage<null>> {
  const { deps, target, log, workflow } = ctx;
  const prefilter = await loadPolicy(deps.github, target.repo, target.defaultBranch);
  if (!prefilter.ok) return { done: skip(log, `the policy on ${target.defaultBranch} is invalid, so no telemetry workflow is known`, "warn") };
  const listed = new Set(prefilter.policy.telemetry.workflows.map((w) => normalizeWorkflowPath(w, ctx.repoFull)));
  if (listed.size === 0) return { done: skip(log, `telemetry.workflows is empty on ${target.defaultBranch}`, "debug") };
  if (listed.has(workflow)) return { next: null };
  // Listing artifacts of another repository's run through this repository's endpoint would mean nothing.
  if (!ctx.sameRepoRun) return { done: skip(log, `workflow ${workflow} is not in telemetry.workflows`, "debug") };
  const bundle = (await deps.artifacts.listRunArtifacts(target.repo, target.run.id)).find((a) => a.name === BUNDLE_ARTIFACT_NAME);
  if (!bundle) return { done: skip(log, `workflow ${workflow} is not in telemetry.workflows`, "debug") };
  const reasons = [`workflow ${workflow} uploaded a telemetry bundle but is not in telemetry.workflows (${[...listed].join(", ")})`];
  return { done: await reject(deps, log, target, { ...ctx.facts, artifactId: bundle.id, pullRequest: firstPayloadPull(target.run), headSha: target.run.headSha, reasons }) };
}

/** 2. Run-level provenance (this repository, not a fork), before downloading anything. */
async function checkRunProvenance(ctx: IngestContext): Promise<Stage<null>> {
  const { run } = ctx.target;
  const reasons: string[] = [];
  if (!ctx.sameRepoRun) reasons.push(`the workflow run belongs to ${run.repositoryFullName}, not ${ctx.repoFull}`);
  if (run.headRepositoryFullName !== undefined && !sameName(run.headRepositoryFullName, ctx.repoFull)) {
    reasons.push(`the workflow run was triggered from a fork (${run.headRepositoryFullName})`);
  }
  if (reasons.length === 0) return { next: null };
  return { done: await reject(ctx.deps, ctx.log, ctx.target, { ...ctx.facts, artifactId: null, pullRequest: null, headSha: run.headSha, reasons }) };
}

/** 3. The artifact, downloaded within a size cap and parsed within unzip limits (pure code does the parsing). */
async function fetchArtifact(ctx: IngestContext): Promise<Stage<{ artifact: ArtifactInfo; result: ParsedArtifact }>> {
  const { deps, target } = ctx;
  const list = (await deps.artifacts.listRunArtifacts(target.repo, target.run.id)).filter((a) => a.workflowRunId === null || a.workflowRunId === target.run.id);
  const parsed = await downloadAndParse(deps, target.repo, list, ctx.limits);
  if (parsed.ok) return { next: { artifact: parsed.artifact, result: parsed.result } };
  return { done: await reject(deps, ctx.log, target, { ...ctx.facts, artifactId: parsed.artifactId, pullRequest: firstPayloadPull(target.run), headSha: target.run.headSha, reasons: parsed.reasons }) };
}

/**
 * 4–5. The pull request (the one the bundle names, or for a plain transcript the open PR whose head is the run's
 * head commit), the policy of its BASE commit (which workflows count), provenance (pure) and tampering.
 * Rejections are stored and audited with their reasons; nothing is published.
 */
async function judge(ctx: IngestContext, fetched: { artifact: ArtifactInfo; result: ParsedArtifact }): Promise<Stage<Accepted>> {
  const { deps, target, log } = ctx;
  const { artifact, result } = fetched;
  const manifest = result.manifest;
  const number = manifest ? (manifest.pullRequest?.number ?? null) : await pullOfRun(deps, target.repo, target.run);
  const pr = number === null ? null : await getPullOrNull(deps, target.repo, number);
  const judgedHead = pr?.headSha ?? manifest?.headSha ?? target.run.headSha;
  const base = { ...ctx.facts, artifactId: artifact.id, format: result.format, trace: result.trace };
  const prior = pr ? await deps.telemetry.recorded(ctx.repoFull, pr.number, target.run.id) : null;
  const finished = pr && prior ? finishedEarlier(prior, pr, target.run.id) : null;
  if (finished) return { done: skip(log, finished) };
  const policy = pr ? await basePolicyOf(ctx, pr) : { allowed: [], required: false, reasons: [] };
  const verdict = checkProvenance({ manifest, run: provenanceRunOf(target.run), pullRequest: pr ? provenancePullOf(pr, ctx.repoFull) : null, repositoryFullName: ctx.repoFull, allowedWorkflows: policy.allowed });
  if (!verdict.accepted || policy.reasons.length > 0) {
    const reasons = [...policy.reasons, ...(verdict.accepted ? [] : verdict.reasons)];
    return { done: await reject(deps, log, target, { ...base, pullRequest: pr?.number ?? number, headSha: judgedHead, reasons }) };
  }
  if (!pr) throw new Error("provenance accepted telemetry without a pull request");
  const listing = await deps.github.listPullRequestFiles(target.repo, pr.number);
  // A run on the PR's own head ran the workflow as the PR has it: when the PR changes that file, or any
  // workflow or local action it could call, the run itself could have written whatever transcript it liked.
  const tampered = target.run.headSha === pr.headSha ? changedWorkflowFiles(listing.files, ctx.workflow) : [];
  if (tampered.length > 0) {
    const reasons = [`the pull request changes ${tampered.slice(0, 5).join(", ")}, which the workflow that produced this telemetry runs, so its run cannot vouch for it`];
    return { done: await reject(deps, log, target, { ...base, pullRequest: pr.number, headSha: judgedHead, reasons }) };
  }
  return { next: { artifact, result, pr, required: policy.required, files: listing.files, truncated: listing.truncated, republish: prior !== null } };
}

/**
 * Why an earlier attempt's record leaves nothing to do, or null when its rationale check is still to be published
 * (the attempt died between recording and publishing). A record for a head the PR has since left stays
 * unpublished: its rationale would land on a head no longer current.
 */
function finishedEarlier(prior: RecordedTelemetry, pr: PullRequestInfo, runId: number): string | null {
  if (prior.checkRunId !== null || !prior.accepted) return `telemetry of workflow run ${runId} for #${pr.number} is already recorded (redelivery)`;
  if (prior.headSha.toLowerCase() !== pr.headSha.toLowerCase()) {
    return `telemetry of workflow run ${runId} for #${pr.number} was recorded for ${prior.headSha.slice(0, 12)} and never published; the pull request has moved on to ${pr.headSha.slice(0, 12)}`;
  }
  return null;
}

async function basePolicyOf(ctx: IngestContext, pr: PullRequestInfo): Promise<{ allowed: string[]; required: boolean; reasons: string[] }> {
  const basePolicy = await loadPolicy(ctx.deps.github, ctx.target.repo, pr.baseSha);
  if (basePolicy.ok) return { allowed: basePolicy.policy.telemetry.workflows, required: basePolicy.policy.telemetry.required, reasons: [] };
  return { allowed: [], required: false, reasons: [`the policy of the base commit ${pr.baseSha.slice(0, 12)} is invalid, so no telemetry workflow is allowed`] };
}

function provenanceRunOf(run: WorkflowRunFacts): ProvenanceRun {
  return {
    repositoryFullName: run.repositoryFullName,
    workflowPath: run.path,
    headSha: run.headSha,
    headBranch: run.headBranch,
    id: run.id,
    ...(run.headRepositoryFullName === undefined ? {} : { headRepositoryFullName: run.headRepositoryFullName }),
  };
}

function provenancePullOf(pr: PullRequestInfo, repoFull: string): ProvenancePullRequest {
  return {
    number: pr.number,
    state: pr.state,
    headSha: pr.headSha,
    headRef: pr.headRef,
    baseRepositoryFullName: repoFull,
    headRepositoryFullName: pr.headRepo ?? "(a deleted fork)",
    baseRef: pr.baseRef,
  };
}

/** The rationale check as it will be published, and what is recorded of it. Pure. */
interface Rationale {
  trace: Trace;
  crossCheck: CrossCheckResult;
  conclusion: "success" | "neutral";
  title: string;
  summary: string;
  text: string | undefined;
  annotations: ReturnType<typeof buildAnnotations>;
  discrepancies: TelemetryDiscrepancyRecord[];
}

/** 6. The cross-check against the PR's files, and the rationale check rendered from it (informational, never a gate). */
function render(a: Accepted): Rationale {
  const trace = redactTrace(a.result.trace);
  const cc: CrossCheckResult = crossCheck(trace, a.files);
  const rendered = renderRationaleMarkdown(trace, { crossCheck: cc });
  const notes: string[] = [];
  if (a.truncated) notes.push("_The pull request has more files than GitHub lists (3,000); the cross-check covers the listed ones only._");
  const summary = notes.length > 0 ? `${rendered.summary}\n\n${notes.join("\n\n")}` : rendered.summary;
  const discrepancies: TelemetryDiscrepancyRecord[] = [
    ...cc.unreported.map((path) => ({ kind: "unreported" as const, path })),
    ...cc.notInPullRequest.map((path) => ({ kind: "not_in_pull_request" as const, path })),
  ];
  const blocked = trace.steps.filter((s) => s.kind === "network" && !s.allowed).length;
  // Informational, never a gate: neutral draws the eye to discrepancies and blocked connections.
  const conclusion = discrepancies.length > 0 || blocked > 0 ? "neutral" : "success";
  return { trace, crossCheck: cc, conclusion, title: rendered.title, summary, text: rendered.text, annotations: buildAnnotations(trace, a.files), discrepancies };
}

/**
 * 7. The store and the audit log, before anything is published: one accepted entry, one discrepancy entry per
 * kind found. Returns the accepted entry (an earlier attempt's when that one recorded this run first: `created: false`).
 */
async function record(ctx: IngestContext, a: Accepted, r: Rationale): Promise<{ created: boolean; entry: AuditWitnessRef | null }> {
  const { trace, crossCheck: cc } = r;
  const counts = countsOf(trace, cc);
  const audit: TelemetryAuditEntry[] = [
    {
      kind: "telemetry_accepted",
      payload: { ...ctx.facts, artifactId: a.artifact.id, headSha: a.pr.headSha, format: a.result.format, agent: trace.run.agent, model: trace.run.model, counts },
    },
  ];
  for (const [kind, paths] of [
    ["unreported", cc.unreported],
    ["not_in_pull_request", cc.notInPullRequest],
  ] as const) {
    if (paths.length === 0) continue;
    const sources = kind === "unreported" ? { likelySources: cc.likelySources.slice(0, AUDIT_PATHS) } : {};
    audit.push({ kind: "telemetry_discrepancy", payload: { ...ctx.facts, headSha: a.pr.headSha, kind, count: paths.length, paths: paths.slice(0, AUDIT_PATHS), incomplete: cc.incomplete, ...sources } });
  }
  return ctx.deps.telemetry.record({
    ...ctx.facts,
    artifactId: a.artifact.id,
    format: a.result.format,
    repository: ctx.repoFull,
    pullRequest: a.pr.number,
    headSha: a.pr.headSha,
    accepted: true,
    reasons: [],
    agent: trace.run.agent,
    model: trace.run.model,
    counts,
    trace,
    discrepancies: r.discrepancies.slice(0, 5_000),
    audit,
    deliveryId: ctx.target.deliveryId,
  });
}

/** 8. The rationale check, naming its audit entry; found and updated rather than created twice. Returns its id. */
async function publish(ctx: IngestContext, a: Accepted, r: Rationale, entry: AuditWitnessRef | null): Promise<number> {
  const { deps, target, log } = ctx;
  const check = await deps.artifacts.createRationaleCheck(
    target.repo,
    {
      name: RATIONALE_CHECK_NAME,
      headSha: a.pr.headSha,
      conclusion: r.conclusion,
      title: r.title,
      summary: summaryWithAuditEntry(r.summary, entry),
      text: r.text,
      annotations: r.annotations,
      externalId: `pr:${a.pr.number}:run:${target.run.id}`,
    },
    { lookFirst: a.republish },
  );
  log.info({ pr: a.pr.number, headSha: a.pr.headSha, checkRunId: check.id, annotations: r.annotations.length, discrepancies: r.discrepancies.length }, "accepted telemetry: published the rationale check");
  return check.id;
}

/** 9. The approval check waits on telemetry only when the policy requires it: only then can it change. */
async function reevaluate(ctx: IngestContext, pr: PullRequestInfo): Promise<EvaluationOutcome> {
  const { target } = ctx;
  return evaluatePullRequest(ctx.deps, {
    repo: target.repo,
    installationId: target.installationId,
    number: pr.number,
    deliveryId: target.deliveryId ? `${target.deliveryId}#telemetry` : undefined,
    event: target.event,
    onlyIfHeadSha: pr.headSha,
  });
}

type ParseResult =
  | { ok: true; artifact: ArtifactInfo; result: ParsedArtifact }
  | { ok: false; artifactId: number | null; reasons: string[] };

/**
 * Our bundle's artifact when the run has one; otherwise (an agent not using our action) up to `maxCandidates`
 * artifacts, the first that parses as telemetry winning. Expired and oversized artifacts are not downloaded.
 */
async function downloadAndParse(deps: TelemetryDeps, repo: RepoRef, list: ArtifactInfo[], limits: TelemetryLimits): Promise<ParseResult> {
  const named = list.filter((a) => a.name === BUNDLE_ARTIFACT_NAME);
  const candidates = (named.length > 0 ? named : list).slice(0, limits.maxCandidates);
  if (candidates.length === 0) return { ok: false, artifactId: null, reasons: ["the workflow run uploaded no artifact"] };
  const reasons: string[] = [];
  for (const artifact of candidates) {
    const label = `artifact ${JSON.stringify(artifact.name)} (${artifact.id})`;
    if (artifact.expired) {
      reasons.push(`${label} has expired`);
      continue;
    }
    if (artifact.sizeInBytes > limits.maxDownloadBytes) {
      reasons.push(`${label} is ${artifact.sizeInBytes} bytes, over the ${limits.maxDownloadBytes}-byte limit`);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await deps.artifacts.downloadArtifact(repo, artifact.id, limits.maxDownloadBytes);
    } catch (error) {
      if (error instanceof ArtifactTooLargeError) {
        reasons.push(`${label}: ${error.message}`);
        continue;
      }
      throw error;
    }
    try {
      return { ok: true, artifact, result: parseTelemetryArtifact(bytes, limits.artifact) };
    } catch (error) {
      if (!(error instanceof TelemetryError)) throw error;
      reasons.push(`${label}: ${error.message}`);
    }
  }
  return { ok: false, artifactId: candidates.length === 1 ? (candidates[0]?.id ?? null) : null, reasons };
}

/** A plain transcript names no PR: the open PR whose head is the run's head commit (payload first, then a lookup). */
async function pullOfRun(deps: ServiceDeps, repo: RepoRef, run: WorkflowRunFacts): Promise<number | null> {
  const fromPayload = run.pullRequests.find((p) => p.headSha.toLowerCase() === run.headSha.toLowerCase());
  if (fromPayload) return fromPayload.number;
  const numbers = await deps.github.listPullRequestsForCommit(repo, run.headSha);
  return numbers[0] ?? null;
}

async function getPullOrNull(deps: ServiceDeps, repo: RepoRef, number: number): Promise<PullRequestInfo | null> {
  try {
    return await deps.github.getPullRequest(repo, number);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

function firstPayloadPull(run: WorkflowRunFacts): number | null {
  return run.pullRequests.find((p) => p.headSha.toLowerCase() === run.headSha.toLowerCase())?.number ?? null;
}

interface Rejection {
  workflowRunId: number;
  workflowPath: string;
  artifactId: number | null;
  pullRequest: number | null;
  headSha: string;
  reasons: string[];
  format?: string;
  trace?: Trace;
}

async function reject(deps: TelemetryDeps, log: Log, target: TelemetryTarget, r: Rejection): Promise<TelemetryIngestOutcome> {
  const repository = `${target.repo.owner}/${target.repo.repo}`;
  // The rejection's own reasons go to the operator's log: that is how a maintainer learns why no rationale appeared.
  log.warn({ workflowRunId: r.workflowRunId, workflowPath: r.workflowPath, pullRequest: r.pullRequest, reasons: r.reasons }, `rejected telemetry: ${r.reasons.join("; ")}`);
  const trace = r.trace ? redactTrace(r.trace) : null;
  const record: TelemetryOutcomeRecord = {
    repository,
    pullRequest: r.pullRequest,
    headSha: r.headSha,
    workflowRunId: r.workflowRunId,
    workflowPath: r.workflowPath,
    artifactId: r.artifactId,
    format: r.format ?? "unknown",
    accepted: false,
    reasons: r.reasons,
    agent: trace?.run.agent ?? null,
    model: trace?.run.model ?? null,
    counts: trace ? countsOf(trace) : {},
    // A rejected trace is kept (redacted) for whoever investigates; it is never rendered.
    trace,
    discrepancies: [],
    audit: [
      {
        kind: "telemetry_rejected",
        payload: { workflowRunId: r.workflowRunId, workflowPath: r.workflowPath, artifactId: r.artifactId, headSha: r.headSha, format: r.format ?? "unknown", reasons: r.reasons },
      },
    ],
    deliveryId: target.deliveryId,
  };
  await deps.telemetry.record(record);
  return { kind: "rejected", reasons: r.reasons, pullRequest: r.pullRequest };
}

function countsOf(trace: Trace, cc?: CrossCheckResult): Record<string, unknown> {
  const u = trace.run.usage;
  const network = trace.steps.filter((s) => s.kind === "network");
  return {
    events: trace.stats.events,
    steps: trace.stats.byKind,
    filesReported: trace.files.paths.length,
    networkAllowed: network.filter((n) => n.kind === "network" && n.allowed).length,
    networkBlocked: network.filter((n) => n.kind === "network" && !n.allowed).length,
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    costUsd: u.costUsd,
    startedAt: trace.run.startedAt,
    endedAt: trace.run.endedAt,
    durationMs: trace.run.durationMs,
    ...(cc ? { unreported: cc.unreported.length, notInPullRequest: cc.notInPullRequest.length } : {}),
  };
}

function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The workflow itself, other workflows (reusable ones it calls) and local actions: what a run executes. */
function changedWorkflowFiles(files: ReadonlyArray<{ filename: string; previous_filename?: string | undefined }>, workflow: string): string[] {
  const runs = (path: string | undefined) => path !== undefined && (path === workflow || /^\.github\/(workflows|actions)\//i.test(path));
  return files.filter((f) => runs(f.filename) || runs(f.previous_filename)).map((f) => f.filename);
}

/** Most workflow runs are CI, not agents: their skips log at debug so they do not drown the App's log. */
function skip(log: Log, reason: string, level: "debug" | "info" | "warn" = "info"): TelemetryIngestOutcome {
  log[level]({ reason }, `skipped telemetry: ${reason}`);
  return { kind: "skipped", reason };
}

function childLog(base: Log, target: TelemetryTarget): Log {
  const fields = { repository: `${target.repo.owner}/${target.repo.repo}`, workflowRunId: target.run.id, event: target.event, deliveryId: target.deliveryId };
  return {
    debug: (obj, msg) => base.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => base.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => base.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => base.error({ ...fields, ...obj }, msg),
  };
}
