/**
 * The action's own git commands. Hooks and fsmonitor are disabled on every call, so nothing the agent left in
 * the working tree or (despite the .git check) in the repository can run with the action's privileges.
 */
import type { BundleEvent } from "../../src/telemetry/bundle.js";
import type { CommandResult, RunOptions, Shell } from "./exec.js";

export interface FileChange {
  path: string;
  kind: Extract<BundleEvent, { type: "file_change" }>["kind"];
  oldPath?: string;
}

export class Git {
  constructor(
    private readonly shell: Shell,
    readonly workspace: string,
  ) {}

  run(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const safety = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", `safe.directory=${this.workspace}`, "-c", "protocol.ext.allow=never"];
    return this.shell.run("git", [...safety, "-C", this.workspace, ...args], {
      ...options,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...options.env },
    });
  }

  async head(): Promise<string> {
    return (await this.run(["rev-parse", "HEAD"], { quiet: true })).stdout.trim();
  }

  async currentBranch(): Promise<string | null> {
    const r = await this.run(["symbolic-ref", "--short", "-q", "HEAD"], { allowFailure: true, quiet: true });
    return r.exitCode === 0 ? r.stdout.trim() || null : null;
  }

  /** Paths with uncommitted changes (tracked or untracked, not ignored). */
  async dirtyPaths(): Promise<string[]> {
    const r = await this.run(["status", "--porcelain=v1", "-z", "--untracked-files=all"], { quiet: true });
    return r.stdout
      .split("\0")
      .filter(Boolean)
      .map((e) => e.slice(3));
  }

  /**
   * Stages every change in the working tree. The index is first rebuilt from HEAD so flags the agent may have
   * set in it (assume-unchanged, skip-worktree, intent-to-add) cannot hide or fake a change.
   */
  async stageAll(): Promise<FileChange[]> {
    await this.run(["read-tree", "HEAD"]);
    await this.run(["add", "--all", "--", "."]);
    const r = await this.run(["diff", "--cached", "--name-status", "-z", "-M", "HEAD"], { quiet: true });
    return parseNameStatus(r.stdout);
  }

  /**
   * The staged changes as a patch with no context, for the secret scan. `--text` so a `-diff` attribute in the
   * agent's .gitattributes cannot hide a file as binary; no external diff or textconv driver ever runs.
   * Quiet: the output may hold the very secrets the scan is looking for.
   */
  async stagedDiff(): Promise<string> {
    const r = await this.run(["-c", "core.quotePath=false", "diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "--text", "-M", "-U0", "HEAD"], { quiet: true });
    return r.stdout;
  }

  async commit(message: string, identity: { name: string; email: string }): Promise<string> {
    await this.run(["-c", `user.name=${identity.name}`, "-c", `user.email=${identity.email}`, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "--file", "-"], { input: message });
    return this.head();
  }

  /**
   * Fetches `branch` from the remote (the token in this one process's environment, as for push) and checks it
   * out, so the agent continues an existing pull request's branch. Returns the commit it checked out.
   */
  async checkoutRemoteBranch(remoteUrl: string, branch: string, auth: { serverUrl: string; token: string } | null): Promise<string> {
    await this.run(["fetch", "--quiet", "--no-tags", remoteUrl, `refs/heads/${branch}`], { env: authEnv(auth) });
    await this.run(["checkout", "--quiet", "-B", branch, "FETCH_HEAD"]);
    return this.head();
  }

  /**
   * Pushes HEAD to `branch`. The token travels in the environment of this one git process as an
   * `http.<server>/.extraheader` (GIT_CONFIG_* variables): never in argv, never in .git/config.
   */
  async push(remoteUrl: string, branch: string, auth: { serverUrl: string; token: string } | null): Promise<void> {
    await this.run(["push", "--quiet", "--no-verify", remoteUrl, `HEAD:refs/heads/${branch}`], { env: authEnv(auth) });
  }
}

/** The token as an `http.<server>/.extraheader` in GIT_CONFIG_* variables: never in argv, never in .git/config. */
function authEnv(auth: { serverUrl: string; token: string } | null): NodeJS.ProcessEnv {
  if (!auth) return {};
  const basic = Buffer.from(`x-access-token:${auth.token}`).toString("base64");
  return { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `http.${auth.serverUrl}/.extraheader`, GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}` };
}

/** Parses `git diff --name-status -z -M`. */
export function parseNameStatus(output: string): FileChange[] {
  const parts = output.split("\0");
  const changes: FileChange[] = [];
  for (let i = 0; i < parts.length; ) {
    const status = parts[i++] ?? "";
    if (!status) continue;
    const code = status[0];
    if (code === "R" || code === "C") {
      const from = parts[i++] ?? "";
      const to = parts[i++] ?? "";
      changes.push(code === "R" ? { path: to, kind: "rename", oldPath: from } : { path: to, kind: "add" });
      continue;
    }
    const file = parts[i++] ?? "";
    changes.push({ path: file, kind: code === "A" ? "add" : code === "D" ? "delete" : "update" });
  }
  return changes;
}
