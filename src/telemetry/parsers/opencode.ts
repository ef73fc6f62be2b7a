/**
 * `opencode run --format json` (sst/opencode packages/opencode/src/cli/cmd/run.ts): one JSON object per line,
 * `{type, timestamp (ms), sessionID, part}` with type step_start, text {part.text}, reasoning {part.text}, tool_use
 * {part: {tool, callID, state: {status, input, output, error, metadata: {exit}}}}, step_finish {part: {reason,
 * tokens: {input, output, reasoning, cache: {read, write}}, cost}} and error {error: {name, data: {message}}}.
 */
import { addUsage } from "../accumulator.js";
import type { TraceAccumulator } from "../accumulator.js";
import { classifyTool } from "../tools.js";
import { get, int, isObject, num, safeStringify, str } from "../util.js";
import { addDraft } from "./builder.js";
import type { FormatHandler } from "./builder.js";

const TYPES = new Set(["step_start", "text", "reasoning", "tool_use", "step_finish", "error"]);

export function isOpencodeRecord(v: unknown): boolean {
  const type = str(get(v, "type"));
  return type !== undefined && TYPES.has(type) && typeof get(v, "sessionID") === "string" && (isObject(get(v, "part")) || type === "error");
}

function msTime(v: unknown): string | undefined {
  const ms = num(v);
  if (ms === undefined || ms <= 0 || ms > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}

export class OpencodeHandler implements FormatHandler {
  private lastText: string | null = null;

  constructor(private readonly acc: TraceAccumulator) {
    acc.run.agent ??= "opencode";
  }

  handle(value: unknown, line: number): void {
    this.acc.event();
    const type = str(get(value, "type"));
    const time = msTime(get(value, "timestamp"));
    const run = this.acc.run;
    run.sessionId ??= str(get(value, "sessionID")) ?? null;
    if (time) {
      if (run.startedAt === null) run.startedAt = time;
      run.endedAt = time;
    }
    const part = get(value, "part");
    const base = { sourceLine: line, ...(time ? { time } : {}) };
    switch (type) {
      case "step_start":
        return;
      case "text": {
        const text = str(get(part, "text")) ?? "";
        this.lastText = text;
        this.acc.add({ kind: "message", role: "agent", text, ...base });
        return;
      }
      case "reasoning":
        this.acc.add({ kind: "reasoning", text: str(get(part, "text")) ?? "", ...base });
        return;
      case "tool_use":
        return this.tool(part, base);
      case "step_finish": {
        const tokens = get(part, "tokens");
        run.usage.inputTokens = addUsage(run.usage.inputTokens, num(get(tokens, "input")));
        run.usage.outputTokens = addUsage(run.usage.outputTokens, num(get(tokens, "output")));
        run.usage.cachedInputTokens = addUsage(run.usage.cachedInputTokens, num(get(get(tokens, "cache"), "read")));
        run.usage.costUsd = addUsage(run.usage.costUsd, num(get(part, "cost")));
        if (str(get(part, "reason")) === "stop" && this.lastText !== null) run.finalMessage = this.lastText;
        return;
      }
      default: {
        const error = get(value, "error");
        const message = str(get(get(error, "data"), "message")) ?? str(get(error, "message")) ?? (error === undefined ? "error" : safeStringify(error, 500));
        this.acc.add({ kind: "error", message: `${str(get(error, "name")) ?? "error"}: ${message}`, ...base });
      }
    }
  }

  private tool(part: unknown, base: { sourceLine: number; time?: string }): void {
    const name = str(get(part, "tool")) ?? "unknown";
    const state = get(part, "state");
    const st = str(get(state, "status"));
    const status = st === "completed" ? "completed" : st === "error" ? "failed" : "unknown";
    const exit = int(get(get(state, "metadata"), "exit"));
    const output = str(get(state, "output")) ?? str(get(state, "error")) ?? "";
    addDraft(this.acc, classifyTool(name, get(state, "input")), { name, status: exit !== undefined && exit !== 0 ? "failed" : status, exitCode: exit ?? (status === "completed" ? 0 : null), output }, base);
  }

  flush(): void {}
}
