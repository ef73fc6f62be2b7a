/**
 * One Agent Gate run: preflight → proxy, sandbox user, firewall → the agent → teardown and checks →
 * the action's own commit, push and pull request → the telemetry bundle and job summary.
 * All I/O with GitHub and the runner is injected so the whole flow runs in tests.
 */
import { copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE_ARTIFACT_NAME, BUNDLE_VERSION, type BundleManifest, type NetworkAttempt } from "../../src/telemetry/bundle.js";
import { planAgent, summarizeTranscript, type TranscriptSummary } from "./agents.js";
import { writeBundle, readDecisions } from "./bundle-writer.js";
import { commandLine, EventLog, Shell } from "./exec.js";
import { Firewall, type FirewallSpec } from "./firewall.js";
import { Git, type FileChange } from "./git.js";
import type { OpenedPullRequest, PullRequestOpener } from "./github.js";
import type { ActionInputs, RunContext } from "./inputs.js";
import { EgressProxy, type Resolver } from "./proxy.js";
import {
  assertNoPersistedCredentials,
  diffGitSnapshots,
  ensureSandboxUser,
  handWorkspaceToUser,
  killUserProcesses,
  makeAgentHome,
  runAgentProcess,
  scrubEnvironment,
  snapshotGitDir,
  takeWorkspaceBack,
  type SandboxUser,
} from "./sandbox.js";
import { renderPullRequestBody, renderSummary } from "./summary.js";

export interface Reporter {
  info(message: string): void;
  warning(message: string): void;
  setOutput(name: string, value: string): void;
  setSecret(value: string): void;
  summary(markdown: string): Promise<void>;
}

export type ArtifactUploader = (name: string, files: string[], rootDirectory: string) => Promise<{ id?: number; size?: number }>;

export interface FirewallLike {
  install(): Promise<{ warnings: string[] }>;
  remove(): Promise<void>;
  caughtAttempts(): Promise<NetworkAttempt[]>;
}

export interface RunDeps {
  /** The runner's environment (the source of agent-env values). */
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** The sandbox user to create or reuse; null runs the agent as the action's own user without a firewall (tests only). */
  sandboxUser: string | null;
  createFirewall?: (spec: FirewallSpec, shell: Shell) => FirewallLike;
  uploadArtifact: ArtifactUploader;
  openPullRequest: PullRequestOpener;
  /** Where to push; defaults to `<server>/<owner>/<repo>.git`. */
  remoteUrl?: string;
  /** The built MCP server (dist/mcp.js). */
  mcpServerScript?: string;
  /** TEST ONLY proxy knobs. */
  resolve?: Resolver;
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

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function defaultMcpScript(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "mcp.js");
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

export async function runAgentGate(inputs: ActionInputs, ctx: RunContext, deps: RunDeps): Promise<RunResult> {
  const now = deps.now ?? (() => new Date());
  const { reporter } = deps;
  const log = new EventLog(now);
  log.addSecret(inputs.githubToken);
  reporter.setSecret(inputs.githubToken);
  for (const name of inputs.agentEnv) {
    const value = deps.env[name];
    log.addSecret(value);
    if (value) reporter.setSecret(value);
  }
  const shell = new Shell(log);
  const git = new Git(shell, ctx.workspace);
  const gitDir = path.join(ctx.workspace, ".git");
  const startedAt = now();
  const branch = branchName(inputs.branchPrefix, ctx);
  const workDir = path.join(ctx.tempDir, "agent-gate", `run-${ctx.runId}-${ctx.runAttempt}`);
  const bundleDir = path.join(workDir, "telemetry");
  const stdoutPath = path.join(workDir, "agent-stdout");

  let outcome: BundleManifest["outcome"] = "failed";
  let failure: string | null = null;
  let exitCode: number | null = null;
  let baseRef = inputs.base || ctx.refBranch || "";
  let headSha: string | null = null;
  let pushed = false;
  let pullRequest: OpenedPullRequest | null = null;
  let changes: FileChange[] = [];
  let transcript: { path: string; format: "codex" | "claude-code"; content: string } | null = null;
  let transcriptInfo: TranscriptSummary = {};
  let decisionsCount = 0;
  const attempts: NetworkAttempt[] = [];

  let proxy: EgressProxy | null = null;
  let firewall: FirewallLike | null = null;
  let user: SandboxUser | null = null;
  let home: string | null = null;
  let handedOver = false;

  const teardown = async (): Promise<void> => {
    if (user) await killUserProcesses(user, shell).catch(() => undefined);
    if (firewall) {
      attempts.push(...(await firewall.caughtAttempts().catch(() => [])));
      await firewall.remove().catch((err: unknown) => reporter.warning(`could not remove the firewall rules: ${message(err)}`));
      firewall = null;
    }
    if (proxy) {
      await proxy.close();
      attempts.push(...proxy.attempts());
      proxy = null;
    }
    if (handedOver && user) {
      await takeWorkspaceBack(ctx.workspace, user, shell);
      handedOver = false;
    }
  };

  try {
    await mkdir(workDir, { recursive: true });
    // --- Preflight: nothing the agent could use may be lying around, and the state of .git is recorded.
    await assertNoPersistedCredentials(ctx.workspace, shell);
    if (!baseRef) baseRef = (await git.currentBranch()) ?? "";
    if (!baseRef) throw new Error("cannot tell which branch to open the pull request against: set the `base` input");
    const dirty = await git.dirtyPaths();
    if (dirty.length > 0) {
      reporter.warning(`the workspace already had ${dirty.length} uncommitted change(s) before the agent ran; they will be attributed to the agent`);
      log.add({ time: log.time(), type: "message", role: "system", text: `workspace had uncommitted changes before the agent ran: ${dirty.slice(0, 20).join(", ")}` });
    }
    const gitBefore = await snapshotGitDir(gitDir);

    // --- Egress proxy, sandbox user, HOME, firewall.
    proxy = new EgressProxy({
      rules: inputs.allowedDomains,
      mode: inputs.network,
      ...(deps.resolve ? { resolve: deps.resolve } : {}),
      ...(deps.allowLoopbackUpstreams ? { allowLoopbackUpstreams: true } : {}),
    });
    const proxyPort = await proxy.listen();
    const proxyUrl = `http://127.0.0.1:${proxyPort}`;
    reporter.info(`egress proxy on ${proxyUrl} (${inputs.network} mode, ${inputs.allowedDomains.length} allowlist entries)`);

    if (deps.sandboxUser !== null) user = await ensureSandboxUser(deps.sandboxUser, shell);
    home = await makeAgentHome();
    const stateDir = path.join(home, ".agent-gate");
    const decisionsPath = path.join(stateDir, "decisions.jsonl");
    const mcpScriptPath = path.join(stateDir, "mcp.js");
    const plan = planAgent({ agent: inputs.agent, prompt: inputs.prompt, command: inputs.command, home, workspace: ctx.workspace, mcpScriptPath, decisionsPath });
    for (const file of plan.homeFiles) {
      await mkdir(path.dirname(path.join(home, file.path)), { recursive: true });
      await writeFile(path.join(home, file.path), file.content, { mode: 0o600 });
    }
    await mkdir(path.join(home, "tmp"), { recursive: true });
    await mkdir(stateDir, { recursive: true });
    await writeFile(decisionsPath, "", { mode: 0o600 });
    const mcpSource = deps.mcpServerScript ?? defaultMcpScript();
    if (await exists(mcpSource)) await copyFile(mcpSource, mcpScriptPath);
    else if (inputs.agent !== "command") throw new Error(`the MCP server bundle ${mcpSource} is missing`);
    if (user) {
      await shell.privileged("chown", ["-R", `${user.uid}:${user.gid}`, home]);
      await handWorkspaceToUser(ctx.workspace, user, shell);
      handedOver = true;
      firewall = (deps.createFirewall ?? ((spec, sh) => new Firewall(spec, sh.privileged)))({ uid: user.uid, proxyPort, mode: inputs.network }, shell);
      const { warnings } = await firewall.install();
      for (const w of warnings) reporter.warning(w);
    } else {
      reporter.warning("running the agent as the action's own user without a firewall (test mode)");
    }

    const { env, missing } = scrubEnvironment(deps.env, { agentEnv: inputs.agentEnv, proxyUrl, home, userName: user?.name ?? "agent", extra: plan.extraEnv });
    for (const name of missing) reporter.warning(`agent-env: ${name} is not set in the workflow's environment`);

    // --- The agent.
    reporter.info(`running ${inputs.agent} as ${user ? `${user.name} (uid ${user.uid})` : "the action's user"}`);
    const agentStarted = log.time();
    const result = await runAgentProcess(
      { cmd: plan.cmd, args: plan.args, cwd: ctx.workspace, env, user, timeoutMs: inputs.timeoutMinutes * 60_000, stdoutPath, stdin: plan.stdin },
      shell,
    );
    exitCode = result.exitCode;
    const output = plan.transcript ? result.stderrTail : `${result.stdoutTail}${result.stderrTail}`;
    log.add({
      time: agentStarted,
      type: "command",
      command: commandLine(plan.cmd, plan.args),
      exitCode: result.exitCode,
      durationMs: Math.round(result.durationMs),
      ...(output.trim() ? { output: output.trim().slice(-4_000) } : {}),
    });
    await teardown();

    // --- What the agent left: decisions, transcript, and whether it touched .git.
    const { events: decisions, rejected } = await readDecisions(decisionsPath, { start: startedAt, end: now() });
    decisionsCount = decisions.length;
    for (const d of decisions) log.add(d);
    if (rejected > 0) log.add({ time: log.time(), type: "error", message: `ignored ${rejected} invalid line(s) in the decisions file` });
    if (plan.transcript) {
      const content = log.redact(await readFile(stdoutPath, "utf8").catch(() => ""));
      if (content.trim()) {
        transcript = { path: plan.transcript.fileName, format: plan.transcript.format, content };
        transcriptInfo = summarizeTranscript(plan.transcript.format, content);
      }
    }
    const gitChanged = diffGitSnapshots(gitBefore, await snapshotGitDir(gitDir).catch(() => new Map([["(.git unreadable)", ""]])));
    if (gitChanged.length > 0) {
      throw new Error(`the agent wrote under .git (${gitChanged.slice(0, 10).join(", ")}${gitChanged.length > 10 ? ", …" : ""}); nothing was committed`);
    }

    // --- The action's commit, push and pull request.
    changes = await git.stageAll();
    for (const c of changes) log.add({ time: log.time(), type: "file_change", path: c.path, kind: c.kind });
    if (result.timedOut) {
      outcome = "timed_out";
      failure = `the agent did not finish within ${inputs.timeoutMinutes} minute(s); nothing was committed`;
    } else if (result.exitCode !== 0) {
      outcome = "failed";
      failure = `the agent exited with ${result.exitCode ?? result.signal}; nothing was committed`;
    } else if (changes.length === 0) {
      outcome = "no_changes";
    } else {
      const { title, message: msg } = commitMessage(inputs, ctx);
      headSha = await git.commit(msg, COMMIT_IDENTITY);
      await git.push(deps.remoteUrl ?? `${ctx.serverUrl}/${ctx.repository}.git`, branch, { serverUrl: ctx.serverUrl, token: inputs.githubToken });
      pushed = true;
      outcome = "succeeded";
      const blocked = attempts.filter((a) => !a.allowed).length;
      pullRequest = await deps.openPullRequest({
        apiUrl: ctx.apiUrl,
        token: inputs.githubToken,
        owner: ctx.owner,
        repo: ctx.repo,
        head: branch,
        base: baseRef,
        title,
        body: renderPullRequestBody({ prompt: inputs.prompt, agent: inputs.agent, runUrl: ctx.runUrl, triggeredBy: ctx.triggeredBy, runId: ctx.runId, artifactName: BUNDLE_ARTIFACT_NAME, mode: inputs.network, blocked }),
      });
    }
  } catch (err) {
    failure = message(err);
    // A failure after a successful push (the PR call) keeps the agent's outcome; anything earlier is a failed run.
    if (outcome !== "succeeded") outcome = "failed";
    log.add({ time: log.time(), type: "error", message: failure });
  } finally {
    await teardown().catch((err: unknown) => {
      failure ??= `teardown failed: ${message(err)}`;
    });
    if (home) {
      if (user) await shell.privileged("rm", ["-rf", "--", home], { allowFailure: true, quiet: true });
      else await rm(home, { recursive: true, force: true });
    }
  }

  // --- Telemetry bundle.
  const endedAt = now();
  let manifest: BundleManifest | null = null;
  let telemetryPath: string | null = null;
  try {
    const built: BundleManifest = {
      version: BUNDLE_VERSION,
      repository: ctx.repository,
      runId: ctx.runId,
      runAttempt: ctx.runAttempt,
      workflowPath: ctx.workflowPath,
      pullRequest: pullRequest ? { number: pullRequest.number, url: pullRequest.url } : null,
      branch,
      headSha,
      baseRef: baseRef || "unknown",
      agent: { name: inputs.agent, ...(transcriptInfo.model ? { model: transcriptInfo.model } : {}), ...(transcriptInfo.version ? { version: transcriptInfo.version } : {}) },
      task: log.redact(inputs.prompt),
      triggeredBy: ctx.triggeredBy,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      outcome,
      exitCode,
      network: { mode: inputs.network, allowedDomains: inputs.allowedDomains.map((r) => r.source) },
      ...(transcriptInfo.usage ? { usage: transcriptInfo.usage } : {}),
      ...(transcript ? { transcript: { path: transcript.path, format: transcript.format } } : {}),
    };
    const written = await writeBundle(bundleDir, {
      manifest: built,
      events: log.events(),
      network: attempts.sort((a, b) => a.time.localeCompare(b.time)),
      ...(transcript ? { transcript: { content: transcript.content } } : {}),
    });
    manifest = written.manifest;
    telemetryPath = bundleDir;
    await deps.uploadArtifact(BUNDLE_ARTIFACT_NAME, written.files, bundleDir);
  } catch (err) {
    failure ??= `could not write or upload the telemetry bundle: ${message(err)}`;
  }

  if (pushed) reporter.setOutput("branch", branch);
  if (pullRequest) {
    reporter.setOutput("pull-request-number", String(pullRequest.number));
    reporter.setOutput("pull-request-url", pullRequest.url);
  }
  if (telemetryPath) reporter.setOutput("telemetry-path", telemetryPath);
  await reporter
    .summary(
      renderSummary({
        agent: inputs.agent,
        ...(transcriptInfo.model ? { model: transcriptInfo.model } : {}),
        outcome,
        failure,
        pullRequest,
        branch: pushed ? branch : null,
        mode: inputs.network,
        attempts,
        changes,
        decisions: decisionsCount,
        artifactName: BUNDLE_ARTIFACT_NAME,
        runUrl: ctx.runUrl,
      }),
    )
    .catch((err: unknown) => reporter.warning(`could not write the job summary: ${message(err)}`));
  return { outcome, failure, branch: pushed ? branch : null, pullRequest, telemetryPath, manifest, changes, attempts };
}
