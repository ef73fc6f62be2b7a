/**
 * The `agent-gate` MCP server (stdio) the agent is given: its one tool, `record_decision`, turns what the
 * agent decided and why into a first-class `decision` event in the telemetry bundle.
 * Runs as the sandbox user; the action re-validates every line it appends (it is agent-written input).
 */
import { appendFile } from "node:fs/promises";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { bundleEventSchema } from "../../src/telemetry/bundle.js";

export const MCP_SERVER_NAME = "agent-gate";
export const DECISIONS_ENV = "AGENT_GATE_DECISIONS_FILE";

export const recordDecisionShape = {
  decision: z.string().trim().min(1).max(2_000).describe("What you decided, in one sentence (e.g. 'Use a streaming parser for the CSV import')."),
  rationale: z.string().max(10_000).describe("Why: the evidence and trade-offs behind the decision."),
  alternatives: z.array(z.string().max(2_000)).max(50).default([]).describe("Other options you considered and did not take."),
  files: z.array(z.string().max(1_000)).max(500).default([]).describe("Repository paths the decision affects."),
};

export interface DecisionServerOptions {
  /** The JSON Lines file decisions are appended to. */
  eventsPath: string;
  now?: () => Date;
}

export function createDecisionServer(options: DecisionServerOptions): McpServer {
  const now = options.now ?? (() => new Date());
  const server = new McpServer({ name: MCP_SERVER_NAME, version: "1.0.0" });
  server.registerTool(
    "record_decision",
    {
      title: "Record a decision",
      description:
        "Record a significant decision you made while working on this task, with your rationale and the alternatives you considered. " +
        "Reviewers see these in the pull request's Agent Gate check. Call it whenever you choose between approaches.",
      inputSchema: recordDecisionShape,
    },
    async (args) => {
      const event = bundleEventSchema.parse({ time: now().toISOString(), type: "decision", ...args });
      await appendFile(options.eventsPath, `${JSON.stringify(event)}\n`, { mode: 0o600 });
      return { content: [{ type: "text", text: "Decision recorded." }] };
    },
  );
  return server;
}

/** Entry point of dist/mcp.js: serves on stdin/stdout, writing to $AGENT_GATE_DECISIONS_FILE. */
export async function startDecisionServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const eventsPath = env[DECISIONS_ENV];
  if (!eventsPath) throw new Error(`${DECISIONS_ENV} is not set`);
  const server = createDecisionServer({ eventsPath });
  await server.connect(new StdioServerTransport());
}
