/**
 * An OpenHands trajectory (All-Hands-AI/OpenHands `openhands/events/serialization`: the JSON array `save_trajectory_path`
 * writes, or `{history: [...]}`): events with id, timestamp, source (agent | user | environment), message and either
 * `action` (run {command}, edit {path, command, file_text}, write {path, content}, message {content}, think {thought},
 * browse {url}, finish {final_thought, outputs}) with `args`, or `observation` (run, edit, error, …) with `content`,
 * `cause` (the action's id) and `extras` (command, metadata.exit_code). `llm_metrics` carry the accumulated usage.
 */
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { FileChangeKind } from "../model.js";
import { classifyTool } from "../tools.js";
import type { ToolDraft } from "../tools.js";
import { arr, get, int, isObject, isoTime, normalizePath, num, str } from "../util.js";
import { addDraft, PendingMap } from "./builder.js";
import type { FormatHandler } from "./builder.js";

export function isOpenHandsRecord(v: unknown): boolean {
  if (Array.isArray(get(v, "history"))) return true;
  if (typeof get(v, "action") === "string") return isObject(get(v, "args")) || typeof get(v, "source") === "string";
  return typeof get(v, "observation") === "string" && (get(v, "content") !== undefined || isObject(get(v, "extras")));
}

interface PendingAction {
  draft: ToolDraft;
  name: string;
  line: number;
  time?: string;
}

/** OpenHands mounts the repository at /workspace in its sandbox. */
const WORKSPACE = "/workspace";

const EDIT_COMMANDS: Record<string, FileChangeKind> = { create: "write", str_replace: "update", insert: "update", undo_edit: "update" };

function actionDraft(action: string, args: unknown): ToolDraft | null {
  const path = str(get(args, "path"));
  switch (action) {
    case "run":
    case "run_ipython":
      return { type: "command", command: str(get(args, "command")) ?? str(get(args, "code")) ?? "" };
    case "write":
      return path === undefined ? null : { type: "file_change", changes: [{ path: normalizePath(path, WORKSPACE), change: "write" }] };
    case "edit": {
      const change = EDIT_COMMANDS[str(get(args, "command")) ?? ""] ?? (str(get(args, "content")) !== undefined ? "update" : undefined);
      return path === undefined || change === undefined ? null : { type: "file_change", changes: [{ path: normalizePath(path, WORKSPACE), change }] };
    }
    case "browse":
      return { type: "web_search", query: str(get(args, "url")) ?? "", url: str(get(args, "url")) ?? "" };
    case "call_tool_mcp":
      return classifyTool(str(get(args, "name")) ?? "mcp", get(args, "arguments"), "mcp");
    default:
      return null;
  }
}

export class OpenHandsHandler implements FormatHandler {
  private readonly pending: PendingMap<PendingAction>;

  constructor(private readonly acc: TraceAccumulator) {
    acc.run.agent ??= "openhands";
    this.pending = new PendingMap(CAPS.pending, (p) => this.emit(p, null));
  }

  handle(value: unknown, line: number): void {
    const history = get(value, "history");
    if (Array.isArray(history)) {
      // `{history: [...]}`: its events, one level only (a nested history is just an unknown event).
      history.slice(0, 1_000_000).forEach((e, i) => (Array.isArray(get(e, "history")) ? this.acc.other("history", i + 1) : this.event(e, i + 1)));
      return;
    }
    this.event(value, line);
  }

  private event(value: unknown, line: number): void {
    this.acc.event();
    const time = isoTime(get(value, "timestamp"));
    if (time) {
      if (this.acc.run.startedAt === null) this.acc.run.startedAt = time;
      this.acc.run.endedAt = time;
    }
    this.metrics(get(value, "llm_metrics"));
    const action = str(get(value, "action"));
    if (action !== undefined) return this.action(action, value, line, time);
    const observation = str(get(value, "observation"));
    if (observation !== undefined) return this.observation(observation, value, line, time);
    this.acc.other("event", line, time);
  }

  private action(action: string, value: unknown, line: number, time?: string): void {
    const args = get(value, "args");
    const base = { sourceLine: line, ...(time ? { time } : {}) };
    const source = str(get(value, "source"));
    if (action === "message") {
      const text = str(get(args, "content")) ?? str(get(value, "message")) ?? "";
      if (source === "user") this.acc.run.task ??= text;
      this.acc.add({ kind: "message", role: source === "user" ? "user" : "agent", text, ...base });
      return;
    }
    if (action === "think") {
      this.acc.add({ kind: "reasoning", text: str(get(args, "thought")) ?? "", ...base });
      return;
    }
    if (action === "finish") {
      this.acc.run.finalMessage = str(get(args, "final_thought")) ?? str(get(args, "thought")) ?? str(get(value, "message")) ?? null;
      return;
    }
    const thought = str(get(args, "thought"));
    if (thought !== undefined && thought.trim() !== "") this.acc.add({ kind: "reasoning", text: thought, ...base });
    const draft = actionDraft(action, args);
    if (!draft) return this.acc.other(`action:${action}`, line, time);
    const id = get(value, "id");
    this.pending.set(typeof id === "number" || typeof id === "string" ? String(id) : `line-${line}`, { draft, name: action, line, ...(time ? { time } : {}) });
  }

  private observation(observation: string, value: unknown, line: number, time?: string): void {
    const cause = get(value, "cause");
    const pending = cause === undefined || cause === null ? undefined : this.pending.take(String(cause));
    if (pending) return this.emit(pending, value);
    if (observation === "error") this.acc.add({ kind: "error", message: str(get(value, "content")) ?? str(get(value, "message")) ?? "error", sourceLine: line, ...(time ? { time } : {}) });
    else this.acc.other(`observation:${observation}`, line, time);
  }

  private emit(p: PendingAction, obs: unknown): void {
    const extras = get(obs, "extras");
    const exitCode = int(get(get(extras, "metadata"), "exit_code")) ?? int(get(extras, "exit_code")) ?? null;
    const failed = get(obs, "observation") === "error" || (exitCode !== null && exitCode !== 0 && exitCode !== -1);
    const status = obs === null ? "unknown" : failed ? "failed" : "completed";
    const output = str(get(obs, "content")) ?? "";
    // An edit observation says whether the file existed before: a new file is an add.
    const draft: ToolDraft = p.draft.type === "file_change" && get(extras, "prev_exist") === false ? { type: "file_change", changes: p.draft.changes.map((c) => ({ ...c, change: "add" })) } : p.draft;
    addDraft(this.acc, draft, { name: p.name, status, exitCode: exitCode === -1 ? null : exitCode, output }, { sourceLine: p.line, ...(p.time ? { time: p.time } : {}) });
  }

  private metrics(m: unknown): void {
    if (!isObject(m)) return;
    const u = this.acc.run.usage;
    const usage = get(m, "accumulated_token_usage");
    u.costUsd = num(get(m, "accumulated_cost")) ?? u.costUsd;
    u.inputTokens = num(get(usage, "prompt_tokens")) ?? u.inputTokens;
    u.outputTokens = num(get(usage, "completion_tokens")) ?? u.outputTokens;
    u.cachedInputTokens = num(get(usage, "cache_read_tokens")) ?? u.cachedInputTokens;
    for (const c of arr(get(m, "costs")).slice(0, 1)) this.acc.run.model ??= str(get(c, "model")) ?? null;
  }

  flush(): void {
    for (const p of this.pending.drain()) this.emit(p, null);
  }
}
