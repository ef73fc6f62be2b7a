/**
 * Claude Code `claude -p --output-format stream-json --verbose` (Claude Agent SDK `SDKMessage`), the same messages
 * as a JSON array (claude-code-action's `execution_file`), and `claude -p --output-format json` (one `result`):
 * `system` (subtype `init`: session_id, cwd, model, tools, mcp_servers), `assistant` (message.content blocks:
 * text, thinking, tool_use {id, name, input}), `user` (tool_result {tool_use_id, content, is_error}, plus
 * `tool_use_result` with stdout/stderr in newer builds), `result` (subtype, is_error, duration_ms, num_turns,
 * total_cost_usd — `cost_usd` in old builds — usage, and `result`: the final message). `stream_event` partial
 * deltas are ignored.
 *
 * Cursor CLI `--output-format stream-json` (docs.cursor.com/cli/reference/output-format) shares system/user/
 * assistant/result and adds `thinking` (delta/completed) and `tool_call` (started/completed, the call under
 * `tool_call.<kind>ToolCall` with `args` and `result`), parsed by the same handler in its "cursor" flavour.
 */
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { CallStatus } from "../model.js";
import { classifyTool } from "../tools.js";
import type { ToolDraft } from "../tools.js";
import { arr, blocksText, get, int, isObject, isoTime, normalizePath, num, str } from "../util.js";
import { addDraft, PendingMap } from "./builder.js";
import type { FormatHandler } from "./builder.js";

interface PendingUse {
  name: string;
  input: unknown;
  line: number;
  time?: string;
}

/** A record only Cursor's stream has: `thinking` or `tool_call` with a subtype. */
export function isCursorRecord(v: unknown): boolean {
  const type = str(get(v, "type"));
  return (type === "tool_call" || type === "thinking") && typeof get(v, "subtype") === "string" && get(v, "session_id") !== undefined;
}

interface PendingCursorCall {
  call: unknown;
  line: number;
  time?: string;
}

/** The record types a method of the handler reads whole. */
const EVENT_METHODS = { assistant: "assistant", user: "user", thinking: "thinkingEvent", tool_call: "toolCallEvent" } as const;

export class ClaudeHandler implements FormatHandler {
  private cwd: string | null = null;
  private readonly pending: PendingMap<PendingUse>;
  private readonly cursorCalls: PendingMap<PendingCursorCall>;
  private sawPrompt = false;
  private anonymous = 0;
  private thinking: string[] = [];
  private thinkingChars = 0;

  constructor(
    private readonly acc: TraceAccumulator,
    private readonly flavor: "claude-code" | "cursor" = "claude-code",
  ) {
    acc.run.agent ??= flavor === "cursor" ? "cursor-agent" : "claude-code";
    this.pending = new PendingMap(CAPS.pending, (p) => this.emit(p, null));
    this.cursorCalls = new PendingMap(CAPS.pending, (p) => this.emitCursor(p, null));
  }

  handle(value: unknown, line: number): void {
    this.acc.event();
    const type = str(get(value, "type"));
    if (type === undefined) {
      this.acc.reportMalformed(line, "event has no string `type`");
      return;
    }
    const ms = num(get(value, "timestamp_ms"));
    const time = isoTime(get(value, "timestamp")) ?? (ms !== undefined && ms > 0 ? isoTime(new Date(ms).toISOString()) : undefined);
    const run = this.acc.run;
    if (time) {
      if (run.startedAt === null) run.startedAt = time;
      run.endedAt = time;
    }
    switch (type) {
      case "system": {
        const subtype = str(get(value, "subtype")) ?? "";
        if (subtype === "init") {
          run.sessionId ??= str(get(value, "session_id")) ?? null;
          run.model ??= str(get(value, "model")) ?? null;
          this.cwd ??= str(get(value, "cwd")) ?? null;
          return;
        }
        this.acc.other(`system:${subtype}`, line, time);
        return;
      }
      case "assistant":
      case "user":
      case "thinking":
      case "tool_call":
        this[EVENT_METHODS[type]](value, line, time);
        return;
      case "result": {
        const subtype = str(get(value, "subtype")) ?? null;
        run.sessionId ??= str(get(value, "session_id")) ?? null;
        const final = str(get(value, "result"));
        if (final !== undefined && final.trim() !== "") run.finalMessage = final;
        run.outcome = subtype;
        run.durationMs = num(get(value, "duration_ms")) ?? run.durationMs;
        run.usage.costUsd = num(get(value, "total_cost_usd")) ?? num(get(value, "cost_usd")) ?? run.usage.costUsd;
        const usage = get(value, "usage");
        if (isObject(usage)) {
          const input = num(get(usage, "input_tokens"));
          const cacheRead = num(get(usage, "cache_read_input_tokens"));
          const cacheWrite = num(get(usage, "cache_creation_input_tokens"));
          // Like Codex, input tokens include the cached ones; cachedInputTokens says how many of them were cache reads.
          if (input !== undefined) run.usage.inputTokens = input + (cacheRead ?? 0) + (cacheWrite ?? 0);
          if (cacheRead !== undefined) run.usage.cachedInputTokens = cacheRead;
          run.usage.outputTokens = num(get(usage, "output_tokens")) ?? run.usage.outputTokens;
        }
        if (get(value, "is_error") === true || (subtype !== null && subtype.startsWith("error"))) {
          if (final !== undefined) run.finalMessage = null;
          const detail = final ?? arr(get(value, "errors")).map((e) => str(e) ?? "").join("; ");
          this.acc.add({ kind: "error", message: `run ended with ${subtype ?? "an error"}${detail ? `: ${detail}` : ""}`, sourceLine: line, ...(time ? { time } : {}) });
        }
        return;
      }
      case "stream_event":
        return;
      default:
        this.acc.other(type, line, time);
    }
  }

  private assistant(value: unknown, line: number, time?: string): void {
    const message = get(value, "message");
    this.acc.run.model ??= str(get(message, "model")) ?? null;
    const content = get(message, "content");
    if (typeof content === "string") {
      this.acc.add({ kind: "message", role: "agent", text: content, sourceLine: line, ...(time ? { time } : {}) });
      return;
    }
    for (const block of arr(content).slice(0, 1000)) {
      const bt = str(get(block, "type"));
      if (bt === "text") this.acc.add({ kind: "message", role: "agent", text: str(get(block, "text")) ?? "", sourceLine: line, ...(time ? { time } : {}) });
      else if (bt === "thinking") this.acc.add({ kind: "reasoning", text: str(get(block, "thinking")) ?? "", sourceLine: line, ...(time ? { time } : {}) });
      else if (bt === "tool_use" || bt === "server_tool_use") {
        const id = str(get(block, "id")) ?? `anonymous-${this.anonymous++}`;
        this.pending.set(id, { name: str(get(block, "name")) ?? "unknown", input: get(block, "input"), line, ...(time ? { time } : {}) });
      } else this.acc.other(`assistant:${bt ?? "block"}`, line, time);
    }
  }

  private user(value: unknown, line: number, time?: string): void {
    const content = get(get(value, "message"), "content");
    const extra = get(value, "tool_use_result");
    if (typeof content === "string") {
      this.userText(content, line, time);
      return;
    }
    for (const block of arr(content).slice(0, 1000)) {
      const bt = str(get(block, "type"));
      if (bt === "tool_result") {
        const id = str(get(block, "tool_use_id"));
        const use = id === undefined ? undefined : this.pending.take(id);
        let text = blocksText(get(block, "content"), CAPS.outputChars * 4);
        if (text === "" && isObject(extra)) text = [str(get(extra, "stdout")), str(get(extra, "stderr"))].filter(Boolean).join("\n");
        const isError = get(block, "is_error") === true;
        if (use) this.emit(use, { isError, text });
        else this.acc.other("user:orphan_tool_result", line, time);
      } else if (bt === "text") {
        this.userText(str(get(block, "text")) ?? "", line, time);
      } else {
        this.acc.other(`user:${bt ?? "block"}`, line, time);
      }
    }
  }

  private userText(text: string, line: number, time?: string): void {
    if (!this.sawPrompt) {
      this.sawPrompt = true;
      this.acc.run.task ??= text;
    }
    this.acc.add({ kind: "message", role: "user", text, sourceLine: line, ...(time ? { time } : {}) });
  }

  /** Turns a tool_use (with its result, or null when the stream ended first) into a step. */
  private emit(use: PendingUse, result: { isError: boolean; text: string } | null): void {
    const draft = classifyTool(use.name, use.input, null, this.cwd);
    const base = { sourceLine: use.line, ...(use.time ? { time: use.time } : {}) };
    if (draft.type === "command") {
      let exitCode: number | null = null;
      let st: CallStatus = result === null ? "unknown" : result.isError ? "failed" : "completed";
      if (result && !result.isError) exitCode = 0;
      if (result?.isError) {
        const m = /Exit code (\d{1,3})/.exec(result.text.slice(0, 200));
        exitCode = m ? Number(m[1]) : null;
        if (/permission|haven't granted|was blocked/i.test(result.text.slice(0, 300))) st = "declined";
      }
      this.acc.add({ kind: "command", command: draft.command, exitCode, durationMs: null, outputExcerpt: result?.text ?? "", status: st, ...base });
      return;
    }
    this.addDraft(draft, use.name, result === null ? "unknown" : result.isError ? "failed" : "completed", base);
  }

  private addDraft(draft: Exclude<ToolDraft, { type: "command" }>, name: string, status: CallStatus, base: { sourceLine: number; time?: string }): void {
    addDraft(this.acc, draft, { name, status }, base);
  }

  // --- Cursor ------------------------------------------------------------------------------------------------

  /** `thinking` deltas make one reasoning step, closed by `completed`. */
  private thinkingEvent(value: unknown, line: number, time?: string): void {
    const subtype = str(get(value, "subtype"));
    const text = str(get(value, "text"));
    if (text !== undefined && this.thinkingChars < CAPS.textChars * 2) {
      this.thinking.push(text);
      this.thinkingChars += text.length;
    }
    if (subtype === "completed") this.closeThinking(line, time);
  }

  private closeThinking(line: number, time?: string): void {
    const text = this.thinking.join("");
    this.thinking = [];
    this.thinkingChars = 0;
    if (text.trim() !== "") this.acc.add({ kind: "reasoning", text, sourceLine: line, ...(time ? { time } : {}) });
  }

  private toolCallEvent(value: unknown, line: number, time?: string): void {
    const id = str(get(value, "call_id")) ?? `anonymous-${this.anonymous++}`;
    const call = get(value, "tool_call");
    if (str(get(value, "subtype")) === "completed") {
      const started = this.cursorCalls.take(id);
      this.emitCursor({ call, line: started?.line ?? line, ...(started?.time ?? time ? { time: started?.time ?? time } : {}) }, call);
    } else {
      this.cursorCalls.set(id, { call, line, ...(time ? { time } : {}) });
    }
  }

  /** `{shellToolCall: {args, result}}`, `{writeToolCall: …}`, `{editToolCall: …}`, `{mcpToolCall: …}`, `{function: {name, arguments}}`. */
  private emitCursor(p: PendingCursorCall, completed: unknown): void {
    const call = isObject(completed) ? completed : p.call;
    const kind = isObject(call) ? Object.keys(call)[0] : undefined;
    const body = kind === undefined ? undefined : get(call, kind);
    const args = get(body, "args");
    const result = get(body, "result");
    const base = { sourceLine: p.line, ...(p.time ? { time: p.time } : {}) };
    const failed = isObject(result) && (get(result, "failure") !== undefined || get(result, "error") !== undefined || get(result, "rejected") !== undefined);
    const status: CallStatus = completed === null ? "unknown" : failed ? "failed" : "completed";
    if (kind === "shellToolCall") {
      const outcome = get(result, "success") ?? get(result, "failure");
      const exitCode = int(get(outcome, "exitCode")) ?? (status === "completed" ? 0 : null);
      const output = [str(get(outcome, "stdout")), str(get(outcome, "stderr"))].filter(Boolean).join("\n");
      this.acc.add({ kind: "command", command: str(get(args, "command")) ?? "", exitCode, durationMs: null, outputExcerpt: output, status: exitCode !== null && exitCode !== 0 ? "failed" : status, ...base });
      return;
    }
    const path = str(get(args, "path"));
    const change = kind === "writeToolCall" ? "write" : kind === "editToolCall" ? "update" : kind === "deleteToolCall" ? "delete" : null;
    if (path !== undefined && change !== null) {
      this.addDraft({ type: "file_change", changes: [{ path: normalizePath(path, this.cwd), change }] }, kind ?? "tool", status, base);
      return;
    }
    const name = kind === "function" ? (str(get(body, "name")) ?? "function") : kind === "mcpToolCall" ? (str(get(args, "toolName")) ?? str(get(args, "name")) ?? "mcp") : (kind ?? "tool").replace(/ToolCall$/, "");
    const server = kind === "mcpToolCall" ? (str(get(args, "providerIdentifier")) ?? null) : null;
    const input = kind === "function" ? get(body, "arguments") : kind === "mcpToolCall" ? (get(args, "args") ?? args) : args;
    const draft = classifyTool(name, input, server, this.cwd);
    if (draft.type === "command") {
      this.acc.add({ kind: "command", command: draft.command, exitCode: null, durationMs: null, outputExcerpt: "", status, ...base });
      return;
    }
    this.addDraft(draft, name, status, base);
  }

  flush(): void {
    for (const p of this.pending.drain()) this.emit(p, null);
    for (const p of this.cursorCalls.drain()) this.emitCursor(p, null);
    if (this.thinking.length > 0) this.closeThinking(0);
  }
}
