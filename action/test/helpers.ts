import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Reporter } from "../src/run.js";

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  }).trim();
}

export interface Fixture {
  root: string;
  remote: string;
  workspace: string;
  temp: string;
  cleanup(): void;
}

/** A bare "GitHub" remote and a checkout of it (persist-credentials: false style), with a few files. */
export function makeRepo(): Fixture {
  const root = mkdtempSync(path.join(os.tmpdir(), "agent-gate-e2e-"));
  const remote = path.join(root, "remote.git");
  const workspace = path.join(root, "workspace");
  const temp = path.join(root, "runner-temp");
  mkdirSync(temp);
  git(root, "init", "--bare", "-q", remote);
  mkdirSync(workspace);
  git(workspace, "init", "-q");
  writeFileSync(path.join(workspace, "README.md"), "# Demo\n");
  writeFileSync(path.join(workspace, "old.txt"), "to be deleted\n");
  mkdirSync(path.join(workspace, "src"));
  writeFileSync(path.join(workspace, "src", "app.js"), "console.log('v1');\n");
  git(workspace, "add", "-A");
  git(workspace, "commit", "-q", "-m", "initial");
  git(workspace, "remote", "add", "origin", remote);
  git(workspace, "push", "-q", "origin", "main");
  return { root, remote, workspace, temp, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function runnerEnv(fx: Fixture, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GITHUB_REPOSITORY: "octo/demo",
    GITHUB_RUN_ID: "4242",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_API_URL: "https://api.github.com",
    GITHUB_WORKFLOW_REF: "octo/demo/.github/workflows/agent.yml@refs/heads/main",
    GITHUB_WORKSPACE: fx.workspace,
    RUNNER_TEMP: fx.temp,
    GITHUB_ACTOR: "mona",
    GITHUB_REF: "refs/heads/main",
    GITHUB_REF_NAME: "main",
    GITHUB_TOKEN: "ghs_workflowtoken1234567890",
    ACTIONS_RUNTIME_TOKEN: "runtime-token-abcdef",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc-request-token",
    ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/oidc",
    "INPUT_GITHUB-TOKEN": "ghs_workflowtoken1234567890",
    DATABASE_PASSWORD: "hunter2-database",
    OPENAI_API_KEY: "sk-test-openai-key-0001",
    ...extra,
  };
}

export function recordingReporter(): Reporter & { outputs: Record<string, string>; warnings: string[]; summaries: string[]; secrets: string[] } {
  const r = {
    outputs: {} as Record<string, string>,
    warnings: [] as string[],
    summaries: [] as string[],
    secrets: [] as string[],
    info: () => undefined,
    warning: (m: string) => void r.warnings.push(m),
    setOutput: (n: string, v: string) => void (r.outputs[n] = v),
    setSecret: (v: string) => void r.secrets.push(v),
    summary: async (m: string) => void r.summaries.push(m),
  };
  return r;
}
