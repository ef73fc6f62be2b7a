import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, renameSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventLog, Shell } from "../src/exec.js";
import { readContext, readInputs } from "../src/inputs.js";
import {
  agentSpawnPlan,
  assertNoPersistedCredentials,
  diffGitSnapshots,
  runAgentProcess,
  scrubEnvironment,
  snapshotGitDir,
} from "../src/sandbox.js";
import { git, makeRepo, runnerEnv, type Fixture } from "./helpers.js";

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});
function repo(): Fixture {
  const f = makeRepo();
  fixtures.push(f);
  return f;
}

describe("environment scrubbing", () => {
  const parent: NodeJS.ProcessEnv = {
    PATH: "/opt/tools/bin:/usr/bin",
    LANG: "C.UTF-8",
    CI: "true",
    GITHUB_REPOSITORY: "octo/demo",
    GITHUB_TOKEN: "ghs_token",
    GH_TOKEN: "ghs_token2",
    ACTIONS_RUNTIME_TOKEN: "rt",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc",
    ACTIONS_ID_TOKEN_REQUEST_URL: "https://oidc",
    ACTIONS_RESULTS_URL: "https://results",
    ACTIONS_CACHE_URL: "https://cache",
    "INPUT_GITHUB-TOKEN": "ghs_token",
    INPUT_PROMPT: "task",
    GITHUB_ENV: "/home/runner/work/_temp/_runner_file_commands/set_env",
    GITHUB_OUTPUT: "/out",
    GITHUB_PATH: "/path",
    GITHUB_STEP_SUMMARY: "/summary",
    RUNNER_TEMP: "/home/runner/work/_temp",
    HOME: "/home/runner",
    NO_PROXY: "localhost,127.0.0.1",
    HTTPS_PROXY: "http://corp-proxy:3128",
    AWS_SECRET_ACCESS_KEY: "aws-secret",
    DATABASE_URL: "postgres://u:p@db/x",
    OPENAI_API_KEY: "sk-openai",
    ANTHROPIC_API_KEY: "sk-ant",
  };
  const { env, missing } = scrubEnvironment(parent, {
    agentEnv: ["OPENAI_API_KEY", "GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "NOT_SET_ANYWHERE"],
    proxyUrl: "http://127.0.0.1:3128",
    home: "/tmp/agent-home",
    userName: "agent-gate",
    extra: { AGENT_GATE_PROMPT: "do it" },
  });

  it.each([
    ["GITHUB_TOKEN", undefined],
    ["GH_TOKEN", undefined],
    ["ACTIONS_RUNTIME_TOKEN", undefined],
    ["ACTIONS_ID_TOKEN_REQUEST_TOKEN", undefined],
    ["ACTIONS_ID_TOKEN_REQUEST_URL", undefined],
    ["ACTIONS_RESULTS_URL", undefined],
    ["ACTIONS_CACHE_URL", undefined],
    ["INPUT_GITHUB-TOKEN", undefined],
    ["INPUT_PROMPT", undefined],
    ["GITHUB_ENV", undefined],
    ["GITHUB_OUTPUT", undefined],
    ["GITHUB_PATH", undefined],
    ["GITHUB_STEP_SUMMARY", undefined],
    ["RUNNER_TEMP", undefined],
    ["AWS_SECRET_ACCESS_KEY", undefined],
    ["DATABASE_URL", undefined],
    ["ANTHROPIC_API_KEY", undefined],
    ["NO_PROXY", undefined],
    ["OPENAI_API_KEY", "sk-openai"],
    ["PATH", "/opt/tools/bin:/usr/bin"],
    ["LANG", "C.UTF-8"],
    ["CI", "true"],
    ["GITHUB_REPOSITORY", "octo/demo"],
    ["HOME", "/tmp/agent-home"],
    ["TMPDIR", "/tmp/agent-home/tmp"],
    ["USER", "agent-gate"],
    ["HTTPS_PROXY", "http://127.0.0.1:3128"],
    ["HTTP_PROXY", "http://127.0.0.1:3128"],
    ["https_proxy", "http://127.0.0.1:3128"],
    ["http_proxy", "http://127.0.0.1:3128"],
    ["NODE_USE_ENV_PROXY", "1"],
    ["AGENT_GATE_PROMPT", "do it"],
  ])("%s -> %s", (name, expected) => {
    expect(env[name]).toBe(expected);
  });

  it("reports agent-env names that are not set, and nothing outside the allowlist and agent-env gets through", () => {
    expect(missing).toEqual(["NOT_SET_ANYWHERE"]);
    const secrets = ["ghs_token", "ghs_token2", "rt", "oidc", "aws-secret", "sk-ant", "postgres://u:p@db/x"];
    for (const value of Object.values(env)) expect(secrets).not.toContain(value);
  });

  it("agent-env cannot name the token, runner credentials, inputs or the proxy settings", () => {
    const get = (extra: Record<string, string>) => (name: string) => ({ prompt: "p", agent: "command", command: "true", "github-token": "t", ...extra })[name] ?? "";
    expect(() => readInputs(get({ "agent-env": "OPENAI_API_KEY\nGITHUB_TOKEN" }))).toThrow(/agent-env: GITHUB_TOKEN cannot be handed to the agent/);
    expect(() => readInputs(get({ "agent-env": "ACTIONS_ID_TOKEN_REQUEST_TOKEN" }))).toThrow(/runner credentials/);
    expect(() => readInputs(get({ "agent-env": "INPUT_GITHUB_TOKEN" }))).toThrow(/inputs/);
    expect(() => readInputs(get({ "agent-env": "HTTPS_PROXY" }))).toThrow(/proxy/);
    expect(() => readInputs(get({ "agent-env": "GITHUB_ENV" }))).toThrow(/later workflow steps/);
    expect(() => readInputs(get({ "agent-env": "bad-name" }))).toThrow(/not an environment variable name/);
    expect(readInputs(get({ "agent-env": "OPENAI_API_KEY, ANTHROPIC_API_KEY\nOPENAI_API_KEY" })).agentEnv).toEqual(["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]);
  });

  it("runs as the sandbox user through sudo with exactly the scrubbed environment when not root", () => {
    const plan = agentSpawnPlan({ cmd: "codex", args: ["exec"], env: { A: "1", HOME: "/h" }, user: { name: "agent-gate", uid: 1001, gid: 1001 } }, false);
    expect(plan).toMatchObject({ cmd: "sudo", args: ["-n", "-u", "agent-gate", "--", "env", "-i", "A=1", "HOME=/h", "codex", "exec"] });
    expect(Object.keys(plan.env)).toEqual(["PATH"]);
    expect(agentSpawnPlan({ cmd: "codex", args: [], env: { A: "1" }, user: { name: "x", uid: 1001, gid: 1002 } }, true)).toMatchObject({ cmd: "codex", uid: 1001, gid: 1002, env: { A: "1" } });
  });
});

describe("inputs and context", () => {
  const base = { prompt: "Fix the bug", "github-token": "t" } as Record<string, string>;
  it("applies the defaults of action.yml", () => {
    const inputs = readInputs((n) => base[n] ?? "");
    expect(inputs).toMatchObject({ agent: "codex", network: "block", branchPrefix: "agent/", timeoutMinutes: 60, allowedDomains: [], agentEnv: [] });
  });
  it("lists every invalid input", () => {
    const bad = { ...base, prompt: " ", agent: "copilot", network: "open", "timeout-minutes": "1.5", "allowed-domains": "http://x.com", "branch-prefix": "../x" };
    expect(() => readInputs((n) => bad[n as keyof typeof bad] ?? "")).toThrow(
      /prompt: prompt is required[\s\S]*agent must be one of codex, claude-code, command[\s\S]*allowed-domains[\s\S]*not a URL[\s\S]*network must be block or audit[\s\S]*branch-prefix[\s\S]*timeout-minutes/,
    );
    expect(() => readInputs((n) => ({ ...base, agent: "command" })[n] ?? "")).toThrow(/command is required when agent is command/);
  });
  it("reads the workflow path and run URL from the runner environment", () => {
    const fx = repo();
    const ctx = readContext(runnerEnv(fx, { GITHUB_WORKFLOW_REF: "octo/demo/.github/workflows/agents/run.yml@refs/pull/3/merge", GITHUB_RUN_ATTEMPT: "2" }));
    expect(ctx).toMatchObject({ workflowPath: ".github/workflows/agents/run.yml", runAttempt: 2, runUrl: "https://github.com/octo/demo/actions/runs/4242", refBranch: "main", owner: "octo", repo: "demo" });
    expect(() => readContext({})).toThrow(/Not running in a GitHub Actions workflow run/);
  });
});

describe("the checkout's .git", () => {
  const shell = () => new Shell(new EventLog());

  it("passes a checkout without persisted credentials", async () => {
    const fx = repo();
    await expect(assertNoPersistedCredentials(fx.workspace, shell())).resolves.toBeUndefined();
  });

  it.each([
    ["http.https://github.com/.extraheader", "AUTHORIZATION: basic abc"],
    ["credential.helper", "store"],
    ["includeIf.gitdir:/home/runner/work/demo/demo/.git.path", "/home/runner/work/_temp/git-credentials-1.config"],
    ["include.path", "/tmp/creds"],
    ["remote.origin.url", "https://x-access-token:ghs_abc@github.com/octo/demo"],
  ])("fails when the checkout persisted %s", async (key, value) => {
    const fx = repo();
    git(fx.workspace, "config", key, value);
    await expect(assertNoPersistedCredentials(fx.workspace, shell())).rejects.toThrow(/persist-credentials: false/);
  });

  it("notices hooks, config edits, new objects, a replaced .git and symlinks, but not the index", async () => {
    const fx = repo();
    const gitDir = path.join(fx.workspace, ".git");
    const before = await snapshotGitDir(gitDir);
    git(fx.workspace, "status");
    writeFileSync(path.join(fx.workspace, "README.md"), "changed\n");
    git(fx.workspace, "add", "README.md");
    const afterIndex = await snapshotGitDir(gitDir);
    // git add also writes a blob: that is a write under .git too.
    expect(diffGitSnapshots(before, afterIndex).every((p) => p.startsWith("objects/"))).toBe(true);

    const base = await snapshotGitDir(gitDir);
    writeFileSync(path.join(gitDir, "hooks", "pre-push"), "#!/bin/sh\n");
    symlinkSync("/etc/passwd", path.join(gitDir, "info", "evil"));
    git(fx.workspace, "config", "core.hooksPath", "/tmp/hooks");
    expect(diffGitSnapshots(base, await snapshotGitDir(gitDir))).toEqual(["config", "hooks/pre-push", "info/evil"]);

    const copy = mkdtempSync(path.join(os.tmpdir(), "agent-gate-gitcopy-"));
    try {
      const snap = await snapshotGitDir(gitDir);
      renameSync(gitDir, path.join(copy, "old"));
      mkdirSync(gitDir);
      for (const [rel, sig] of snap) {
        if (sig.startsWith("dir:")) mkdirSync(path.join(gitDir, rel), { recursive: true });
      }
      expect(diffGitSnapshots(snap, await snapshotGitDir(gitDir))).toContain(".");
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe("running the agent process", () => {
  it("kills the whole process group on timeout, including children that ignore SIGTERM", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "agent-gate-timeout-"));
    try {
      const marker = path.join(dir, "survivor");
      const result = await runAgentProcess(
        {
          cmd: "bash",
          args: ["-c", `trap '' TERM; (trap '' TERM; sleep 2; touch ${marker}) & echo started; sleep 30`],
          cwd: dir,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          user: null,
          timeoutMs: 300,
          killGraceMs: 200,
          stdoutPath: path.join(dir, "out"),
        },
        new Shell(new EventLog()),
      );
      expect(result.timedOut).toBe(true);
      expect(result.exitCode).toBeNull();
      expect(readFileSync(path.join(dir, "out"), "utf8")).toBe("started\n");
      await new Promise((r) => setTimeout(r, 2_500));
      expect(() => readFileSync(marker)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("feeds the prompt on stdin and reports the exit code", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "agent-gate-stdin-"));
    try {
      const result = await runAgentProcess(
        { cmd: "bash", args: ["-c", "read -r line; echo \"got:$line\"; exit 4"], cwd: dir, env: { PATH: process.env.PATH ?? "" }, user: null, timeoutMs: 10_000, stdoutPath: path.join(dir, "out"), stdin: "--flag-like prompt\n" },
        new Shell(new EventLog()),
      );
      expect(result).toMatchObject({ exitCode: 4, timedOut: false });
      expect(result.stdoutTail).toBe("got:--flag-like prompt\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the event log", () => {
  it("redacts secrets from recorded commands and keeps events in time order", async () => {
    let t = 0;
    const log = new EventLog(() => new Date(Date.UTC(2030, 0, 1, 0, 0, t++)));
    log.addSecret("s3cr3t-value");
    log.addSecret("ab");
    const shell = new Shell(log);
    await shell.run("echo", ["token=s3cr3t-value"]);
    const [event] = log.events();
    expect(event).toMatchObject({ type: "command", command: "echo token=***", exitCode: 0, output: "token=***" });
    await expect(shell.run("bash", ["-c", "echo s3cr3t-value >&2; exit 2"])).rejects.toThrow(/exited with 2: \*\*\*/);
    log.add({ time: "2029-12-31T00:00:00.000Z", type: "message", role: "system", text: "earlier, added last" });
    expect(log.events().map((e) => e.type)).toEqual(["message", "command", "command"]);
    expect(JSON.stringify(log.events())).not.toContain("s3cr3t");
  });
});
