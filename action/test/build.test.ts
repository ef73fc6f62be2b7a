import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

const actionDir = path.resolve(import.meta.dirname, "..");

describe("the committed action bundle", () => {
  it("is not stale: a fresh esbuild build of action/src is byte-identical to action/dist", () => {
    const out = mkdtempSync(path.join(os.tmpdir(), "agent-gate-dist-"));
    try {
      execFileSync(process.execPath, [path.join(actionDir, "build.mjs"), out], { stdio: "pipe" });
      const committed = readdirSync(path.join(actionDir, "dist")).sort();
      expect(readdirSync(out).sort()).toEqual(committed);
      for (const name of committed) {
        const same = readFileSync(path.join(out, name)).equals(readFileSync(path.join(actionDir, "dist", name)));
        expect(same, `action/dist/${name} is stale: run npm run build:action and commit action/dist`).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("action.yml runs the bundle on node24 and declares the inputs and outputs the code reads", () => {
    const meta = YAML.parse(readFileSync(path.join(actionDir, "action.yml"), "utf8")) as { runs: { using: string; main: string }; inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    expect(meta.runs).toEqual({ using: "node24", main: "dist/index.js" });
    expect(Object.keys(meta.inputs).sort()).toEqual(["agent", "agent-env", "allow-secrets-in-diff", "allowed-domains", "allowed-tools", "allowed-users", "api-key-hosts", "base", "branch-prefix", "claude-args", "claude-code-version", "codex-args", "codex-sandbox", "codex-version", "command", "disallowed-tools", "github-token", "hold-api-keys", "max-turns", "model", "network", "prompt", "prompt-file", "pull-request", "timeout-minutes"]);
    expect(Object.keys(meta.outputs).sort()).toEqual(["branch", "pull-request-number", "pull-request-url", "telemetry-path"]);
  });

  it("the example workflow asks for no more than it needs and uses only inputs the action declares", () => {
    const workflow = YAML.parse(readFileSync(path.resolve(actionDir, "../docs/examples/agent-workflow.yml"), "utf8")) as {
      on: Record<string, unknown>;
      permissions: Record<string, string>;
      jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>;
    };
    const meta = YAML.parse(readFileSync(path.join(actionDir, "action.yml"), "utf8")) as { inputs: Record<string, unknown> };
    expect(Object.keys(workflow.on)).toEqual(["workflow_dispatch", "issue_comment"]);
    expect(workflow.on.issue_comment).toEqual({ types: ["created"] });
    // A comment runs the agent only on a pull request and only with the /agent command.
    const job = Object.values(workflow.jobs)[0] as unknown as { if: string };
    expect(job.if).toContain("github.event.issue.pull_request");
    expect(job.if).toContain("startsWith(github.event.comment.body, '/agent ')");
    expect(workflow.permissions).toEqual({ contents: "write", "pull-requests": "write" });
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    expect(steps.find((s) => s.uses?.startsWith("actions/checkout"))?.with).toMatchObject({ "persist-credentials": false });
    const gate = steps.find((s) => s.uses?.includes("agent-gate/action"));
    expect(Object.keys(gate?.with ?? {}).every((k) => k in meta.inputs)).toBe(true);
    expect(gate?.with?.prompt).toBe("${{ github.event_name == 'issue_comment' && github.event.comment.body || inputs.prompt }}");
    expect(gate?.with?.["pull-request"]).toBe("${{ github.event.issue.number }}");
  });
});
