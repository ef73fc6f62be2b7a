/**
 * How each agent is started, what goes into its HOME (MCP wiring), and what its transcript says about
 * model and usage.
 */
import path from "node:path";
import type { BundleManifest } from "../../src/telemetry/bundle.js";
import type { AgentKind } from "./inputs.js";
import { DECISIONS_ENV, MCP_SERVER_NAME } from "./mcp-server.js";

export interface AgentPlan {
  cmd: string;
  args: string[];
  /** The prompt goes on stdin where the CLI reads it from there, never through argv (no flag injection, not in `ps`). */
  stdin: string | null;
  extraEnv: Record<string, string>;
  /** The transcript format of the agent's stdout, when it has one. */
  transcript: { fileName: string; format: "codex" | "claude-code" } | null;
  /** Files to create under the agent's HOME, relative to it. */
  homeFiles: Array<{ path: string; content: string }>;
}

export interface AgentPlanInput {
  agent: AgentKind;
  prompt: string;
  command: string;
  home: string;
  workspace: string;
  /** Where the MCP server script will be inside HOME (absolute). */
  mcpScriptPath: string;
  decisionsPath: string;
  /** The node executable the agent's MCP client starts the server with. */
  nodeCommand?: string;
  /** What the workflow configured for the agent's CLI. */
  options?: AgentOptions;
}

export interface AgentOptions {
  model?: string;
  /** codex-args or claude-args, appended as given (one argv entry each). */
  extraArgs?: readonly string[];
  allowedTools?: readonly string[];
  disallowedTools?: readonly string[];
  maxTurns?: number | null;
  /** off: Agent Gate's sandbox replaces Codex's own (which needs user namespaces Ubuntu 24.04 restricts). */
  codexSandbox?: "off" | "workspace-write";
}

/** TOML basic string; JSON escapes are a subset TOML accepts for the characters paths contain. */
function toml(value: string): string {
  return JSON.stringify(value);
}

export function codexConfig(input: Pick<AgentPlanInput, "mcpScriptPath" | "decisionsPath" | "nodeCommand">): string {
  return [
    "# Written by Agent Gate for this run.",
    `[mcp_servers.${MCP_SERVER_NAME}]`,
    `command = ${toml(input.nodeCommand ?? "node")}`,
    `args = [${toml(input.mcpScriptPath)}]`,
    "",
    `[mcp_servers.${MCP_SERVER_NAME}.env]`,
    `${DECISIONS_ENV} = ${toml(input.decisionsPath)}`,
    "",
  ].join("\n");
}

export function claudeMcpConfig(input: Pick<AgentPlanInput, "mcpScriptPath" | "decisionsPath" | "nodeCommand">): string {
  return `${JSON.stringify(
    { mcpServers: { [MCP_SERVER_NAME]: { type: "stdio", command: input.nodeCommand ?? "node", args: [input.mcpScriptPath], env: { [DECISIONS_ENV]: input.decisionsPath } } } },
    null,
    2,
  )}\n`;
}

export const CLAUDE_MCP_CONFIG = ".agent-gate/mcp.json";

export function planAgent(input: AgentPlanInput): AgentPlan {
  const gitconfig = ["[safe]", `\tdirectory = ${input.workspace}`, "[user]", "\tname = Agent Gate sandbox", "\temail = agent-gate@localhost", ""].join("\n");
  const common = {
    extraEnv: { AGENT_GATE_PROMPT: input.prompt, [DECISIONS_ENV]: input.decisionsPath },
    homeFiles: [
      { path: ".gitconfig", content: gitconfig },
      { path: ".codex/config.toml", content: codexConfig(input) },
      { path: CLAUDE_MCP_CONFIG, content: claudeMcpConfig(input) },
    ],
  };
  const o = input.options ?? {};
  const model = o.model ? ["--model", o.model] : [];
  switch (input.agent) {
    case "codex": {
      // Our sandbox (user, firewall, proxy) is the boundary; Codex's own is opt-in (`codex-sandbox: workspace-write`).
      const sandbox = o.codexSandbox === "workspace-write" ? "workspace-write" : "danger-full-access";
      const args = ["exec", "--json", "--sandbox", sandbox, ...model, ...(o.extraArgs ?? []), "-"];
      return { ...common, cmd: "codex", args, stdin: input.prompt, transcript: { fileName: "codex.jsonl", format: "codex" } };
    }
    case "claude-code":
      return {
        ...common,
        cmd: "claude",
        args: [
          "-p",
          "--output-format",
          "stream-json",
          "--verbose",
          "--mcp-config",
          path.join(input.home, CLAUDE_MCP_CONFIG),
          // Only our server: the repository's own .mcp.json is content the agent may have been asked to edit.
          "--strict-mcp-config",
          // The sandbox (user, firewall, proxy) is the boundary; inside it the agent may edit and run commands.
          "--permission-mode",
          "bypassPermissions",
          ...model,
          ...(o.maxTurns ? ["--max-turns", String(o.maxTurns)] : []),
          ...(o.allowedTools?.length ? ["--allowedTools", o.allowedTools.join(",")] : []),
          ...(o.disallowedTools?.length ? ["--disallowedTools", o.disallowedTools.join(",")] : []),
          ...(o.extraArgs ?? []),
        ],
        stdin: input.prompt,
        transcript: { fileName: "claude-code.jsonl", format: "claude-code" },
      };
    case "command":
      return { ...common, cmd: "bash", args: ["-c", input.command], stdin: null, transcript: null };
  }
}

export interface TranscriptSummary {
  model?: string;
  version?: string;
  usage?: NonNullable<BundleManifest["usage"]>;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Model, version and token usage from a Codex or Claude Code JSONL transcript; unknown lines are ignored. */
export function summarizeTranscript(format: "codex" | "claude-code", text: string): TranscriptSummary {
  const out: TranscriptSummary = {};
  let input = 0;
  let output = 0;
  let cached = 0;
  let cost: number | undefined;
  let sawUsage = false;
  for (const line of text.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const usage = obj.usage && typeof obj.usage === "object" ? (obj.usage as Record<string, unknown>) : null;
    if (format === "codex" && obj.type === "turn.completed" && usage) {
      sawUsage = true;
      input += num(usage.input_tokens) ?? 0;
      output += num(usage.output_tokens) ?? 0;
      cached += num(usage.cached_input_tokens) ?? 0;
    }
    if (format === "claude-code") {
      if (obj.type === "system" && obj.subtype === "init") {
        if (typeof obj.model === "string") out.model = obj.model;
        if (typeof obj.claude_code_version === "string") out.version = obj.claude_code_version;
      }
      if (obj.type === "result" && usage) {
        sawUsage = true;
        input += num(usage.input_tokens) ?? 0;
        output += num(usage.output_tokens) ?? 0;
        cached += num(usage.cache_read_input_tokens) ?? 0;
        cost = num(obj.total_cost_usd) ?? cost;
      }
    }
  }
  if (sawUsage) out.usage = { inputTokens: Math.round(input), outputTokens: Math.round(output), cachedInputTokens: Math.round(cached), ...(cost !== undefined ? { costUsd: cost } : {}) };
  return out;
}
