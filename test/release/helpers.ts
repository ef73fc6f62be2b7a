/**
 * Release tests (the packed package, the container's commands) build and install the project from scratch, which
 * takes tens of seconds on a shared machine: they run in CI (`CI=true`, as `.ci/run` does) and when asked for with
 * AGENT_GATE_RELEASE_TESTS=1, and say so when skipped.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

export const RELEASE_TESTS = Boolean(process.env.CI) || process.env.AGENT_GATE_RELEASE_TESTS === "1";
export const RELEASE_SKIP_REASON = "release tests run in CI (CI=true) or with AGENT_GATE_RELEASE_TESTS=1";

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The environment without npm's lifecycle variables, so a nested `npm` behaves as a user's would. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  return { ...env, ...extra };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (never through a shell) and returns its exit code and output. */
export function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        if (error && code === -1) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like `run`, but a non-zero exit fails with the command's output in the message. */
export async function runOk(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new Error(`${file} ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}
