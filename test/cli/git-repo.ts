import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runCli } from "../../src/cli/main.js";

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
};

export interface TempRepo {
  dir: string;
  git(...args: string[]): string;
  write(path: string, text: string | Buffer): void;
  remove(path: string): void;
  symlink(target: string, path: string): void;
  chmodX(path: string): void;
  commit(message: string): string;
  cleanup(): void;
}

export function tempDir(prefix = "agent-gate-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh repository on branch `main` (no commits yet). */
export function tempRepo(): TempRepo {
  const dir = tempDir();
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  git("init", "-q", "-b", "main");
  git("config", "core.autocrlf", "false");
  const abs = (p: string) => join(dir, p);
  return {
    dir,
    git,
    write(path, text) {
      mkdirSync(dirname(abs(path)), { recursive: true });
      writeFileSync(abs(path), text);
    },
    remove(path) {
      rmSync(abs(path));
    },
    symlink(target, path) {
      mkdirSync(dirname(abs(path)), { recursive: true });
      symlinkSync(target, abs(path));
    },
    chmodX(path) {
      chmodSync(abs(path), 0o755);
    },
    commit(message) {
      git("add", "-A");
      git("commit", "-q", "--no-verify", "-m", message);
      return git("rev-parse", "HEAD").trim();
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Run the CLI in-process; returns exit code and captured output. */
export async function cli(args: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: () => cwd });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}
