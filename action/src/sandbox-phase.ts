/**
 * The sandbox and agent phases of a run. Each resource (the egress proxy, the agent's HOME, the workspace
 * handed to the sandbox user, the firewall) is acquired in its own function and released in that function's
 * `finally`, innermost first: the agent's processes die before the firewall goes, the firewall goes before the
 * workspace is taken back, and the HOME (which holds the decisions file) is read before it is removed.
 */
import { copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import type { NetworkAttempt } from "../../src/telemetry/bundle.js";
import { planAgent, summarizeTranscript, type AgentPlan, type TranscriptSummary } from "./agents.js";
import { readDecisions } from "./bundle-writer.js";
import { commandLine, errorMessage as message, type EventLog, type Shell } from "./exec.js";
import { makeRunCertificates } from "./certs.js";
import { Firewall, type FirewallSpec } from "./firewall.js";
import { matchAllowlist } from "./hosts.js";
import { KeyInjector, KNOWN_KEY_HOSTS, placeholderFor, type HeldKey } from "./key-proxy.js";
import type { ActionInputs, RunContext } from "./inputs.js";
import { EgressProxy, type Resolver } from "./proxy.js";
import {
  ensureSandboxUser,
  findSetpriv,
  handWorkspaceToUser,
  killUserProcesses,
  makeAgentHome,
  runAgentProcess,
  scrubEnvironment,
  takeWorkspaceBack,
  type AgentProcessResult,
  type SandboxUser,
} from "./sandbox.js";

export interface Reporter {
  info(message: string): void;
  warning(message: string): void;
  setOutput(name: string, value: string): void;
  setSecret(value: string): void;
  summary(markdown: string): Promise<void>;
}

export interface FirewallLike {
  install(): Promise<{ warnings: string[] }>;
  remove(): Promise<void>;
  caughtAttempts(): Promise<NetworkAttempt[]>;
}

/** What the sandbox phases need from the run (a subset of RunDeps). */
export interface SandboxDeps {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  sandboxUser: string | null;
  createFirewall?: (spec: FirewallSpec, shell: Shell) => FirewallLike;
  mcpServerScript?: string;
  resolve?: Resolver;
  allowLoopbackUpstreams?: boolean;
  /** TEST ONLY: the CA of a fake model API host (production verifies model hosts against the system store). */
  modelUpstreamCa?: string;
}

/** The run's shared hands and records, created once by runAgentGate. */
export interface RunScope {
  inputs: ActionInputs;
  ctx: RunContext;
  deps: SandboxDeps;
  log: EventLog;
  shell: Shell;
  now: () => Date;
  startedAt: Date;
  /** Where the agent's stdout (its transcript) is written. */
  stdoutPath: string;
  /** Network attempts, appended by the proxy and the firewall as each closes. */
  attempts: NetworkAttempt[];
}

export interface Transcript {
  path: string;
  format: "codex" | "claude-code";
  content: string;
}

/** The agent phase's typed result: how the process ended and what it left for the telemetry. */
export interface AgentRun {
  process: AgentProcessResult;
  decisions: number;
  transcript: Transcript | null;
  transcriptInfo: TranscriptSummary;
}

/** Runs the agent in the sandbox: proxy → user → HOME → workspace → firewall → agent, released in reverse. */
export async function runInSandbox(scope: RunScope): Promise<AgentRun> {
  const keys = await holdKeys(scope);
  return withProxy(scope, keys, async (proxyPort) => {
    const user = scope.deps.sandboxUser !== null ? await ensureSandboxUser(scope.deps.sandboxUser, scope.shell) : null;
    return withAgentHome(scope, user, async (home) => {
      const plan = await prepareHome(scope, home, user);
      const trust = keys ? await writeTrust(home, keys.caCert) : {};
      const env = agentEnvironment(scope, plan, home, user, proxyPort, { ...trust, ...placeholders(keys) });
      const process = await withWorkspace(scope, user, () => withFirewall(scope, user, proxyPort, () => runAgent(scope, plan, env, user)));
      return collectAgentOutput(scope, plan, home, process);
    });
  });
}

/** The keys the proxy holds for the agent, with the per-run CA that lets it terminate TLS for their hosts. */
interface HeldKeys {
  keys: HeldKey[];
  /** null when no key's host is allowlisted: placeholders only, nothing to terminate. */
  injector: KeyInjector | null;
  caCert: string;
}

/** Which agent-env values are model API keys to hold, and their certificates; null when none (or hold-api-keys: false). */
async function holdKeys(scope: RunScope): Promise<HeldKeys | null> {
  const { inputs, deps } = scope;
  if (!inputs.holdApiKeys) return null;
  const keys: HeldKey[] = [];
  for (const name of inputs.agentEnv) {
    const hosts = inputs.apiKeyHosts[name] ?? KNOWN_KEY_HOSTS[name];
    const value = deps.env[name];
    if (!hosts || !value) continue;
    const reachable = hosts.filter((h) => inputs.allowedDomains.some((r) => matchAllowlist(h, r.port ?? 443, [r]) !== null));
    if (reachable.length === 0) {
      deps.reporter.warning(`hold-api-keys: ${name} is for ${hosts.join(", ")}, which allowed-domains does not allow; the agent gets only a placeholder`);
    }
    keys.push({ name, hosts: reachable, value, placeholder: placeholderFor(name) });
  }
  if (keys.length === 0) return null;
  const hosts = [...new Set(keys.flatMap((k) => k.hosts))];
  if (hosts.length === 0) return { keys, injector: null, caCert: "" };
  const { ca, leaf } = await makeRunCertificates(hosts);
  deps.reporter.info(`holding ${keys.map((k) => k.name).join(", ")}: the agent gets placeholders; the proxy adds the keys for ${hosts.join(", ")}`);
  return { keys, injector: new KeyInjector({ keys, leaf, ...(deps.modelUpstreamCa ? { upstreamCa: deps.modelUpstreamCa } : {}) }), caCert: ca.cert };
}

function placeholders(held: HeldKeys | null): Record<string, string> {
  return Object.fromEntries((held?.keys ?? []).map((k) => [k.name, k.placeholder]));
}

/** The system's roots, for tools whose variable replaces rather than extends the trust store. */
async function systemRoots(): Promise<string> {
  for (const file of ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    if (text.includes("BEGIN CERTIFICATE")) return text;
  }
  return tls.rootCertificates.join("\n");
}

/**
 * Makes the agent's tools trust the per-run CA (and only the agent's: nothing is installed system-wide). Node adds
 * NODE_EXTRA_CA_CERTS to its roots; the others replace theirs, so they get the system roots plus the run CA.
 */
async function writeTrust(home: string, caCert: string): Promise<Record<string, string>> {
  if (!caCert) return {};
  const dir = path.join(home, ".agent-gate");
  const ca = path.join(dir, "run-ca.pem");
  const bundle = path.join(dir, "ca-bundle.pem");
  await writeFile(ca, caCert, { mode: 0o644 });
  await writeFile(bundle, `${(await systemRoots()).trimEnd()}\n${caCert}`, { mode: 0o644 });
  return { NODE_EXTRA_CA_CERTS: ca, CODEX_CA_CERTIFICATE: bundle, SSL_CERT_FILE: bundle, CURL_CA_BUNDLE: bundle, REQUESTS_CA_BUNDLE: bundle, GIT_SSL_CAINFO: bundle };
}

async function withProxy<T>(scope: RunScope, held: HeldKeys | null, body: (port: number) => Promise<T>): Promise<T> {
  const { inputs, deps } = scope;
  const proxy = new EgressProxy({
    rules: inputs.allowedDomains,
    mode: inputs.network,
    ...(deps.resolve ? { resolve: deps.resolve } : {}),
    ...(deps.allowLoopbackUpstreams ? { allowLoopbackUpstreams: true } : {}),
    ...(held?.injector ? { keyInjector: held.injector } : {}),
  });
  try {
    const port = await proxy.listen();
    deps.reporter.info(`egress proxy on http://127.0.0.1:${port} (${inputs.network} mode, ${inputs.allowedDomains.length} allowlist entries)`);
    return await body(port);
  } finally {
    await proxy.close();
    scope.attempts.push(...proxy.attempts());
  }
}

async function withAgentHome<T>(scope: RunScope, user: SandboxUser | null, body: (home: string) => Promise<T>): Promise<T> {
  const home = await makeAgentHome();
  try {
    return await body(home);
  } finally {
    // Files the agent created in its HOME belong to the sandbox user; only root can remove them all.
    if (user) await scope.shell.privileged("rm", ["-rf", "--", home], { allowFailure: true, quiet: true });
    else await rm(home, { recursive: true, force: true });
  }
}

function homePaths(home: string): { stateDir: string; decisionsPath: string; mcpScriptPath: string } {
  const stateDir = path.join(home, ".agent-gate");
  return { stateDir, decisionsPath: path.join(stateDir, "decisions.jsonl"), mcpScriptPath: path.join(stateDir, "mcp.js") };
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

/** Plans the agent and writes its HOME: config files, the decisions file and the MCP server. */
async function prepareHome(scope: RunScope, home: string, user: SandboxUser | null): Promise<AgentPlan> {
  const { inputs, ctx, deps, shell } = scope;
  const { stateDir, decisionsPath, mcpScriptPath } = homePaths(home);
  const options = {
    ...(inputs.model ? { model: inputs.model } : {}),
    extraArgs: inputs.agent === "codex" ? inputs.codexArgs : inputs.claudeArgs,
    allowedTools: inputs.allowedTools,
    disallowedTools: inputs.disallowedTools,
    maxTurns: inputs.maxTurns,
    codexSandbox: inputs.codexSandbox,
  };
  const plan = planAgent({ agent: inputs.agent, prompt: inputs.prompt, command: inputs.command, home, workspace: ctx.workspace, mcpScriptPath, decisionsPath, options });
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
  if (user) await shell.privileged("chown", ["-R", `${user.uid}:${user.gid}`, home]);
  return plan;
}

/** The scrubbed environment; `overrides` (placeholders for held keys, the CA variables) win over the runner's values. */
function agentEnvironment(scope: RunScope, plan: AgentPlan, home: string, user: SandboxUser | null, proxyPort: number, overrides: Record<string, string>): Record<string, string> {
  const { inputs, deps } = scope;
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const parent = { ...deps.env, ...overrides };
  const names = [...new Set([...inputs.agentEnv, ...Object.keys(overrides)])];
  const { env, missing } = scrubEnvironment(parent, { agentEnv: names, proxyUrl, home, userName: user?.name ?? "agent", extra: plan.extraEnv });
  for (const name of missing) deps.reporter.warning(`agent-env: ${name} is not set in the workflow's environment`);
  return env;
}

/** Hands the working tree to the sandbox user; takes it back once every process of that user is dead. */
async function withWorkspace<T>(scope: RunScope, user: SandboxUser | null, body: () => Promise<T>): Promise<T> {
  if (!user) return body();
  const { shell, ctx } = scope;
  try {
    await handWorkspaceToUser(ctx.workspace, user, shell);
    return await body();
  } finally {
    await killUserProcesses(user, shell).catch(() => undefined);
    await takeWorkspaceBack(ctx.workspace, user, shell);
  }
}

/** Installs the firewall for the sandbox user; kills the user's processes before removing it. */
async function withFirewall<T>(scope: RunScope, user: SandboxUser | null, proxyPort: number, body: () => Promise<T>): Promise<T> {
  const { deps, shell, inputs, attempts } = scope;
  if (!user) {
    deps.reporter.warning("running the agent as the action's own user without a firewall (test mode)");
    return body();
  }
  const firewall = (deps.createFirewall ?? ((spec, sh) => new Firewall(spec, sh.privileged)))({ uid: user.uid, proxyPort, mode: inputs.network }, shell);
  try {
    const { warnings } = await firewall.install();
    for (const w of warnings) deps.reporter.warning(w);
    return await body();
  } finally {
    // Nothing of the user may outlive the rules: a leftover daemon would have free network.
    await killUserProcesses(user, shell).catch(() => undefined);
    attempts.push(...(await firewall.caughtAttempts().catch(() => [])));
    await firewall.remove().catch((err: unknown) => deps.reporter.warning(`could not remove the firewall rules: ${message(err)}`));
  }
}

async function runAgent(scope: RunScope, plan: AgentPlan, env: Record<string, string>, user: SandboxUser | null): Promise<AgentProcessResult> {
  const { inputs, ctx, log, shell, deps } = scope;
  deps.reporter.info(`running ${inputs.agent} as ${user ? `${user.name} (uid ${user.uid})` : "the action's user"}`);
  const noNewPrivs = user ? await findSetpriv() : null;
  if (user && !noNewPrivs) deps.reporter.warning("setpriv (util-linux) not found: the agent runs without no_new_privs, so setuid helpers keep their effect");
  const started = log.time();
  const result = await runAgentProcess(
    { cmd: plan.cmd, args: plan.args, cwd: ctx.workspace, env, user, timeoutMs: inputs.timeoutMinutes * 60_000, stdoutPath: scope.stdoutPath, stdin: plan.stdin, noNewPrivs },
    shell,
  );
  const output = plan.transcript ? result.stderrTail : `${result.stdoutTail}${result.stderrTail}`;
  log.add({
    time: started,
    type: "command",
    command: commandLine(plan.cmd, plan.args),
    exitCode: result.exitCode,
    durationMs: Math.round(result.durationMs),
    ...(output.trim() ? { output: output.trim().slice(-4_000) } : {}),
  });
  return result;
}

/** What the agent left once it is gone: its decisions (from HOME) and its transcript (from stdout). */
async function collectAgentOutput(scope: RunScope, plan: AgentPlan, home: string, process: AgentProcessResult): Promise<AgentRun> {
  const { log, now, startedAt } = scope;
  const { events: decisions, rejected } = await readDecisions(homePaths(home).decisionsPath, { start: startedAt, end: now() });
  for (const d of decisions) log.add(d);
  if (rejected > 0) log.add({ time: log.time(), type: "error", message: `ignored ${rejected} invalid line(s) in the decisions file` });
  let transcript: Transcript | null = null;
  let transcriptInfo: TranscriptSummary = {};
  if (plan.transcript) {
    const content = log.redact(await readFile(scope.stdoutPath, "utf8").catch(() => ""));
    if (content.trim()) {
      transcript = { path: plan.transcript.fileName, format: plan.transcript.format, content };
      transcriptInfo = summarizeTranscript(plan.transcript.format, content);
    }
  }
  return { process, decisions: decisions.length, transcript, transcriptInfo };
}
