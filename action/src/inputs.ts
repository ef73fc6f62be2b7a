/**
 * The action's inputs (action.yml) and the workflow context it reads from the runner's environment,
 * both validated with zod at the edge.
 */
import os from "node:os";
import { z } from "zod";
import { AllowlistError, normalizeHostName, parseAllowedDomains, type DomainRule } from "./hosts.js";

export const AGENTS = ["codex", "claude-code", "command"] as const;
export type AgentKind = (typeof AGENTS)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// A ref component git accepts and GitHub shows sensibly; the run id is appended.
const BRANCH_PREFIX = /^(?!.*\.\.)(?!.*\/\/)(?!\/)[A-Za-z0-9._/-]*$/;

const VERSION = /^(?:|latest|[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?)$/;

/** CLI arguments: a JSON array of strings, or one argument per line. Never split by a shell. */
function argumentList(name: string) {
  return z.string().transform((text, ctx): string[] => {
    const trimmed = text.trim();
    if (trimmed.startsWith("[")) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (Array.isArray(parsed) && parsed.every((a) => typeof a === "string")) return parsed;
      } catch {
        // reported below
      }
      ctx.addIssue({ code: "custom", message: `${name} must be a JSON array of strings or one argument per line` });
      return z.NEVER;
    }
    return trimmed.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  });
}

/** A YAML 1.2 core boolean as @actions/core's getBooleanInput reads it. */
function booleanInput(name: string) {
  return z.string().transform((text, ctx) => {
    if (/^(true|True|TRUE)$/.test(text)) return true;
    if (/^(false|False|FALSE)$/.test(text)) return false;
    ctx.addIssue({ code: "custom", message: `${name} must be true or false` });
    return z.NEVER;
  });
}

export const actionInputsSchema = z
  .object({
    /** The task given to the agent (or prompt-file). */
    prompt: z.string().trim(),
    /** A file in the workspace holding the task, read before the agent starts. */
    promptFile: z.string().trim(),
    /** The model, passed to the agent's CLI as --model. */
    model: z.string().trim().regex(/^[A-Za-z0-9._:/@-]*$/, "model must be a model name such as gpt-5-codex"),
    /** Extra CLI arguments, one per line or a JSON array of strings; no shell is involved. */
    codexArgs: argumentList("codex-args"),
    claudeArgs: argumentList("claude-args"),
    /** Claude Code's --allowedTools / --disallowedTools, comma- or line-separated. */
    allowedTools: z.string().transform((t) => t.split(/[\n,]+/).map((x) => x.trim()).filter(Boolean)),
    disallowedTools: z.string().transform((t) => t.split(/[\n,]+/).map((x) => x.trim()).filter(Boolean)),
    /** Claude Code's --max-turns; empty: the CLI's default. */
    maxTurns: z.union([z.literal("").transform(() => null), z.coerce.number().int("max-turns must be a whole number").min(1).max(10_000)]),
    /** off (default): our sandbox replaces Codex's; workspace-write: Codex's own sandbox inside ours as well. */
    codexSandbox: z.enum(["off", "workspace-write"], { error: () => "codex-sandbox must be off or workspace-write" }),
    /** Versions to install with npm before the run (e.g. 0.46.0); empty: use what is on PATH. */
    codexVersion: z.string().trim().regex(VERSION, "codex-version must be an npm version such as 0.46.0 or latest"),
    claudeCodeVersion: z.string().trim().regex(VERSION, "claude-code-version must be an npm version such as 2.0.1 or latest"),
    /** Iterate on this existing agent pull request: check out its branch, push a new commit to it. */
    pullRequest: z.union([z.literal("").transform(() => null), z.coerce.number().int("pull-request must be a pull request number").positive()]),
    /** Who may start a run besides users with write access: GitHub logins, or `*` for anyone. */
    allowedUsers: z.string().transform((t) => t.split(/[\s,]+/).filter(Boolean)),
    /** Which agent to run. */
    agent: z.enum(AGENTS, { error: () => `agent must be one of ${AGENTS.join(", ")}` }),
    /** For agent: command — a bash command line; the prompt is in $AGENT_GATE_PROMPT. */
    command: z.string().trim(),
    /** Hosts the agent may reach through the proxy: one per line, `*.example.com` for subdomains, optional `:port`. */
    allowedDomains: z.string().transform((text, ctx): DomainRule[] => {
      try {
        return parseAllowedDomains(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof AllowlistError ? err.message : String(err) });
        return z.NEVER;
      }
    }),
    /** block: refuse and firewall everything else; audit: allow everything, log it all. */
    network: z.enum(["block", "audit"], { error: () => "network must be block or audit" }),
    branchPrefix: z.string().trim().regex(BRANCH_PREFIX, "branch-prefix must be a valid git ref prefix such as agent/"),
    /** The branch the pull request targets; empty = the branch the workflow ran on. */
    base: z.string().trim(),
    /** Used by the action only (push, pull request, artifact); never given to the agent. */
    githubToken: z.string().trim().min(1, "github-token is required"),
    /** Names of environment variables handed to the agent (e.g. OPENAI_API_KEY). */
    agentEnv: z.string().transform((text, ctx) => {
      const names = text.split(/[\s,]+/).filter(Boolean);
      for (const name of names) {
        if (!ENV_NAME.test(name)) ctx.addIssue({ code: "custom", message: `agent-env: "${name}" is not an environment variable name` });
        const why = forbiddenAgentEnv(name);
        if (why) ctx.addIssue({ code: "custom", message: `agent-env: ${name} cannot be handed to the agent (${why})` });
      }
      return [...new Set(names)];
    }),
    timeoutMinutes: z.coerce.number().int("timeout-minutes must be a whole number").min(1).max(360),
    /** Give the agent placeholders for model API keys; the egress proxy adds the real key (key-proxy.ts). */
    holdApiKeys: booleanInput("hold-api-keys"),
    /** More keys to hold: `NAME=host[,host]` per line, for agent-env names beyond the known model APIs. */
    apiKeyHosts: z.string().transform((text, ctx): Record<string, string[]> => {
      const out: Record<string, string[]> = {};
      for (const raw of text.split(/\r?\n/)) {
        const line = raw.replace(/#.*$/, "").trim();
        if (!line) continue;
        const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*(.+)$/.exec(line);
        const hosts = (m?.[2] ?? "").split(/[\s,]+/).filter(Boolean).map((h) => normalizeHostName(h));
        if (!m || hosts.length === 0 || hosts.some((h) => h === null)) {
          ctx.addIssue({ code: "custom", message: `api-key-hosts: "${line}" is not NAME=host[,host]` });
          continue;
        }
        out[m[1] ?? ""] = hosts.filter((h): h is string => h !== null);
      }
      return out;
    }),
    /** Push even when the diff scan finds a secret (the hits are still reported). */
    allowSecretsInDiff: booleanInput("allow-secrets-in-diff"),
  })
  .superRefine((inputs, ctx) => {
    if ((inputs.prompt === "") === (inputs.promptFile === "")) {
      ctx.addIssue({ code: "custom", path: ["prompt"], message: inputs.prompt === "" ? "prompt is required (or prompt-file)" : "give prompt or prompt-file, not both" });
    }
    const claudeOnly = { claudeArgs: inputs.claudeArgs.length > 0, allowedTools: inputs.allowedTools.length > 0, disallowedTools: inputs.disallowedTools.length > 0, maxTurns: inputs.maxTurns !== null };
    for (const [key, set] of Object.entries(claudeOnly)) {
      if (set && inputs.agent !== "claude-code") ctx.addIssue({ code: "custom", path: [key], message: "applies to agent: claude-code only" });
    }
    if (inputs.codexArgs.length > 0 && inputs.agent !== "codex") ctx.addIssue({ code: "custom", path: ["codexArgs"], message: "applies to agent: codex only" });
    if (inputs.agent === "command" && inputs.command === "") {
      ctx.addIssue({ code: "custom", path: ["command"], message: "command is required when agent is command" });
    }
    for (const name of Object.keys(inputs.apiKeyHosts)) {
      if (!inputs.agentEnv.includes(name)) ctx.addIssue({ code: "custom", path: ["apiKeyHosts"], message: `api-key-hosts: ${name} is not listed in agent-env` });
    }
  });
export type ActionInputs = z.infer<typeof actionInputsSchema>;

/** Why a variable may never reach the agent even when listed in agent-env, or null. */
export function forbiddenAgentEnv(name: string): string | null {
  const upper = name.toUpperCase();
  if (upper === "GITHUB_TOKEN" || upper === "GH_TOKEN" || upper === "GITHUB_PAT") return "the workflow's GitHub token stays with the action";
  if (upper.startsWith("ACTIONS_")) return "runner credentials";
  if (upper.startsWith("INPUT_")) return "action inputs include the GitHub token";
  if (["GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"].includes(upper)) return "writing to it would change later workflow steps";
  if (/^(HTTPS?|ALL|NO)_PROXY$/.test(upper) || upper === "NODE_USE_ENV_PROXY") return "the egress proxy settings are set by the action";
  if (["HOME", "USER", "LOGNAME"].includes(upper) || upper.startsWith("AGENT_GATE_")) return "set by the action";
  return null;
}

const INPUT_NAMES = {
  prompt: "prompt",
  promptFile: "prompt-file",
  model: "model",
  codexArgs: "codex-args",
  claudeArgs: "claude-args",
  allowedTools: "allowed-tools",
  disallowedTools: "disallowed-tools",
  maxTurns: "max-turns",
  codexSandbox: "codex-sandbox",
  codexVersion: "codex-version",
  claudeCodeVersion: "claude-code-version",
  allowedUsers: "allowed-users",
  pullRequest: "pull-request",
  agent: "agent",
  command: "command",
  allowedDomains: "allowed-domains",
  network: "network",
  branchPrefix: "branch-prefix",
  base: "base",
  githubToken: "github-token",
  agentEnv: "agent-env",
  timeoutMinutes: "timeout-minutes",
  allowSecretsInDiff: "allow-secrets-in-diff",
  holdApiKeys: "hold-api-keys",
  apiKeyHosts: "api-key-hosts",
} as const;

const DEFAULTS: Partial<Record<keyof typeof INPUT_NAMES, string>> = {
  agent: "codex",
  network: "block",
  branchPrefix: "agent/",
  timeoutMinutes: "60",
  allowSecretsInDiff: "false",
  holdApiKeys: "true",
  codexSandbox: "off",
};

export class InputError extends Error {
  override name = "InputError";
}

function formatIssues(error: z.ZodError, names: Record<string, string>): string {
  return error.issues.map((i) => `${names[String(i.path[0])] ?? i.path.join(".")}: ${i.message}`.replace(/^(\S+): \1: /, "$1: ")).join("\n");
}

/**
 * Reads and validates the inputs. `getInput` follows @actions/core (`INPUT_<NAME>`, trimmed, "" when unset).
 * @throws InputError listing every invalid input.
 */
export function readInputs(getInput: (name: string) => string): ActionInputs {
  const raw = Object.fromEntries(
    Object.entries(INPUT_NAMES).map(([key, name]) => {
      const value = getInput(name);
      return [key, value === "" ? (DEFAULTS[key as keyof typeof INPUT_NAMES] ?? "") : value];
    }),
  );
  const parsed = actionInputsSchema.safeParse(raw);
  if (!parsed.success) {
    // Cross-field checks run only once every field parses; a missing task is worth saying together with the rest.
    const missingTask = String(raw.prompt ?? "").trim() === "" && String(raw.promptFile ?? "").trim() === "" ? ["prompt: prompt is required (or prompt-file)"] : [];
    const lines = [...new Set([...missingTask, ...formatIssues(parsed.error, INPUT_NAMES).split("\n")])];
    throw new InputError(`Invalid inputs:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

const contextSchema = z.object({
  GITHUB_REPOSITORY: z.string().regex(/^[^/\s]+\/[^/\s]+$/, "expected owner/name"),
  GITHUB_RUN_ID: z.coerce.number().int().positive(),
  GITHUB_RUN_ATTEMPT: z.coerce.number().int().positive().default(1),
  GITHUB_SERVER_URL: z.string().url().default("https://github.com"),
  GITHUB_API_URL: z.string().url().default("https://api.github.com"),
  GITHUB_WORKFLOW_REF: z.string().min(1),
  GITHUB_WORKSPACE: z.string().min(1),
  RUNNER_TEMP: z.string().min(1).optional(),
  GITHUB_ACTOR: z.string().min(1).default("unknown"),
  GITHUB_TRIGGERING_ACTOR: z.string().min(1).optional(),
  GITHUB_REF: z.string().optional(),
  GITHUB_REF_NAME: z.string().optional(),
});

export interface RunContext {
  owner: string;
  repo: string;
  repository: string;
  runId: number;
  runAttempt: number;
  serverUrl: string;
  apiUrl: string;
  /** `.github/workflows/agent.yml`, from GITHUB_WORKFLOW_REF. */
  workflowPath: string;
  workspace: string;
  tempDir: string;
  triggeredBy: string;
  /** The branch the workflow ran on, when it ran on a branch. */
  refBranch: string | null;
  runUrl: string;
}

/** @throws InputError when the runner's environment lacks what a workflow run always has. */
export function readContext(env: NodeJS.ProcessEnv): RunContext {
  const parsed = contextSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")));
  if (!parsed.success) {
    throw new InputError(`Not running in a GitHub Actions workflow run:\n${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n")}`);
  }
  const e = parsed.data;
  const [owner = "", repo = ""] = e.GITHUB_REPOSITORY.split("/");
  // owner/repo/.github/workflows/agent.yml@refs/heads/main
  const refless = e.GITHUB_WORKFLOW_REF.replace(/@[^@]*$/, "");
  const workflowPath = refless.startsWith(`${e.GITHUB_REPOSITORY}/`) ? refless.slice(e.GITHUB_REPOSITORY.length + 1) : refless.split("/").slice(2).join("/") || refless;
  const serverUrl = e.GITHUB_SERVER_URL.replace(/\/+$/, "");
  const refBranch = e.GITHUB_REF?.startsWith("refs/heads/") ? e.GITHUB_REF.slice("refs/heads/".length) : null;
  return {
    owner,
    repo,
    repository: e.GITHUB_REPOSITORY,
    runId: e.GITHUB_RUN_ID,
    runAttempt: e.GITHUB_RUN_ATTEMPT,
    serverUrl,
    apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ""),
    workflowPath,
    workspace: e.GITHUB_WORKSPACE,
    tempDir: e.RUNNER_TEMP ?? os.tmpdir(),
    triggeredBy: e.GITHUB_TRIGGERING_ACTOR ?? e.GITHUB_ACTOR,
    refBranch,
    runUrl: `${serverUrl}/${e.GITHUB_REPOSITORY}/actions/runs/${e.GITHUB_RUN_ID}`,
  };
}
