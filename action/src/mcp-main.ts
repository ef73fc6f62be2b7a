import { startDecisionServer } from "./mcp-server.js";

startDecisionServer().catch((err: unknown) => {
  process.stderr.write(`agent-gate MCP server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
