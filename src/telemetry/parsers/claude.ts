/**
 * Claude Code `claude -p --output-format stream-json --verbose` (Claude Agent SDK `SDKMessage`):
 * `system` (subtype `init`: session_id, cwd, model, tools, mcp_servers), `assistant` (message.content blocks:
 * text, thinking, tool_use {id, name, input}), `user` (tool_result {tool_use_id, content, is_error}, plus
 * `tool_use_result` with stdout/stderr in newer builds), `result` (subtype, is_error, duration_ms, num_turns,
 * total_cost_usd — `cost_usd` in old builds — and usage). `stream_event` partial deltas are ignored.
 */
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { CallStatus, Step } from "../model.js";
import { classifyTool } from "../tools.js";
import { arr, get, isObject, isoTime, num, str } from "../util.js";
import { PendingMap } from "./builder.js";
import type { FormatHandler } from "./builder.js";

interface PendingUse {
  name: string;
  input: unknown;
  line: number;
  time?: string;
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  const parts: string[] = [];
  let size = 0;
  for (const block of arr(content).slice(0, 100)) {
    const t = str(get(block, "text"));
    if (t !== undefined && size < CAPS.outputChars * 4) {
      parts.push(t);
      size += t.length;
    }
  }
  return parts.join("\n");
}

export class ClaudeHandler implements FormatHandler {
  private cwd: string | null = null;
  private readonly pending: PendingMap<PendingUse>;
  private sawPrompt = false;
  private anonymous = 0;

  constructor(private readonly acc: TraceAccumulator) {
    acc.run.agent ??= "claude-code";
    this.pending = new PendingMap(CAPS.pending, (p) => this.emit(p, null));
  }

  handle(value: unknown, line: number): void {
    this.acc.event();
    const type = str(get(value, "type"));
    if (type === undefined) {
      this.acc.reportMalformed(line, "event has no string `type`");
      return;
    }
    const time = isoTime(get(value, "timestamp"));
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
        this.assistant(value, line, time);
        return;
      case "user":
        this.user(value, line, time);
        return;
      case "result": {
        const subtype = str(get(value, "subtype")) ?? null;
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
          const detail = str(get(value, "result")) ?? arr(get(value, "errors")).map((e) => str(e) ?? "").join("; ");
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
        let text = resultText(get(block, "content"));
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
    const status: CallStatus = result === null ? "unknown" : result.isError ? "failed" : "completed";
    let step: Step;
    switch (draft.type) {
      case "command": {
        let exitCode: number | null = null;
        let st: CallStatus = status;
        if (result && !result.isError) exitCode = 0;
        if (result?.isError) {
          const m = /Exit code (\d{1,3})/.exec(result.text.slice(0, 200));
          exitCode = m ? Number(m[1]) : null;
          if (/permission|haven't granted|was blocked/i.test(result.text.slice(0, 300))) st = "declined";
        }
        step = { kind: "command", command: draft.command, exitCode, durationMs: null, outputExcerpt: result?.text ?? "", status: st, ...base };
        this.acc.add(step);
        return;
      }
      case "file_change":
        if (result?.isError) {
          this.acc.add({ kind: "tool_call", server: null, tool: use.name, arguments: draft.changes.map((c) => c.path).join(", "), status: "failed", ...base });
          return;
        }
        for (const c of draft.changes) this.acc.add({ kind: "file_change", path: c.path, change: c.change, ...(c.previousPath ? { previousPath: c.previousPath } : {}), ...base });
        return;
      case "web_search":
        this.acc.add({ kind: "web_search", query: draft.query, ...(draft.url ? { url: draft.url } : {}), ...base });
        return;
      case "decision":
        this.acc.add({ kind: "decision", ...draft.decision, ...base });
        return;
      case "tool_call":
        this.acc.add({ kind: "tool_call", server: draft.server, tool: draft.tool, arguments: draft.arguments, status, ...base });
    }
  }

  flush(): void {
    for (const p of this.pending.drain()) this.emit(p, null);
  }
}
