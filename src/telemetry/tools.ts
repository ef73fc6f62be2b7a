/**
 * Maps an agent's tool call (Claude Code tool_use, an OTel execute_tool span) onto a step kind, and reads the
 * `record_decision` tool of the agent-gate MCP server into a decision.
 */
import { CAPS } from "./model.js";
import type { DecisionStep, FileChangeKind } from "./model.js";
import { arr, get, isObject, normalizePath, safeStringify, str } from "./util.js";

export const DECISION_SERVER = "agent-gate";
export const DECISION_TOOL = "record_decision";

export type ToolDraft =
  | { type: "command"; command: string }
  | { type: "file_change"; changes: Array<{ path: string; change: FileChangeKind; previousPath?: string }> }
  | { type: "web_search"; query: string; url?: string }
  | { type: "decision"; decision: Omit<DecisionStep, "kind"> }
  | { type: "tool_call"; server: string | null; tool: string; arguments: string };

export function isDecisionTool(server: string | null | undefined, tool: string): boolean {
  const s = (server ?? "").toLowerCase().replace(/_/g, "-");
  const t = tool.toLowerCase();
  if (t === DECISION_TOOL) return s === "" || s === DECISION_SERVER;
  return t === `mcp__${DECISION_SERVER}__${DECISION_TOOL}` || t === `mcp__agent_gate__${DECISION_TOOL}` || t === `${DECISION_SERVER}.${DECISION_TOOL}`;
}

function asText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) return "";
  return safeStringify(v, CAPS.shortChars * 4);
}

function alternativeText(v: unknown): string {
  if (typeof v === "string") return v;
  if (isObject(v)) {
    const name = str(get(v, "option")) ?? str(get(v, "name")) ?? str(get(v, "title")) ?? str(get(v, "summary")) ?? str(get(v, "alternative"));
    const why = str(get(v, "reason")) ?? str(get(v, "why_not")) ?? str(get(v, "rejected_because")) ?? str(get(v, "rationale"));
    if (name !== undefined) return why ? `${name} — ${why}` : name;
  }
  return asText(v);
}

/** Reads record_decision arguments ({decision, rationale, alternatives[], files[]}); the arguments may be a JSON string. */
export function decisionFromArguments(args: unknown): Omit<DecisionStep, "kind"> | null {
  let a: unknown = args;
  if (typeof args === "string") {
    try {
      a = JSON.parse(args) as unknown;
    } catch {
      return { summary: args, rationale: "", alternatives: [], files: [] };
    }
  }
  if (!isObject(a)) return null;
  const summary = asText(get(a, "decision") ?? get(a, "summary") ?? get(a, "title"));
  const rationale = asText(get(a, "rationale") ?? get(a, "reason") ?? get(a, "why"));
  const alternatives = arr(get(a, "alternatives")).slice(0, 50).map(alternativeText);
  const files = arr(get(a, "files")).slice(0, 200).map(asText).filter((f) => f !== "");
  if (summary === "" && rationale === "") return null;
  return { summary, rationale, alternatives, files };
}

/** `*** Add File: x` / `*** Update File: x` / `*** Delete File: x` / `*** Move to: y` lines of an apply_patch body. */
export function filesFromPatch(patch: string, cwd?: string | null): Array<{ path: string; change: FileChangeKind; previousPath?: string }> {
  const out: Array<{ path: string; change: FileChangeKind; previousPath?: string }> = [];
  const re = /^\*\*\* (Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(patch.slice(0, 1_000_000))) !== null && out.length < 500) {
    if (m[3] !== undefined) {
      const last = out[out.length - 1];
      if (last) {
        last.previousPath = last.path;
        last.path = normalizePath(m[3], cwd);
        last.change = "rename";
      }
      continue;
    }
    const verb = m[1];
    const change: FileChangeKind = verb === "Add" ? "add" : verb === "Delete" ? "delete" : "update";
    out.push({ path: normalizePath(m[2] ?? "", cwd), change });
  }
  return out;
}

function commandText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
    const parts = v;
    // Codex-style ["bash", "-lc", "script"]: the script is what matters.
    if (parts.length === 3 && /(?:^|\/)(?:ba|z)?sh$/.test(parts[0] ?? "") && parts[1] === "-lc") return parts[2];
    return parts.join(" ");
  }
  return undefined;
}

const SHELL_TOOLS = new Set(["bash", "shell", "sh", "run_shell_command", "shell_command", "exec_command", "local_shell", "run_command", "terminal", "execute_command", "run_terminal_cmd", "container.exec"]);
const WRITE_TOOLS = new Set(["write", "write_file", "create_file", "writefile", "create"]);
const EDIT_TOOLS = new Set(["edit", "multiedit", "edit_file", "str_replace_editor", "str_replace_based_edit_tool", "replace", "notebookedit", "apply_diff", "insert"]);

/**
 * Classifies a tool call by name and input. Claude Code names (Bash, Edit, Write, MultiEdit, NotebookEdit,
 * WebSearch, WebFetch, mcp__server__tool) and common OTel gen_ai.tool.name values map to the same kinds.
 */
export function classifyTool(name: string, input: unknown, server: string | null = null, cwd?: string | null): ToolDraft {
  let srv = server;
  let tool = name;
  const mcp = /^mcp__(.+?)__(.+)$/.exec(name);
  if (mcp && srv === null) {
    srv = mcp[1] ?? null;
    tool = mcp[2] ?? name;
  }
  if (isDecisionTool(srv, tool)) {
    const decision = decisionFromArguments(input);
    if (decision) return { type: "decision", decision };
  }
  let args = input;
  if (typeof args === "string" && args.trimStart().startsWith("{")) {
    try {
      args = JSON.parse(args) as unknown;
    } catch {
      /* keep the string */
    }
  }
  const lower = tool.toLowerCase();
  if (srv === null) {
    if (SHELL_TOOLS.has(lower)) {
      const command = commandText(get(args, "command") ?? get(args, "cmd") ?? get(args, "script") ?? (typeof args === "string" ? args : undefined));
      if (command !== undefined) return { type: "command", command };
    }
    const path = str(get(args, "file_path")) ?? str(get(args, "filePath")) ?? str(get(args, "notebook_path")) ?? str(get(args, "path")) ?? str(get(args, "filename"));
    if (path !== undefined && (WRITE_TOOLS.has(lower) || EDIT_TOOLS.has(lower))) {
      const editMode = str(get(args, "edit_mode"));
      const change: FileChangeKind = WRITE_TOOLS.has(lower) || str(get(args, "command")) === "create" ? "write" : editMode === "delete" ? "update" : "update";
      return { type: "file_change", changes: [{ path: normalizePath(path, cwd), change }] };
    }
    if (lower === "apply_patch") {
      const patch = str(get(args, "input")) ?? str(get(args, "patch")) ?? (typeof args === "string" ? args : undefined);
      const changes = patch ? filesFromPatch(patch, cwd) : [];
      if (changes.length > 0) return { type: "file_change", changes };
    }
    if (lower === "websearch" || lower === "web_search" || lower === "google_web_search") {
      const query = str(get(args, "query")) ?? str(get(args, "q"));
      if (query !== undefined) return { type: "web_search", query };
    }
    if (lower === "webfetch" || lower === "web_fetch" || lower === "fetch") {
      const url = str(get(args, "url"));
      if (url !== undefined) return { type: "web_search", query: str(get(args, "prompt")) ?? url, url };
    }
  }
  return { type: "tool_call", server: srv, tool, arguments: typeof input === "string" ? input : safeStringify(input ?? null, CAPS.argumentsChars + 8192) };
}
