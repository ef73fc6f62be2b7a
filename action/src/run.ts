/**
 * One Agent Gate run, in phases: preflight → sandbox and agent (sandbox-phase.ts) → the action's own commit,
 * push and pull request → the telemetry bundle → outputs and job summary. Each phase returns a typed result;
 * all I/O with GitHub and the runner is injected so the whole flow runs in tests.
 */
import { mkdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { BUNDLE_ARTIFACT_NAME, BUNDLE_VERSION, type BundleManifest, type NetworkAttempt } from "../../src/telemetry/bundle.js";
import { writeBundle } from "./bundle-writer.js";
import { errorMessage as message, EventLog, Shell } from "./exec.js";
import { Git, type FileChange } from "./git.js";
import { fetchPermission, getPullRequest, type OpenedPullRequest, type PermissionLookup, type PullRequestLookup, type PullRequestOpener } from "./github.js";
import type { ActionInputs, RunContext } from "./inputs.js";
import { assertNoPersistedCredentials, diffGitSnapshots, snapshotGitDir, type GitSnapshot } from "./sandbox.js";
import { runInSandbox, type AgentRun, type RunScope, type SandboxDeps } from "./sandbox-phase.js";
import { findSecretsInDiff, type KnownSecret, type SecretInDiff } from "./secret-scan.js";
import { renderPullRequestBody, renderSummary } from "./summary.js";

export type { FirewallLike, Reporter } from "./sandbox-phase.js";

export type ArtifactUploader = (name: string, files: string[], rootDirectory: string) => Promise<{ id?: number; size?: number }>;

export interface RunDeps extends SandboxDeps {
  /** The runner's environment (the source of agent-env values). */
  env: NodeJS.ProcessEnv;
  /** The sandbox user to create or reuse; null runs the agent as the action's own user without a firewall (tests only). */
  sandboxUser: string | null;
  uploadArtifact: ArtifactUploader;
  openPullRequest: PullRequestOpener;
  /** Who may start a run; defaults to the GitHub API's collaborator permission. */
  permissionOf?: PermissionLookup;
  /** Reads the pull request to iterate on (pull-request input); defaults to the GitHub API. */
  getPullRequest?: PullRequestLookup;
  /** Where to push; defaults to `<server>/<owner>/<repo>.git`. */
  remoteUrl?: string;
  /** The built MCP server (dist/mcp.js). */
  mcpServerScript?: string;
  /** TEST ONLY proxy knobs (see EgressProxyOptions). */
  allowLoopbackUpstreams?: boolean;
  now?: () => Date;
}

export interface RunResult {
  outcome: BundleManifest["outcome"];
  /** Why the action fails (the run is red), or null. */
  failure: string | null;
  branch: string | null;
  pullRequest: OpenedPullRequest | null;
  telemetryPath: string | null;
  manifest: BundleManifest | null;
  changes: FileChange[];
  attempts: NetworkAttempt[];
}

export const COMMIT_IDENTITY = { name: "github-actions[bot]", email: "41898282+github-actions[bot]@users.noreply.github.com" };

export function branchName(prefix: string, ctx: Pick<RunContext, "runId" | "runAttempt">): string {
  return `${prefix}${ctx.runId}${ctx.runAttempt > 1 ? `-${ctx.runAttempt}` : ""}`;
}

export function commitMessage(inputs: Pick<ActionInputs, "prompt" | "agent">, ctx: Pick<RunContext, "runUrl">): { title: string; message: string } {
  const firstLine = inputs.prompt.split("\n").find((l) => l.trim())?.trim() ?? "agent changes";
  const title = `agent: ${firstLine.length > 64 ? `${firstLine.slice(0, 63)}…` : firstLine}`;
  const task = inputs.prompt.length > 2_000 ? `${inputs.prompt.slice(0, 2_000)}…` : inputs.prompt;
  // Trailers are the last paragraph; a task line that looks like "Key: value" must not end the message.
  const message = `${title}\n\nTask:\n${task.replace(/^/gm, "    ")}\n\nAgent-Gate-Run: ${ctx.runUrl}\nAgent-Gate-Agent: ${inputs.agent}\n`;
  return { title, message };
}

/** The scope of the whole run plus what only the commit and bundle phases need. */
interface Run extends RunScope {
  deps: RunDeps;
  git: Git;
  branch: string;
  bundleDir: string;
}

/** The commit phase's typed result (also what a run that failed earlier reports). */
interface CommitResult {
  outcome: BundleManifest["outcome"];
  failure: string | null;
  headSha: string | null;
  pushed: boolean;
  pullRequest: OpenedPullRequest | null;
  changes: FileChange[];
  /** What the secret scan found in the staged diff (file, line, kind; never the text). */
  secrets: SecretInDiff[];
}

interface BundleResult {
  manifest: BundleManifest | null;
  telemetryPath: string | null;
  failure: string | null;
}

function openRun(inputs: ActionInputs, ctx: RunContext, deps: RunDeps): Run {
  const now = deps.now ?? (() => new Date());
  const log = new EventLog(now);
  log.addSecret(inputs.githubToken);
  deps.reporter.setSecret(inputs.githubToken);
  for (const name of inputs.agentEnv) {
    const value = deps.env[name];
    log.addSecret(value);
    if (value) deps.reporter.setSecret(value);
  }
  const shell = new Shell(log);
  const workDir = path.join(ctx.tempDir, "agent-gate", `run-${ctx.runId}-${ctx.runAttempt}`);
  return {
    inputs,
    ctx,
    deps,
    log,
    shell,
    now,
    startedAt: now(),
    git: new Git(shell, ctx.workspace),
    branch: branchName(inputs.branchPrefix, ctx),
    stdoutPath: path.join(workDir, "agent-stdout"),
    bundleDir: path.join(workDir, "telemetry"),
    attempts: [],
  };
}

export async function runAgentGate(inputs: ActionInputs, ctx: RunContext, deps: RunDeps): Promise<RunResult> {
  const run = openRun(inputs, ctx, deps);
  let baseRef = inputs.base || ctx.refBranch || "";
  let agent: AgentRun | null = null;
  let commit: CommitResult = { outcome: "failed", failure: null, headSha: null, pushed: false, pullRequest: null, changes: [], secrets: [] };
  try {
    const pre = await preflight(run);
    baseRef = pre.baseRef;
    agent = await runInSandbox(run);
    await assertGitUntouched(run, pre.gitBefore);
    commit = await commitAndPublish(run, baseRef, agent, pre.existing);
  } catch (err) {
    commit = { ...commit, outcome: "failed", failure: message(err) };
    run.log.add({ time: run.log.time(), type: "error", message: commit.failure ?? "" });
  }
  const bundle = await writeTelemetry(run, baseRef, agent, commit);
  const failure = commit.failure ?? bundle.failure;
  await report(run, agent, { ...commit, failure }, bundle);
  return { outcome: commit.outcome, failure, branch: commit.pushed ? run.branch : null, pullRequest: commit.pullRequest, telemetryPath: bundle.telemetryPath, manifest: bundle.manifest, changes: commit.changes, attempts: run.attempts };
}

interface Preflight {
  baseRef: string;
  gitBefore: GitSnapshot;
  /** The agent pull request this run continues (pull-request input), or null for a new one. */
  existing: OpenedPullRequest | null;
}

function remoteOf(run: Run): string {
  return run.deps.remoteUrl ?? `${run.ctx.serverUrl}/${run.ctx.repository}.git`;
}

/**
 * Iterating on a pull request: it must be open, an agent's (its branch starts with branch-prefix) and in this
 * repository (a fork's branch is not ours to push). Its branch is checked out for the agent; the `/agent`
 * command word is dropped from the prompt. @throws saying which condition failed.
 */
async function continuePullRequest(run: Run, number: number): Promise<{ existing: OpenedPullRequest; baseRef: string }> {
  const { ctx, inputs, deps } = run;
  const lookup = deps.getPullRequest ?? getPullRequest;
  const pr = await lookup({ apiUrl: ctx.apiUrl, token: inputs.githubToken, owner: ctx.owner, repo: ctx.repo, number });
  if (pr.state !== "open") throw new Error(`pull request #${number} is ${pr.state}; only an open agent pull request can be iterated on`);
  if (pr.headRepository !== ctx.repository) throw new Error(`pull request #${number} comes from ${pr.headRepository ?? "a deleted repository"}, not ${ctx.repository}: the action pushes only to this repository`);
  if (!pr.headRef.startsWith(inputs.branchPrefix)) throw new Error(`pull request #${number} is not an agent pull request (its branch ${pr.headRef} does not start with ${inputs.branchPrefix})`);
  const sha = await run.git.checkoutRemoteBranch(remoteOf(run), pr.headRef, { serverUrl: ctx.serverUrl, token: inputs.githubToken });
  if (sha !== pr.headSha) run.log.add({ time: run.log.time(), type: "message", role: "system", text: `pull request #${number} moved since GitHub reported ${pr.headSha}; continuing from ${sha}` });
  run.branch = pr.headRef;
  const prompt = run.inputs.prompt.replace(/^\/agent\b[ \t]*/, "").trim();
  if (!prompt) throw new Error("the /agent comment has no instructions after the command");
  run.inputs = { ...run.inputs, prompt };
  return { existing: { number: pr.number, url: pr.url }, baseRef: pr.baseRef };
}

/**
 * Who started the run may start it: users with write access (admin, maintain and write all read as "write"),
 * plus allowed-users (`*`: anyone). Checked before anything else, so a comment by a stranger runs nothing.
 * @throws naming the user and their permission.
 */
async function assertMayTrigger(run: Run): Promise<void> {
  const { ctx, inputs, deps } = run;
  const login = ctx.triggeredBy;
  if (inputs.allowedUsers.includes("*") || inputs.allowedUsers.some((u) => u.toLowerCase() === login.toLowerCase())) return;
  const lookup = deps.permissionOf ?? fetchPermission;
  const permission = login.endsWith("[bot]") ? "none (a bot)" : await lookup({ apiUrl: ctx.apiUrl, token: inputs.githubToken, owner: ctx.owner, repo: ctx.repo, username: login });
  if (permission === "admin" || permission === "write") return;
  throw new Error(`${login} may not start an agent run: their permission on ${ctx.repository} is ${permission}, and runs need write access (or allowed-users)`);
}

const AGENT_PACKAGES = { codex: "@openai/codex", "claude-code": "@anthropic-ai/claude-code" } as const;

/** codex-version / claude-code-version: installs that release globally with npm, before the sandbox exists. */
async function installAgent(run: Run): Promise<void> {
  const { inputs, shell } = run;
  const version = inputs.agent === "codex" ? inputs.codexVersion : inputs.agent === "claude-code" ? inputs.claudeCodeVersion : "";
  if (inputs.agent === "command" || !version) return;
  const spec = `${AGENT_PACKAGES[inputs.agent]}@${version}`;
  run.deps.reporter.info(`installing ${spec}`);
  // Global installs land where every user can run them (the sandbox user must be able to execute the CLI).
  await shell.run("npm", ["install", "--global", "--no-fund", "--no-audit", spec]);
}

const MAX_PROMPT_FILE = 1024 * 1024;

/** The task from prompt-file: a regular file inside the workspace (no symlink out of it), at most 1 MiB. */
async function readPromptFile(workspace: string, file: string): Promise<string> {
  const root = await realpath(workspace);
  const target = await realpath(path.resolve(root, file)).catch(() => null);
  if (target === null || (target !== root && !target.startsWith(`${root}${path.sep}`))) throw new Error(`prompt-file ${file} is not a file inside the workspace`);
  const st = await stat(target);
  if (!st.isFile() || st.size > MAX_PROMPT_FILE) throw new Error(`prompt-file ${file} must be a regular file of at most 1 MiB`);
  const text = (await readFile(target, "utf8")).trim();
  if (!text) throw new Error(`prompt-file ${file} is empty`);
  return text;
}

/** Nothing the agent could use may be lying around, the base is known, and the state of .git is recorded. */
async function preflight(run: Run): Promise<Preflight> {
  const { ctx, inputs, git, log, deps } = run;
  await mkdir(path.dirname(run.stdoutPath), { recursive: true });
  await assertMayTrigger(run);
  await installAgent(run);
  if (inputs.promptFile) run.inputs = { ...inputs, prompt: await readPromptFile(ctx.workspace, inputs.promptFile) };
  await assertNoPersistedCredentials(ctx.workspace, run.shell);
  const continued = inputs.pullRequest !== null ? await continuePullRequest(run, inputs.pullRequest) : null;
  const baseRef = continued?.baseRef || inputs.base || ctx.refBranch || (await git.currentBranch()) || "";
  if (!baseRef) throw new Error("cannot tell which branch to open the pull request against: set the `base` input");
  const dirty = await git.dirtyPaths();
  if (dirty.length > 0) {
    deps.reporter.warning(`the workspace already had ${dirty.length} uncommitted change(s) before the agent ran; they will be attributed to the agent`);
    log.add({ time: log.time(), type: "message", role: "system", text: `workspace had uncommitted changes before the agent ran: ${dirty.slice(0, 20).join(", ")}` });
  }
  return { baseRef, gitBefore: await snapshotGitDir(path.join(ctx.workspace, ".git")), existing: continued?.existing ?? null };
}

/** @throws when the agent wrote anything under .git: nothing is committed then. */
async function assertGitUntouched(run: Run, before: GitSnapshot): Promise<void> {
  const after = await snapshotGitDir(path.join(run.ctx.workspace, ".git")).catch(() => new Map([["(.git unreadable)", ""]]));
  const changed = diffGitSnapshots(before, after);
  if (changed.length > 0) {
    throw new Error(`the agent wrote under .git (${changed.slice(0, 10).join(", ")}${changed.length > 10 ? ", …" : ""}); nothing was committed`);
  }
}

function describeHits(hits: readonly SecretInDiff[]): string {
  const listed = hits.slice(0, 5).map((h) => `${h.path}:${h.line} ${h.what}`);
  return `${listed.join(", ")}${hits.length > 5 ? `, and ${hits.length - 5} more` : ""}`;
}

/** Scans the staged diff with the secret catalogue and the run's own secret values; each hit is an error event. */
async function scanStagedDiff(run: Run): Promise<SecretInDiff[]> {
  const { inputs, deps, log } = run;
  const known: KnownSecret[] = [{ label: "the workflow's GitHub token", value: inputs.githubToken }];
  for (const name of inputs.agentEnv) {
    const value = deps.env[name];
    if (value) known.push({ label: `the value of agent-env ${name}`, value });
  }
  const hits = findSecretsInDiff(await run.git.stagedDiff(), known);
  const verdict = inputs.allowSecretsInDiff ? "pushed anyway (allow-secrets-in-diff: true)" : "not pushed";
  for (const h of hits) log.add({ time: log.time(), type: "error", message: `secret in the diff: ${h.path}:${h.line} (${h.what}); ${verdict}` });
  return hits;
}

/** Stages what the agent changed and, when it finished cleanly, commits, pushes and opens the pull request. */
async function commitAndPublish(run: Run, baseRef: string, agent: AgentRun, existing: OpenedPullRequest | null): Promise<CommitResult> {
  const { git, log, inputs, ctx, deps, branch } = run;
  const changes = await git.stageAll();
  // What git saw, kept apart from what the agent reported (its transcript): the App compares the two with the diff.
  for (const c of changes) log.add({ time: log.time(), type: "git_change", path: c.path, kind: c.kind, ...(c.oldPath ? { previousPath: c.oldPath } : {}) });
  const result: CommitResult = { outcome: "failed", failure: null, headSha: null, pushed: false, pullRequest: null, changes, secrets: [] };
  const { process } = agent;
  if (process.timedOut) return { ...result, outcome: "timed_out", failure: `the agent did not finish within ${inputs.timeoutMinutes} minute(s); nothing was committed` };
  if (process.exitCode !== 0) return { ...result, failure: `the agent exited with ${process.exitCode ?? process.signal}; nothing was committed` };
  if (changes.length === 0) return { ...result, outcome: "no_changes" };
  result.secrets = await scanStagedDiff(run);
  if (result.secrets.length > 0 && !inputs.allowSecretsInDiff) {
    return { ...result, failure: `the agent's diff holds ${result.secrets.length} possible secret(s) (${describeHits(result.secrets)}); nothing was pushed (set allow-secrets-in-diff: true to push anyway)` };
  }
  const { title, message: msg } = commitMessage(inputs, ctx);
  try {
    result.headSha = await git.commit(msg, COMMIT_IDENTITY);
    // Not forced: when iterating, a branch that moved meanwhile makes the push fail instead of losing commits.
    await git.push(remoteOf(run), branch, { serverUrl: ctx.serverUrl, token: inputs.githubToken });
    // From here on the agent's work is on the remote: a failing pull-request call keeps the outcome.
    Object.assign(result, { pushed: true, outcome: "succeeded" });
    if (existing) return { ...result, pullRequest: existing };
    const blocked = run.attempts.filter((a) => !a.allowed).length;
    result.pullRequest = await deps.openPullRequest({
      apiUrl: ctx.apiUrl,
      token: inputs.githubToken,
      owner: ctx.owner,
      repo: ctx.repo,
      head: branch,
      base: baseRef,
      title,
      body: renderPullRequestBody({ prompt: inputs.prompt, agent: inputs.agent, runUrl: ctx.runUrl, triggeredBy: ctx.triggeredBy, runId: ctx.runId, artifactName: BUNDLE_ARTIFACT_NAME, mode: inputs.network, blocked }),
    });
  } catch (err) {
    result.failure = message(err);
    log.add({ time: log.time(), type: "error", message: result.failure });
  }
  return result;
}

function buildManifest(run: Run, baseRef: string, agent: AgentRun | null, commit: CommitResult): BundleManifest {
  const { ctx, inputs, log } = run;
  const info = agent?.transcriptInfo ?? {};
  return {
    version: BUNDLE_VERSION,
    repository: ctx.repository,
    runId: ctx.runId,
    runAttempt: ctx.runAttempt,
    workflowPath: ctx.workflowPath,
    pullRequest: commit.pullRequest ? { number: commit.pullRequest.number, url: commit.pullRequest.url } : null,
    branch: run.branch,
    headSha: commit.headSha,
    baseRef: baseRef || "unknown",
    agent: { name: inputs.agent, ...(info.model ? { model: info.model } : {}), ...(info.version ? { version: info.version } : {}) },
    task: log.redact(inputs.prompt),
    triggeredBy: ctx.triggeredBy,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.now().toISOString(),
    outcome: commit.outcome,
    exitCode: agent?.process.exitCode ?? null,
    network: { mode: inputs.network, allowedDomains: inputs.allowedDomains.map((r) => r.source) },
    ...(info.usage ? { usage: info.usage } : {}),
    ...(agent?.transcript ? { transcript: { path: agent.transcript.path, format: agent.transcript.format } } : {}),
  };
}

/** A process's command line may carry a secret the run knows (an agent-env value): redacted like every event. */
function redactAttempt(a: NetworkAttempt, log: EventLog): NetworkAttempt {
  const command = a.process?.command;
  return { ...a, host: log.redact(a.host), reason: log.redact(a.reason), ...(a.process && command ? { process: { ...a.process, command: log.redact(command) } } : {}) };
}

/** Writes the bundle and uploads it; a failure here fails the run but loses nothing already pushed. */
async function writeTelemetry(run: Run, baseRef: string, agent: AgentRun | null, commit: CommitResult): Promise<BundleResult> {
  try {
    const written = await writeBundle(run.bundleDir, {
      manifest: buildManifest(run, baseRef, agent, commit),
      events: run.log.events(),
      network: [...run.attempts].sort((a, b) => a.time.localeCompare(b.time)).map((a) => redactAttempt(a, run.log)),
      ...(agent?.transcript ? { transcript: { content: agent.transcript.content } } : {}),
    });
    await run.deps.uploadArtifact(BUNDLE_ARTIFACT_NAME, written.files, run.bundleDir);
    return { manifest: written.manifest, telemetryPath: run.bundleDir, failure: null };
  } catch (err) {
    return { manifest: null, telemetryPath: null, failure: `could not write or upload the telemetry bundle: ${message(err)}` };
  }
}

/** The step's outputs and the job summary. */
async function report(run: Run, agent: AgentRun | null, commit: CommitResult, bundle: BundleResult): Promise<void> {
  const { reporter } = run.deps;
  const { pullRequest } = commit;
  if (commit.pushed) reporter.setOutput("branch", run.branch);
  if (pullRequest) {
    reporter.setOutput("pull-request-number", String(pullRequest.number));
    reporter.setOutput("pull-request-url", pullRequest.url);
  }
  if (bundle.telemetryPath) reporter.setOutput("telemetry-path", bundle.telemetryPath);
  const model = agent?.transcriptInfo.model;
  const markdown = renderSummary({
    agent: run.inputs.agent,
    ...(model ? { model } : {}),
    outcome: commit.outcome,
    failure: commit.failure,
    pullRequest,
    branch: commit.pushed ? run.branch : null,
    mode: run.inputs.network,
    attempts: run.attempts,
    changes: commit.changes,
    secrets: commit.secrets,
    decisions: agent?.decisions ?? 0,
    artifactName: BUNDLE_ARTIFACT_NAME,
    runUrl: run.ctx.runUrl,
  });
  await reporter.summary(markdown).catch((err: unknown) => reporter.warning(`could not write the job summary: ${message(err)}`));
}
