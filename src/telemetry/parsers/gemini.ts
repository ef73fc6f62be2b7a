/**
 * Gemini CLI headless output (google-gemini/gemini-cli docs/cli/headless.md):
 * - `--output-format stream-json`: init {session_id, model}, message {role, content, delta}, tool_use {tool_name,
 *   tool_id, parameters}, tool_result {tool_id, status, output, error}, error {severity, message}, result {status,
 *   error, stats: {total_tokens, input_tokens, output_tokens, cached, duration_ms, tool_calls}}; every event has a
 *   `timestamp`;
 * - `--output-format json`: one document {session_id?, response, stats: {models: {<name>: {tokens: {prompt,
 *   candidates, cached}}}, tools, files}, error?}.
 */
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import { classifyTool } from "../tools.js";
import { get, isObject, isoTime, num, str } from "../util.js";
import { addDraft, PendingMap } from "./builder.js";
import type { FormatHandler } from "./builder.js";

const STREAM_TYPES = new Set(["init", "message", "tool_use", "tool_result", "error", "result"]);

export function isGeminiRecord(v: unknown): boolean {
  if (Object.hasOwn(v as object, "response") && isObject(get(v, "stats"))) return true;
  const type = str(get(v, "type"));
  if (type === undefined || !STREAM_TYPES.has(type) || typeof get(v, "timestamp") !== "string") return false;
  if (type === "init") return typeof get(v, "session_id") === "string";
  if (type === "message") return typeof get(v, "role") === "string" && typeof get(v, "content") === "string";
  if (type === "tool_use") return typeof get(v, "tool_name") === "string";
  if (type === "tool_result") return typeof get(v, "tool_id") === "string";
  if (type === "result") return isObject(get(v, "stats")) || typeof get(v, "status") === "string";
  return typeof get(v, "message") === "string" && typeof get(v, "severity") === "string";
}

interface PendingTool {
  name: string;
  input: unknown;
  line: number;
  time?: string;
}

export class GeminiHandler implements FormatHandler {
  private readonly pending: PendingMap<PendingTool>;
  /** Assistant deltas are joined into one message until another event arrives. */
  private delta: { parts: string[]; chars: number; line: number; time?: string } | null = null;
  private sawPrompt = false;

  constructor(private readonly acc: TraceAccumulator) {
    acc.run.agent ??= "gemini-cli";
    this.pending = new PendingMap(CAPS.pending, (p) => this.emit(p, null));
  }

  handle(value: unknown, line: number): void {
    this.acc.event();
    if (Object.hasOwn(value as object, "response") && isObject(get(value, "stats"))) return this.document(value, line);
    const type = str(get(value, "type"));
    const time = isoTime(get(value, "timestamp"));
    const run = this.acc.run;
    if (time) {
      if (run.startedAt === null) run.startedAt = time;
      run.endedAt = time;
    }
    if (!(type === "message" && get(value, "delta") === true && get(value, "role") === "assistant")) this.closeDelta();
    const base = { sourceLine: line, ...(time ? { time } : {}) };
    switch (type) {
      case "init":
        run.sessionId ??= str(get(value, "session_id")) ?? null;
        run.model ??= str(get(value, "model")) ?? null;
        return;
      case "message":
        return this.message(value, line, time);
      case "tool_use":
        this.pending.set(str(get(value, "tool_id")) ?? `line-${line}`, { name: str(get(value, "tool_name")) ?? "unknown", input: get(value, "parameters"), line, ...(time ? { time } : {}) });
        return;
      case "tool_result": {
        const call = this.pending.take(str(get(value, "tool_id")) ?? "");
        if (call) this.emit(call, value);
        else this.acc.other("tool_result:orphan", line, time);
        return;
      }
      case "error":
        this.acc.add({ kind: "error", message: `${str(get(value, "severity")) ?? "error"}: ${str(get(value, "message")) ?? ""}`, ...base });
        return;
      case "result":
        return this.result(value, base);
      default:
        this.acc.other(type ?? "event", line, time);
    }
  }

  private message(value: unknown, line: number, time?: string): void {
    const text = str(get(value, "content")) ?? "";
    if (get(value, "role") === "user") {
      if (!this.sawPrompt) this.acc.run.task ??= text;
      this.sawPrompt = true;
      this.acc.add({ kind: "message", role: "user", text, sourceLine: line, ...(time ? { time } : {}) });
      return;
    }
    if (get(value, "delta") !== true) {
      this.acc.add({ kind: "message", role: "agent", text, sourceLine: line, ...(time ? { time } : {}) });
      return;
    }
    this.delta ??= { parts: [], chars: 0, line, ...(time ? { time } : {}) };
    if (this.delta.chars < CAPS.textChars * 2) {
      this.delta.parts.push(text);
      this.delta.chars += text.length;
    }
  }

  private closeDelta(): void {
    if (!this.delta) return;
    const d = this.delta;
    this.delta = null;
    this.acc.add({ kind: "message", role: "agent", text: d.parts.join(""), sourceLine: d.line, ...(d.time ? { time: d.time } : {}) });
  }

  private result(value: unknown, base: { sourceLine: number; time?: string }): void {
    const run = this.acc.run;
    const stats = get(value, "stats");
    run.outcome = str(get(value, "status")) ?? run.outcome;
    run.usage.inputTokens = num(get(stats, "input_tokens")) ?? run.usage.inputTokens;
    run.usage.outputTokens = num(get(stats, "output_tokens")) ?? run.usage.outputTokens;
    run.usage.cachedInputTokens = num(get(stats, "cached")) ?? run.usage.cachedInputTokens;
    run.durationMs = num(get(stats, "duration_ms")) ?? run.durationMs;
    const error = get(value, "error");
    if (error !== undefined) this.acc.add({ kind: "error", message: `run ended with an error: ${str(get(error, "message")) ?? str(error) ?? ""}`, ...base });
  }

  /** `--output-format json`: the response is the final message; tokens are summed over models. */
  private document(value: unknown, line: number): void {
    const run = this.acc.run;
    run.sessionId ??= str(get(value, "session_id")) ?? null;
    const response = str(get(value, "response"));
    if (response !== undefined) {
      run.finalMessage = response;
      this.acc.add({ kind: "message", role: "agent", text: response, sourceLine: line });
    }
    const models = get(get(value, "stats"), "models");
    if (isObject(models)) {
      for (const name of Object.keys(models).slice(0, 50)) {
        const tokens = get(get(models, name), "tokens");
        run.model ??= name;
        run.usage.inputTokens = sum(run.usage.inputTokens, num(get(tokens, "prompt")));
        run.usage.outputTokens = sum(run.usage.outputTokens, num(get(tokens, "candidates")));
        run.usage.cachedInputTokens = sum(run.usage.cachedInputTokens, num(get(tokens, "cached")));
      }
    }
    const error = get(value, "error");
    if (isObject(error)) this.acc.add({ kind: "error", message: `${str(get(error, "type")) ?? "Error"}: ${str(get(error, "message")) ?? ""}`, sourceLine: line });
  }

  private emit(call: PendingTool, result: unknown): void {
    const base = { sourceLine: call.line, ...(call.time ? { time: call.time } : {}) };
    const status = result === null ? "unknown" : get(result, "status") === "error" ? "failed" : "completed";
    const output = str(get(result, "output")) ?? str(get(get(result, "error"), "message")) ?? "";
    addDraft(this.acc, classifyTool(call.name, call.input), { name: call.name, status, exitCode: status === "completed" ? 0 : null, output }, base);
  }

  flush(): void {
    this.closeDelta();
    for (const p of this.pending.drain()) this.emit(p, null);
  }
}

function sum(a: number | null, b: number | undefined): number | null {
  return b === undefined ? a : (a ?? 0) + b;
}
