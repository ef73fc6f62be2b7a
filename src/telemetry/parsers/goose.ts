/**
 * goose `goose run --output-format stream-json` (block/goose crates/goose-cli session output, StreamEvent): one JSON
 * object per line: message {message: {role, created, content: [text | toolRequest {id, toolCall: {status, value:
 * {name, arguments}}} | toolResponse {id, toolResult: {status, value: [{type: text, text}]}} | thinking]}},
 * notification {extension_id, message}, error {error} and complete {total_tokens, input_tokens, output_tokens}.
 * Tools are named `<extension>__<tool>` (developer__shell {command}, developer__text_editor {command, path}).
 */
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { FileChangeKind } from "../model.js";
import { classifyTool } from "../tools.js";
import type { ToolDraft } from "../tools.js";
import { arr, get, int, isObject, normalizePath, num, str } from "../util.js";
import { addDraft, PendingMap } from "./builder.js";
import type { FormatHandler } from "./builder.js";

export function isGooseRecord(v: unknown): boolean {
  const type = str(get(v, "type"));
  if (type === "message") return isObject(get(v, "message")) && Array.isArray(get(get(v, "message"), "content")) && get(v, "time") === undefined;
  if (type === "complete") return Object.hasOwn(v as object, "total_tokens");
  return type === "notification" && typeof get(v, "extension_id") === "string";
}

interface PendingRequest {
  name: string;
  args: unknown;
  line: number;
}

const EDITS: Record<string, FileChangeKind> = { write: "write", str_replace: "update", insert: "update", edit: "update" };

/** developer__text_editor and developer__shell by their own argument names; anything else by the generic classifier. */
function gooseDraft(name: string, args: unknown): ToolDraft {
  const sep = name.indexOf("__");
  const ext = sep === -1 ? null : name.slice(0, sep);
  const tool = sep === -1 ? name : name.slice(sep + 2);
  if (tool === "text_editor") {
    const change = EDITS[str(get(args, "command")) ?? ""];
    const path = str(get(args, "path"));
    if (change && path !== undefined) return { type: "file_change", changes: [{ path: normalizePath(path), change }] };
  }
  return classifyTool(tool === "shell" ? "shell" : name, args, tool === "shell" ? null : ext);
}

export class GooseHandler implements FormatHandler {
  private readonly pending: PendingMap<PendingRequest>;
  private lastText: string | null = null;

  constructor(private readonly acc: TraceAccumulator) {
    acc.run.agent ??= "goose";
    this.pending = new PendingMap(CAPS.pending, (p) => this.emit(p, null));
  }

  handle(value: unknown, line: number): void {
    this.acc.event();
    switch (str(get(value, "type"))) {
      case "message":
        return this.message(get(value, "message"), line);
      case "complete": {
        const u = this.acc.run.usage;
        u.inputTokens = num(get(value, "input_tokens")) ?? u.inputTokens;
        u.outputTokens = num(get(value, "output_tokens")) ?? u.outputTokens;
        u.cachedInputTokens = num(get(value, "cache_read_input_tokens")) ?? u.cachedInputTokens;
        u.costUsd = num(get(value, "cost_usd")) ?? num(get(value, "total_cost_usd")) ?? u.costUsd;
        if (u.inputTokens === null && u.outputTokens === null) u.inputTokens = num(get(value, "total_tokens")) ?? null;
        this.acc.run.finalMessage ??= this.lastText;
        return;
      }
      case "error":
        this.acc.add({ kind: "error", message: str(get(value, "error")) ?? str(get(get(value, "error"), "message")) ?? "error", sourceLine: line });
        return;
      default:
        this.acc.other(`notification:${str(get(value, "extension_id")) ?? "unknown"}`, line);
    }
  }

  private message(message: unknown, line: number): void {
    const role = str(get(message, "role"));
    const created = num(get(message, "created"));
    const time = created !== undefined && created > 0 && created < 1e11 ? new Date(created * 1000).toISOString() : undefined;
    const base = { sourceLine: line, ...(time ? { time } : {}) };
    for (const c of arr(get(message, "content")).slice(0, 1000)) {
      const type = str(get(c, "type"));
      if (type === "text") {
        const text = str(get(c, "text")) ?? "";
        if (role === "user") this.acc.run.task ??= text;
        else this.lastText = text;
        this.acc.add({ kind: "message", role: role === "user" ? "user" : "agent", text, ...base });
      } else if (type === "thinking" || type === "reasoning") {
        this.acc.add({ kind: "reasoning", text: str(get(c, "thinking")) ?? str(get(c, "text")) ?? "", ...base });
      } else if (type === "toolRequest") {
        const value = get(get(c, "toolCall"), "value");
        this.pending.set(str(get(c, "id")) ?? `line-${line}`, { name: str(get(value, "name")) ?? "unknown", args: get(value, "arguments"), line });
      } else if (type === "toolResponse") {
        const request = this.pending.take(str(get(c, "id")) ?? "");
        if (request) this.emit(request, get(c, "toolResult"));
        else this.acc.other("toolResponse:orphan", line, time);
      } else {
        this.acc.other(`content:${type ?? "unknown"}`, line, time);
      }
    }
  }

  /** toolResult.value: content blocks (older builds), `{content: [...]}` or `{structuredContent: {stdout, exit_code}}`. */
  private emit(request: PendingRequest, result: unknown): void {
    const value = get(result, "value");
    const structured = get(value, "structuredContent");
    const blocks = Array.isArray(value) ? value : arr(get(value, "content"));
    const output = str(get(structured, "stdout")) ?? blocks.map((v) => str(get(v, "text")) ?? "").join("\n");
    const exit = int(get(structured, "exit_code"));
    const failed = result !== null && (str(get(result, "status")) !== "success" || get(value, "isError") === true || (exit !== undefined && exit !== 0));
    const status = result === null ? "unknown" : failed ? "failed" : "completed";
    addDraft(this.acc, gooseDraft(request.name, request.args), { name: request.name, status, exitCode: exit ?? (status === "completed" ? 0 : null), output }, { sourceLine: request.line });
  }

  flush(): void {
    for (const p of this.pending.drain()) this.emit(p, null);
  }
}
