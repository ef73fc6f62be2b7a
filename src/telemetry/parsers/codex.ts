/**
 * Codex `codex exec --json` JSONL (openai/codex codex-rs/exec/src/exec_events.rs): thread.started,
 * turn.started / turn.completed {usage} / turn.failed {error}, item.started / item.updated / item.completed
 * {item: {id, type, …}}, error {message}. Older builds (`--experimental-json`, Sept 2025) sent
 * session.created {session_id} and items keyed by `item_type` with `assistant_message` for agent messages.
 * Session rollout files (`{timestamp, type, payload}`) are handed to CodexRolloutHandler.
 */
import { addUsage } from "../accumulator.js";
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { CallStatus, FileChangeKind } from "../model.js";
import { decisionFromArguments, isDecisionTool } from "../tools.js";
import { arr, get, int, isObject, isoTime, normalizePath, num, safeStringify, str } from "../util.js";
import type { JsonObject } from "../util.js";
import { PendingMap } from "./builder.js";
import type { FormatHandler } from "./builder.js";
import { CodexRolloutHandler, isCodexRolloutRecord } from "./codex-rollout.js";

export { isCodexRolloutRecord } from "./codex-rollout.js";

/** A `codex exec --json` event. */
export function isCodexExecRecord(v: unknown): boolean {
  const type = str(get(v, "type"));
  return type !== undefined && (/^(thread|turn|item)\.[a-z_.]+$/.test(type) || type === "session.created");
}

function status(v: unknown): CallStatus {
  const s = str(v);
  return s === "completed" || s === "failed" || s === "declined" || s === "in_progress" ? s : "unknown";
}

function itemType(item: JsonObject): string {
  const t = str(get(item, "type")) ?? str(get(item, "item_type")) ?? "";
  return t === "assistant_message" ? "agent_message" : t;
}

function changeKind(v: unknown): FileChangeKind {
  const k = str(v) ?? str(get(v, "type"));
  return k === "add" || k === "delete" || k === "update" || k === "rename" ? k : "update";
}

export class CodexHandler implements FormatHandler {
  private readonly pending: PendingMap<{ item: JsonObject; line: number }>;
  private readonly rollout: CodexRolloutHandler;

  constructor(private readonly acc: TraceAccumulator) {
    acc.run.agent ??= "codex";
    this.pending = new PendingMap(CAPS.pending, (p) => this.item(p.item, p.line, true));
    this.rollout = new CodexRolloutHandler(acc);
  }

  handle(value: unknown, line: number): void {
    this.acc.event();
    if (isCodexRolloutRecord(value)) {
      this.rollout.handle(value, line);
      return;
    }
    const type = str(get(value, "type"));
    if (type === undefined) {
      this.acc.reportMalformed(line, "event has no string `type`");
      return;
    }
    const time = isoTime(get(value, "timestamp"));
    if (time) {
      if (this.acc.run.startedAt === null) this.acc.run.startedAt = time;
      this.acc.run.endedAt = time;
    }
    switch (type) {
      case "thread.started":
      case "session.created":
      case "session.resumed":
        this.acc.run.sessionId ??= str(get(value, "thread_id")) ?? str(get(value, "session_id")) ?? null;
        return;
      case "turn.started":
        return;
      case "turn.completed": {
        const usage = get(value, "usage");
        const u = this.acc.run.usage;
        u.inputTokens = addUsage(u.inputTokens, num(get(usage, "input_tokens")));
        u.cachedInputTokens = addUsage(u.cachedInputTokens, num(get(usage, "cached_input_tokens")));
        u.outputTokens = addUsage(u.outputTokens, num(get(usage, "output_tokens")));
        return;
      }
      case "turn.failed":
        this.acc.run.outcome = "failed";
        this.acc.add({ kind: "error", message: str(get(get(value, "error"), "message")) ?? "turn failed", sourceLine: line });
        return;
      case "error":
        this.acc.add({ kind: "error", message: str(get(value, "message")) ?? "error", sourceLine: line });
        return;
      case "item.started":
      case "item.updated":
      case "item.added":
      case "item.completed": {
        const item = get(value, "item");
        if (!isObject(item)) {
          this.acc.reportMalformed(line, `${type} without an item object`);
          return;
        }
        const id = str(get(item, "id"));
        if (type === "item.completed") {
          if (id !== undefined) this.pending.take(id);
          this.item(item, line, false);
        } else if (id !== undefined) {
          // Keep the latest state; emitted on completion, or at the end if it never completes.
          this.pending.set(id, { item, line });
        }
        return;
      }
      default:
        this.acc.other(type, line, time);
    }
  }

  private item(item: JsonObject, line: number, incomplete: boolean): void {
    const t = itemType(item);
    const base = { sourceLine: line };
    switch (t) {
      case "agent_message":
        this.acc.add({ kind: "message", role: "agent", text: str(get(item, "text")) ?? "", ...base });
        return;
      case "reasoning":
        this.acc.add({ kind: "reasoning", text: str(get(item, "text")) ?? "", ...base });
        return;
      case "command_execution": {
        const exitCode = int(get(item, "exit_code")) ?? null;
        let st = status(get(item, "status"));
        if (incomplete && st === "completed") st = "unknown";
        this.acc.add({
          kind: "command",
          command: str(get(item, "command")) ?? safeStringify(get(item, "command") ?? "", CAPS.commandChars),
          exitCode,
          durationMs: num(get(item, "duration_ms")) ?? null,
          outputExcerpt: str(get(item, "aggregated_output")) ?? "",
          status: incomplete && st !== "failed" && st !== "declined" ? (st === "unknown" ? "unknown" : "in_progress") : st,
          ...base,
        });
        return;
      }
      case "file_change": {
        const st = status(get(item, "status"));
        const changes = arr(get(item, "changes")).slice(0, 1000);
        if (st === "failed") {
          const paths = changes.map((c) => str(get(c, "path")) ?? "").filter(Boolean);
          this.acc.add({ kind: "error", message: `patch failed to apply: ${paths.join(", ")}`, ...base });
          return;
        }
        for (const c of changes) {
          const path = str(get(c, "path"));
          if (path === undefined) continue;
          const move = str(get(get(c, "kind"), "move_path")) ?? str(get(c, "move_path"));
          if (move) {
            this.acc.add({ kind: "file_change", path: normalizePath(move), change: "rename", previousPath: normalizePath(path), ...base });
          } else {
            this.acc.add({ kind: "file_change", path: normalizePath(path), change: changeKind(get(c, "kind")), ...base });
          }
        }
        return;
      }
      case "mcp_tool_call": {
        const server = str(get(item, "server")) ?? null;
        const tool = str(get(item, "tool")) ?? "";
        const args = get(item, "arguments");
        if (isDecisionTool(server, tool)) {
          const decision = decisionFromArguments(args);
          if (decision) {
            this.acc.add({ kind: "decision", ...decision, ...base });
            return;
          }
        }
        this.acc.add({
          kind: "tool_call",
          server,
          tool,
          arguments: typeof args === "string" ? args : safeStringify(args ?? null, CAPS.argumentsChars + 8192),
          status: incomplete ? "unknown" : status(get(item, "status")),
          ...base,
        });
        const err = str(get(get(item, "error"), "message"));
        if (err) this.acc.add({ kind: "error", message: `${server ?? "mcp"}/${tool}: ${err}`, ...base });
        return;
      }
      case "web_search":
        this.acc.add({ kind: "web_search", query: str(get(item, "query")) ?? "", ...base });
        return;
      case "error":
        this.acc.add({ kind: "error", message: str(get(item, "message")) ?? "error", ...base });
        return;
      default:
        // todo_list, plan, collab tool calls and future item types: counted, not rendered.
        this.acc.other(t === "" ? "item" : `item:${t}`, line);
    }
  }

  flush(): void {
    for (const p of this.pending.drain()) this.item(p.item, p.line, true);
    this.rollout.flush();
  }
}
