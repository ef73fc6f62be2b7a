/**
 * The sandbox: an unprivileged user, a scrubbed environment, a workspace the agent may edit but whose
 * .git it may not, and a process group the action can always kill.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { lstat, mkdtemp, readFile, readdir, readlink, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { forbiddenAgentEnv } from "./inputs.js";
import type { Shell } from "./exec.js";

// ---------------------------------------------------------------------------------------------------------
// Environment

/** Harmless variables every agent gets; everything else must be named in agent-env. */
export const BASE_ENV_NAMES = [
  "PATH",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TERM",
  "CI",
  "GITHUB_ACTIONS",
  "GITHUB_REPOSITORY",
  "GITHUB_RUN_ID",
  "GITHUB_SERVER_URL",
  "GITHUB_REF_NAME",
  "GITHUB_SHA",
  "RUNNER_OS",
  "RUNNER_ARCH",
] as const;

export interface ScrubOptions {
  /** Names from agent-env (already validated). */
  agentEnv: readonly string[];
  /** `http://127.0.0.1:<port>` of the egress proxy. */
  proxyUrl: string;
  home: string;
  userName: string;
  /** Variables the action sets for this agent (AGENT_GATE_PROMPT, …). */
  extra?: Record<string, string>;
}

export interface ScrubResult {
  env: Record<string, string>;
  /** agent-env names that were not set in the runner's environment. */
  missing: string[];
}

/**
 * Builds the agent's environment from an allowlist, never by deleting from the runner's: a secret the
 * workflow put in `env:` under any name stays out unless agent-env names it.
 */
export function scrubEnvironment(parent: NodeJS.ProcessEnv, options: ScrubOptions): ScrubResult {
  const env: Record<string, string> = {};
  for (const name of BASE_ENV_NAMES) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const missing: string[] = [];
  for (const name of options.agentEnv) {
    // Re-checked here so a caller that skipped input validation still cannot leak the token.
    if (forbiddenAgentEnv(name)) continue;
    const value = parent[name];
    if (value === undefined) missing.push(name);
    else env[name] = value;
  }
  Object.assign(env, {
    HOME: options.home,
    USER: options.userName,
    LOGNAME: options.userName,
    SHELL: "/bin/bash",
    TMPDIR: path.join(options.home, "tmp"),
    HTTP_PROXY: options.proxyUrl,
    HTTPS_PROXY: options.proxyUrl,
    http_proxy: options.proxyUrl,
    https_proxy: options.proxyUrl,
    ALL_PROXY: options.proxyUrl,
    // Node's built-in fetch ignores the variables above unless told otherwise (Node 22.21+/24).
    NODE_USE_ENV_PROXY: "1",
    GIT_TERMINAL_PROMPT: "0",
    ...options.extra,
  });
  return { env, missing };
}

// ---------------------------------------------------------------------------------------------------------
// The checkout's .git

export class SandboxError extends Error {
  override name = "SandboxError";
}

/**
 * Fails when the checkout kept credentials the agent could read: an `http.*.extraheader`, a credential
 * helper, a remote URL with a password, or an include (actions/checkout v5+ keeps the token in an included file).
 * @throws SandboxError naming the offending key.
 */
export async function assertNoPersistedCredentials(workspace: string, shell: Shell): Promise<void> {
  const r = await shell.run("git", ["config", "--file", path.join(workspace, ".git", "config"), "--list", "--null"], { allowFailure: true, quiet: true });
  if (r.exitCode !== 0) throw new SandboxError(`cannot read ${workspace}/.git/config: ${r.stderr.trim()}`);
  for (const entry of r.stdout.split("\0").filter(Boolean)) {
    const [rawKey = "", ...rest] = entry.split("\n");
    const key = rawKey.toLowerCase();
    const value = rest.join("\n");
    const bad =
      /^http\..*extraheader$/.test(key) ||
      key.startsWith("credential.") ||
      key === "include.path" ||
      (key.startsWith("includeif.") && key.endsWith(".path")) ||
      (/^remote\..*\.(push)?url$/.test(key) && /^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(value));
    if (bad) {
      throw new SandboxError(
        `The checkout persisted credentials (${rawKey} in .git/config), which the agent could read. ` +
          "Use actions/checkout with `persist-credentials: false`; Agent Gate pushes with its own token.",
      );
    }
  }
}

export type GitSnapshot = Map<string, string>;

const HASH_LIMIT = 8 * 1024 * 1024;

/**
 * Fingerprints everything under .git except the index (rebuilt from HEAD before committing): content hashes
 * for ordinary files, size/mtime/inode for big packs, link targets for symlinks, and the directory's own inode
 * so a replaced .git is noticed too.
 */
export async function snapshotGitDir(gitDir: string): Promise<GitSnapshot> {
  const snap: GitSnapshot = new Map();
  const root = await lstat(gitDir);
  if (!root.isDirectory()) throw new SandboxError(`${gitDir} is not a directory (a symlink or a worktree file is not supported)`);
  snap.set(".", `root:${root.dev}:${root.ino}:${root.mode}:${root.uid}`);
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (relPath === "index") continue;
      const full = path.join(dir, entry.name);
      const st = await lstat(full);
      if (st.isSymbolicLink()) snap.set(relPath, `link:${await readlink(full)}`);
      else if (st.isDirectory()) {
        snap.set(relPath, `dir:${st.mode}:${st.uid}`);
        await walk(full, relPath);
      } else if (st.isFile()) {
        const content = st.size <= HASH_LIMIT ? createHash("sha256").update(await readFile(full)).digest("hex") : `${st.mtimeMs}:${st.ino}`;
        snap.set(relPath, `file:${st.mode}:${st.uid}:${st.size}:${content}`);
      } else snap.set(relPath, `other:${st.mode}`);
    }
  };
  await walk(gitDir, "");
  return snap;
}

/** Paths under .git that were added, removed or changed between two snapshots. */
export function diffGitSnapshots(before: GitSnapshot, after: GitSnapshot): string[] {
  const changed = new Set<string>();
  for (const [p, sig] of before) if (after.get(p) !== sig) changed.add(p);
  for (const p of after.keys()) if (!before.has(p)) changed.add(p);
  return [...changed].sort();
}

// ---------------------------------------------------------------------------------------------------------
// The sandbox user

export interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,30}$/;

/** Looks the user up, creating it (no home, no login shell, its own group, no sudo) when missing. */
export async function ensureSandboxUser(name: string, shell: Shell): Promise<SandboxUser> {
  if (!USER_NAME.test(name)) throw new SandboxError(`invalid sandbox user name ${name}`);
  const lookup = async (): Promise<SandboxUser | null> => {
    const uid = await shell.run("id", ["-u", name], { allowFailure: true, quiet: true });
    const gid = await shell.run("id", ["-g", name], { allowFailure: true, quiet: true });
    if (uid.exitCode !== 0 || gid.exitCode !== 0) return null;
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const existing = await lookup();
  if (existing) {
    if (existing.uid === 0) throw new SandboxError(`sandbox user ${name} is root`);
    return existing;
  }
  await shell.privileged("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]);
  const created = await lookup();
  if (!created) throw new SandboxError(`useradd ${name} did not create the user`);
  return created;
}

/**
 * Hands the working tree (not .git) to the sandbox user and makes sure it can reach it: the runner's home
 * is often not traversable by other users, so each ancestor gets an execute-only ACL (or o+x without ACLs).
 */
export async function handWorkspaceToUser(workspace: string, user: SandboxUser, shell: Shell): Promise<void> {
  const owner = `${user.uid}:${user.gid}`;
  await shell.privileged("find", [workspace, "-path", path.join(workspace, ".git"), "-prune", "-o", "-exec", "chown", "-h", owner, "{}", "+"]);
  let dir = path.dirname(path.resolve(workspace));
  for (;;) {
    const st = await stat(dir);
    if ((st.mode & 0o001) === 0) {
      const acl = await shell.privileged("setfacl", ["-m", `u:${user.uid}:x`, dir], { allowFailure: true });
      if (acl.exitCode !== 0) await shell.privileged("chmod", ["o+x", dir]);
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
}

/**
 * Gives the workspace back to the action's user after the agent's processes are gone. Only entries the sandbox
 * user owns are chowned: a hard link the agent planted to someone else's file (where the kernel allows that)
 * keeps its owner instead of being handed to the runner.
 */
export async function takeWorkspaceBack(workspace: string, user: SandboxUser, shell: Shell): Promise<void> {
  const owner = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  await shell.privileged("find", [workspace, "-uid", String(user.uid), "-exec", "chown", "-h", owner, "{}", "+"]);
}

/** A fresh, private HOME for the agent in the system temp dir (reachable without traversing the runner's home). */
export async function makeAgentHome(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "agent-gate-home-"));
}

// ---------------------------------------------------------------------------------------------------------
// Running the agent

export interface AgentProcessOptions {
  cmd: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** null runs as the action's own user (tests only). */
  user: SandboxUser | null;
  timeoutMs: number;
  /** Where the agent's stdout goes (its transcript); the tail is also kept in memory. */
  stdoutPath: string;
  /** Written to the agent's stdin, then closed; null gives it no stdin. */
  stdin?: string | null;
  /** Grace period between SIGTERM and SIGKILL on timeout. */
  killGraceMs?: number;
  /**
   * Path of util-linux `setpriv`: the agent then runs with no_new_privs, so setuid binaries (sudo, su, a planted
   * copy) and file capabilities cannot raise its privileges. null/undefined runs it without.
   */
  noNewPrivs?: string | null;
}

export interface AgentProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

const TAIL = 16_000;

function appendTail(tail: string, chunk: Buffer): string {
  const next = tail + chunk.toString("utf8");
  return next.length > TAIL ? next.slice(-TAIL) : next;
}

/** Builds the spawn for running as the sandbox user: uid/gid directly as root, otherwise sudo + env -i. */
export function agentSpawnPlan(options: Pick<AgentProcessOptions, "cmd" | "args" | "env" | "user" | "noNewPrivs">, isRoot: boolean): { cmd: string; args: string[]; env: Record<string, string>; uid?: number; gid?: number } {
  const { user } = options;
  if (user === null) return { cmd: options.cmd, args: [...options.args], env: options.env };
  const argv = options.noNewPrivs ? [options.noNewPrivs, "--no-new-privs", "--", options.cmd, ...options.args] : [options.cmd, ...options.args];
  // As root, Node drops the supplementary groups (setgroups(0)) before setgid/setuid.
  if (isRoot) return { cmd: argv[0] ?? options.cmd, args: argv.slice(1), env: options.env, uid: user.uid, gid: user.gid };
  // sudo resets the environment and sets the target user's groups; env -i then sets exactly the scrubbed one.
  const assignments = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
  return { cmd: "sudo", args: ["-n", "-u", user.name, "--", "env", "-i", ...assignments, ...argv], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } };
}

/** Where util-linux `setpriv` is, or null (then setuid helpers keep working for the sandbox user). */
export async function findSetpriv(): Promise<string | null> {
  for (const candidate of ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"]) {
    if (await stat(candidate).then((st) => st.isFile(), () => false)) return candidate;
  }
  return null;
}

/**
 * Runs the agent in its own process group. On timeout: SIGTERM to the group, then SIGKILL; either way, every
 * process left behind by the sandbox user is killed before this resolves, so nothing can touch the workspace
 * while the action commits it.
 */
export async function runAgentProcess(options: AgentProcessOptions, shell: Shell): Promise<AgentProcessResult> {
  const plan = agentSpawnPlan(options, shell.isRoot);
  const started = performance.now();
  const out = createWriteStream(options.stdoutPath, { mode: 0o600 });
  let stdoutTail = "";
  let stderrTail = "";
  let timedOut = false;
  const child = spawn(plan.cmd, plan.args, {
    cwd: options.cwd,
    env: plan.env,
    detached: true,
    stdio: [options.stdin == null ? "ignore" : "pipe", "pipe", "pipe"],
    ...(plan.uid !== undefined ? { uid: plan.uid, gid: plan.gid } : {}),
  });
  if (child.stdin) {
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");
  }
  child.stdout?.on("data", (c: Buffer) => {
    out.write(c);
    stdoutTail = appendTail(stdoutTail, c);
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderrTail = appendTail(stderrTail, c);
  });
  const killGroup = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Not ours to signal (sudo's group) or already gone: ask root.
      await shell.privileged("kill", [`-${signal.replace(/^SIG/, "")}`, "--", `-${child.pid}`], { allowFailure: true, quiet: true });
    }
  };
  let graceTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    void killGroup("SIGTERM");
    graceTimer = setTimeout(() => void killGroup("SIGKILL"), options.killGraceMs ?? 5_000);
  }, options.timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("error", (err) => {
      stderrTail = appendTail(stderrTail, Buffer.from(`${err.message}\n`));
      resolve({ code: 127, signal: null });
    });
    child.on("close", (c, s) => resolve({ code: c, signal: s }));
  });
  clearTimeout(timer);
  if (graceTimer) clearTimeout(graceTimer);
  await killGroup("SIGKILL");
  if (options.user) await killUserProcesses(options.user, shell);
  await new Promise<void>((resolve) => out.end(resolve));
  return { exitCode: code, signal, timedOut, durationMs: performance.now() - started, stdoutTail, stderrTail };
}

/** Kills whatever the sandbox user still runs (daemons, double-forked children that left the group). */
export async function killUserProcesses(user: SandboxUser, shell: Shell): Promise<void> {
  await shell.privileged("pkill", ["-KILL", "-U", String(user.uid)], { allowFailure: true, quiet: true });
}
