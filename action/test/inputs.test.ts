import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readInputs } from "../src/inputs.js";
import { runAgentGate } from "../src/run.js";
import { openPullRequest } from "../src/github.js";
import { readContext } from "../src/inputs.js";
import { makeRepo, recordingReporter, runnerEnv, type Fixture } from "./helpers.js";

const read = (given: Record<string, string>) => readInputs((n) => ({ prompt: "task", "github-token": "ghs_x", ...given })[n] ?? "");

describe("agent inputs", () => {
  it("reads model, arguments (lines or a JSON array), tools and turns", () => {
    const claude = read({ agent: "claude-code", model: "claude-sonnet-4-5", "claude-args": '["--append-system-prompt", "a b"]', "allowed-tools": "Bash(npm test:*), Edit\nRead", "max-turns": "7" });
    expect(claude).toMatchObject({ model: "claude-sonnet-4-5", claudeArgs: ["--append-system-prompt", "a b"], allowedTools: ["Bash(npm test:*)", "Edit", "Read"], maxTurns: 7, codexSandbox: "off" });
    expect(read({ agent: "codex", "codex-args": "--config\nmodel_reasoning_effort=high" }).codexArgs).toEqual(["--config", "model_reasoning_effort=high"]);
    expect(read({}).maxTurns).toBeNull();
  });

  it("rejects options for the wrong agent, bad versions and bad argument lists with the input's name", () => {
    expect(() => read({ agent: "codex", "max-turns": "3" })).toThrow(/max-turns: applies to agent: claude-code only/);
    expect(() => read({ agent: "claude-code", "codex-args": "--x" })).toThrow(/codex-args: applies to agent: codex only/);
    expect(() => read({ "codex-version": "1.0; rm -rf /" })).toThrow(/codex-version must be an npm version/);
    expect(() => read({ agent: "claude-code", "claude-args": "[1, 2]" })).toThrow(/claude-args must be a JSON array of strings/);
    expect(() => read({ model: "gpt 5" })).toThrow(/model must be a model name/);
    expect(() => read({ prompt: "" })).toThrow(/prompt is required \(or prompt-file\)/);
  });
});

describe("codex-version / claude-code-version", () => {
  const fixtures: Fixture[] = [];
  let saved: string | undefined;
  afterEach(() => {
    for (const f of fixtures.splice(0)) f.cleanup();
    if (saved !== undefined) process.env.PATH = saved;
  });

  it("installs the pinned release with npm before the agent runs, as a recorded command", async () => {
    const fx = makeRepo();
    fixtures.push(fx);
    // A stand-in npm on PATH records its arguments: no registry is contacted.
    const bin = mkdtempSync(path.join(os.tmpdir(), "agent-gate-npm-"));
    const log = path.join(bin, "calls");
    writeFileSync(path.join(bin, "npm"), `#!/bin/sh\necho "$@" >> ${log}\n`);
    chmodSync(path.join(bin, "npm"), 0o755);
    saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved ?? ""}`;
    const env = runnerEnv(fx);
    const inputs = readInputs((n) => ({ prompt: "task", agent: "claude-code", "claude-code-version": "2.0.1", "github-token": env.GITHUB_TOKEN! })[n] ?? "");
    const uploads: Array<Record<string, string>> = [];
    const result = await runAgentGate(inputs, readContext(env), {
      env,
      reporter: recordingReporter(),
      sandboxUser: null,
      remoteUrl: fx.remote,
      openPullRequest,
      permissionOf: async () => "write",
      mcpServerScript: path.join(fx.root, "missing-mcp.js"),
      uploadArtifact: async (_n, files) => (uploads.push(Object.fromEntries(files.map((f) => [path.basename(f), readFileSync(f, "utf8")]))), {}),
    });
    expect(readFileSync(log, "utf8")).toBe("install --global --no-fund --no-audit @anthropic-ai/claude-code@2.0.1\n");
    // The run then stops at the missing MCP bundle (this test's doing): the install came first and is in the telemetry.
    expect(result.failure).toMatch(/MCP server bundle/);
    expect(uploads[0]!["events.jsonl"]).toContain("npm install --global --no-fund --no-audit @anthropic-ai/claude-code@2.0.1");
    rmSync(bin, { recursive: true, force: true });
  });
});
