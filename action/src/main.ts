/** Entry point of dist/index.js: wires the run to @actions/core, the artifact service and the GitHub API. */
import * as core from "@actions/core";
import { DefaultArtifactClient } from "@actions/artifact";
import { openPullRequest } from "./github.js";
import { readContext, readInputs } from "./inputs.js";
import { runAgentGate, type Reporter } from "./run.js";

export const SANDBOX_USER = "agent-gate";

const reporter: Reporter = {
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  setOutput: (n, v) => core.setOutput(n, v),
  setSecret: (v) => core.setSecret(v),
  summary: async (markdown) => {
    await core.summary.addRaw(markdown, true).write();
  },
};

async function main(): Promise<void> {
  const inputs = readInputs((name) => core.getInput(name));
  const ctx = readContext(process.env);
  const artifacts = new DefaultArtifactClient();
  const result = await runAgentGate(inputs, ctx, {
    env: process.env,
    reporter,
    sandboxUser: SANDBOX_USER,
    openPullRequest,
    uploadArtifact: async (name, files, root) => {
      const r = await artifacts.uploadArtifact(name, files, root);
      return { ...(r.id !== undefined ? { id: r.id } : {}), ...(r.size !== undefined ? { size: r.size } : {}) };
    },
  });
  if (result.failure) core.setFailed(result.failure);
  else if (result.pullRequest) core.info(`opened ${result.pullRequest.url}`);
  else core.info("the agent changed nothing; no pull request");
}

main().catch((err: unknown) => core.setFailed(err instanceof Error ? err.message : String(err)));
