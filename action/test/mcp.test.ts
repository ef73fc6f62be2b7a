import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterEach, describe, expect, it } from "vitest";
import { bundleEventSchema } from "../../src/telemetry/bundle.js";
import { claudeMcpConfig, codexConfig, planAgent, summarizeTranscript } from "../src/agents.js";
import { createDecisionServer, DECISIONS_ENV } from "../src/mcp-server.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "agent-gate-mcp-"));
  dirs.push(d);
  return d;
}

const decision = { decision: "Use a streaming parser", rationale: "Files can be 2 GB", alternatives: ["read it whole"], files: ["src/import.ts"] };

describe("record_decision MCP server", () => {
  it("lists record_decision with its input schema and appends a valid decision event", async () => {
    const file = path.join(tmp(), "decisions.jsonl");
    const server = createDecisionServer({ eventsPath: file, now: () => new Date("2030-01-01T00:00:00Z") });
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "test", version: "1" });
    await Promise.all([server.connect(a), client.connect(b)]);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["record_decision"]);
    expect(Object.keys(tools[0]!.inputSchema.properties ?? {}).sort()).toEqual(["alternatives", "decision", "files", "rationale"]);
    expect(tools[0]!.inputSchema.required).toEqual(["decision", "rationale"]);

    const res = await client.callTool({ name: "record_decision", arguments: decision });
    expect(res.isError).toBeFalsy();
    await client.callTool({ name: "record_decision", arguments: { decision: "Second", rationale: "why" } });
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => bundleEventSchema.parse(JSON.parse(l)));
    expect(lines).toEqual([
      { time: "2030-01-01T00:00:00.000Z", type: "decision", ...decision },
      { time: "2030-01-01T00:00:00.000Z", type: "decision", decision: "Second", rationale: "why", alternatives: [], files: [] },
    ]);

    const bad = await client.callTool({ name: "record_decision", arguments: { rationale: "no decision" } });
    expect(bad.isError).toBe(true);
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(2);
    await client.close();
  });

  it("the committed dist/mcp.js serves over stdio", async () => {
    const file = path.join(tmp(), "decisions.jsonl");
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.resolve(import.meta.dirname, "../dist/mcp.js")],
      env: { [DECISIONS_ENV]: file, PATH: process.env.PATH ?? "" },
    });
    const client = new Client({ name: "test", version: "1" });
    await client.connect(transport);
    await client.callTool({ name: "record_decision", arguments: decision });
    await client.close();
    expect(bundleEventSchema.parse(JSON.parse(readFileSync(file, "utf8")))).toMatchObject({ type: "decision", ...decision });
  });
});

describe("agent wiring", () => {
  const where = { mcpScriptPath: "/tmp/h/.agent-gate/mcp.js", decisionsPath: "/tmp/h/.agent-gate/decisions.jsonl" };

  it("wires the server into Codex's config.toml and Claude Code's --mcp-config", () => {
    expect(codexConfig(where)).toContain('[mcp_servers.agent-gate]\ncommand = "node"\nargs = ["/tmp/h/.agent-gate/mcp.js"]');
    expect(codexConfig(where)).toContain('[mcp_servers.agent-gate.env]\nAGENT_GATE_DECISIONS_FILE = "/tmp/h/.agent-gate/decisions.jsonl"');
    expect(JSON.parse(claudeMcpConfig(where))).toEqual({
      mcpServers: { "agent-gate": { type: "stdio", command: "node", args: ["/tmp/h/.agent-gate/mcp.js"], env: { AGENT_GATE_DECISIONS_FILE: "/tmp/h/.agent-gate/decisions.jsonl" } } },
    });
  });

  it("starts each agent with the prompt on stdin, never in argv", () => {
    const base = { prompt: "--help; rm -rf /", command: "make fix", home: "/tmp/h", workspace: "/w", ...where };
    const codex = planAgent({ ...base, agent: "codex" });
    // Our sandbox replaces Codex's own by default (which needs user namespaces that Ubuntu 24.04 restricts).
    expect([codex.cmd, ...codex.args]).toEqual(["codex", "exec", "--json", "--sandbox", "danger-full-access", "-"]);
    expect(codex.stdin).toBe(base.prompt);
    expect(codex.homeFiles.map((f) => f.path)).toContain(".codex/config.toml");
    const claude = planAgent({ ...base, agent: "claude-code" });
    expect([claude.cmd, ...claude.args].join(" ")).toBe(
      "claude -p --output-format stream-json --verbose --mcp-config /tmp/h/.agent-gate/mcp.json --strict-mcp-config --permission-mode bypassPermissions",
    );
    expect(claude.args).not.toContain(base.prompt);
    const command = planAgent({ ...base, agent: "command" });
    expect([command.cmd, ...command.args]).toEqual(["bash", "-c", "make fix"]);
    expect(command.extraEnv.AGENT_GATE_PROMPT).toBe(base.prompt);
  });

  it("passes model, turns, tools and extra arguments to the agent's CLI as separate argv entries, prompt still on stdin", () => {
    const base = { prompt: "task", command: "", home: "/tmp/h", workspace: "/w", ...where };
    const codex = planAgent({ ...base, agent: "codex", options: { model: "gpt-5-codex", extraArgs: ["--config", "model_reasoning_effort=high"], codexSandbox: "workspace-write" } });
    expect(codex.args).toEqual(["exec", "--json", "--sandbox", "workspace-write", "--model", "gpt-5-codex", "--config", "model_reasoning_effort=high", "-"]);
    const claude = planAgent({ ...base, agent: "claude-code", options: { model: "claude-sonnet-4-5", maxTurns: 12, allowedTools: ["Bash(npm test:*)", "Edit"], disallowedTools: ["WebFetch"], extraArgs: ["--append-system-prompt", "Be brief; use $HOME"] } });
    expect(claude.args.slice(-10)).toEqual(["--model", "claude-sonnet-4-5", "--max-turns", "12", "--allowedTools", "Bash(npm test:*),Edit", "--disallowedTools", "WebFetch", "--append-system-prompt", "Be brief; use $HOME"]);
    expect(claude.stdin).toBe("task");
  });

  it("reads model and usage from the transcripts", () => {
    const codex = [
      '{"type":"thread.started","thread_id":"t"}',
      '{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":40,"output_tokens":7}}',
      '{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":3}}',
      "not json",
    ].join("\n");
    expect(summarizeTranscript("codex", codex)).toEqual({ usage: { inputTokens: 110, outputTokens: 10, cachedInputTokens: 40 } });
    const claude = [
      '{"type":"system","subtype":"init","model":"claude-sonnet-4-5","claude_code_version":"2.0.1","tools":[]}',
      '{"type":"result","subtype":"success","total_cost_usd":0.0123,"usage":{"input_tokens":5,"output_tokens":9,"cache_read_input_tokens":2}}',
    ].join("\n");
    expect(summarizeTranscript("claude-code", claude)).toEqual({ model: "claude-sonnet-4-5", version: "2.0.1", usage: { inputTokens: 5, outputTokens: 9, cachedInputTokens: 2, costUsd: 0.0123 } });
  });
});
