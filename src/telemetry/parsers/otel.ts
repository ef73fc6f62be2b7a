/**
 * OpenTelemetry GenAI spans (semantic conventions, gen-ai-agent-spans.md and execute-tool.md):
 * `invoke_agent {gen_ai.agent.name}`, `execute_tool {gen_ai.tool.name}`, `chat {gen_ai.request.model}`, with
 * gen_ai.operation.name, gen_ai.agent.name, gen_ai.request.model / gen_ai.response.model,
 * gen_ai.usage.input_tokens / output_tokens, gen_ai.tool.name, gen_ai.tool.call.arguments / result,
 * gen_ai.conversation.id.
 *
 * Accepted containers: an OTLP JSON export ({resourceSpans: [{resource, scopeSpans: [{scope, spans}]}]}, attributes
 * as [{key, value: {stringValue|intValue|doubleValue|boolValue|arrayValue|kvlistValue}}]) as one document or one
 * export per line (the collector's file exporter), and JSON Lines of single spans, with OTLP attributes or a plain
 * attribute object (the SDK console exporter: {name, context: {trace_id, span_id}, start_time, attributes: {…}}).
 *
 * GitHub Copilot CLI's file exporter (COPILOT_OTEL_FILE_EXPORTER_PATH) writes JSON Lines of `{"type":"span", traceId,
 * spanId, name, startTime: [seconds, nanos], attributes: {…}, resource: {attributes}}` and `{"type":"metric", …}`;
 * spans without gen_ai.operation.name (permission prompts) are counted, and usage values may be "[REDACTED]".
 */
import { addUsage } from "../accumulator.js";
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { CallStatus } from "../model.js";
import { classifyTool } from "../tools.js";
import { arr, get, int, isObject, isoTime, nanosToIso, num, safeStringify, str } from "../util.js";
import { addDraft } from "./builder.js";
import type { FormatHandler } from "./builder.js";

const MAX_ATTRIBUTES = 256;

/** An OTLP export, a span record (any of the accepted encodings) or a Copilot metric record. */
export function isOtelRecord(v: unknown): boolean {
  if (Array.isArray(get(v, "resourceSpans")) || Array.isArray(get(v, "resource_spans"))) return true;
  const type = get(v, "type");
  if (type === "metric") return Array.isArray(get(v, "dataPoints"));
  if (type !== undefined && type !== "span") return false;
  return typeof get(v, "name") === "string" && (get(v, "spanId") !== undefined || get(v, "span_id") !== undefined || get(v, "traceId") !== undefined || isObject(get(v, "context")));
}

/** OpenTelemetry JS HrTime `[seconds, nanoseconds]` → ISO time. */
function hrTimeToIso(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [s, ns] = v as unknown[];
  if (typeof s !== "number" || typeof ns !== "number" || !Number.isFinite(s) || !Number.isFinite(ns) || s <= 0) return undefined;
  const d = new Date(s * 1000 + Math.floor(ns / 1e6));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function anyValue(v: unknown, depth = 0): unknown {
  if (!isObject(v) || depth > 4) return undefined;
  if (Object.hasOwn(v, "stringValue")) return str(v.stringValue);
  if (Object.hasOwn(v, "intValue")) return num(v.intValue);
  if (Object.hasOwn(v, "doubleValue")) return num(v.doubleValue);
  if (Object.hasOwn(v, "boolValue")) return v.boolValue === true;
  if (Object.hasOwn(v, "arrayValue")) return arr(get(v.arrayValue, "values")).slice(0, 100).map((x) => anyValue(x, depth + 1));
  if (Object.hasOwn(v, "kvlistValue")) return Object.fromEntries(attributesOf(get(v.kvlistValue, "values"), depth + 1));
  return undefined;
}

/** Attributes as a Map (never a plain object: keys are attacker-chosen). */
function attributesOf(raw: unknown, depth = 0): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (Array.isArray(raw)) {
    for (const kv of raw.slice(0, MAX_ATTRIBUTES)) {
      const key = str(get(kv, "key"));
      if (key !== undefined) out.set(key, anyValue(get(kv, "value"), depth));
    }
  } else if (isObject(raw)) {
    for (const key of Object.keys(raw).slice(0, MAX_ATTRIBUTES)) out.set(key, raw[key]);
  }
  return out;
}

const OPERATIONS = ["invoke_agent", "create_agent", "execute_tool", "chat", "text_completion", "generate_content", "embeddings", "invoke_workflow"];

/** Text of the first message with the given role in gen_ai.input/output.messages (JSON string or array). */
function firstText(messages: unknown, role: string): string | undefined {
  let m = messages;
  if (typeof m === "string") {
    if (m.length > 1_000_000) return undefined;
    try {
      m = JSON.parse(m) as unknown;
    } catch {
      return undefined;
    }
  }
  for (const msg of arr(m).slice(0, 50)) {
    if (str(get(msg, "role")) !== role) continue;
    for (const part of arr(get(msg, "parts")).slice(0, 50)) {
      const t = str(get(part, "content")) ?? str(get(part, "text"));
      if (t !== undefined && (str(get(part, "type")) ?? "text") === "text") return t;
    }
    const c = str(get(msg, "content"));
    if (c !== undefined) return c;
  }
  return undefined;
}

export class OtelHandler implements FormatHandler {
  private readonly agentUsage = { input: null as number | null, output: null as number | null };
  private readonly chatUsage = { input: null as number | null, output: null as number | null, cached: null as number | null };
  private serviceName: string | null = null;

  constructor(private readonly acc: TraceAccumulator) {}

  handle(value: unknown, line: number): void {
    if (!isObject(value)) {
      this.acc.event();
      this.acc.reportMalformed(line, "expected a JSON object");
      return;
    }
    const resourceSpans = get(value, "resourceSpans") ?? get(value, "resource_spans");
    if (Array.isArray(resourceSpans)) {
      for (const rs of resourceSpans) {
        const resource = attributesOf(get(get(rs, "resource"), "attributes"));
        const service = str(resource.get("service.name"));
        if (service) this.serviceName ??= service;
        const scopes = arr(get(rs, "scopeSpans") ?? get(rs, "scope_spans") ?? get(rs, "instrumentationLibrarySpans"));
        for (const scope of scopes) for (const span of arr(get(scope, "spans"))) this.span(span, line);
      }
      return;
    }
    if (get(value, "type") === "metric") {
      this.acc.event();
      this.acc.other("otel:metric", line);
      return;
    }
    if (str(get(value, "name")) !== undefined) {
      const service = str(attributesOf(get(get(value, "resource"), "attributes")).get("service.name"));
      if (service) this.serviceName ??= service;
      this.span(value, line);
      return;
    }
    this.acc.event();
    this.acc.other("otel:unknown", line);
  }

  private span(span: unknown, line: number): void {
    this.acc.event();
    if (!isObject(span)) {
      this.acc.reportMalformed(line, "span is not an object");
      return;
    }
    const name = str(get(span, "name")) ?? "";
    const attrs = attributesOf(get(span, "attributes"));
    const a = (k: string) => attrs.get(k);
    const op = str(a("gen_ai.operation.name")) ?? OPERATIONS.find((o) => name === o || name.startsWith(`${o} `));
    const start = nanosToIso(get(span, "startTimeUnixNano")) ?? isoTime(get(span, "start_time")) ?? isoTime(get(span, "startTime")) ?? hrTimeToIso(get(span, "startTime"));
    const end = nanosToIso(get(span, "endTimeUnixNano")) ?? isoTime(get(span, "end_time")) ?? isoTime(get(span, "endTime")) ?? hrTimeToIso(get(span, "endTime"));
    const status = get(span, "status");
    const code = get(status, "code") ?? get(status, "status_code");
    const failed = code === 2 || code === "STATUS_CODE_ERROR" || code === "ERROR" || a("error.type") !== undefined;
    const statusMessage = str(get(status, "message")) ?? str(get(status, "description"));
    const base = { sourceLine: line, ...(start ? { time: start } : {}) };
    const run = this.acc.run;
    const durationMs = start && end ? Math.max(0, Date.parse(end) - Date.parse(start)) : null;
    if (start && (run.startedAt === null || start < run.startedAt)) run.startedAt = start;
    if (end && (run.endedAt === null || end > run.endedAt)) run.endedAt = end;

    switch (op) {
      case "invoke_agent":
      case "create_agent":
      case "invoke_workflow": {
        run.agent ??= str(a("gen_ai.agent.name")) ?? null;
        run.model ??= str(a("gen_ai.request.model")) ?? str(a("gen_ai.response.model")) ?? null;
        run.sessionId ??= str(a("gen_ai.conversation.id")) ?? str(get(span, "traceId")) ?? str(get(get(span, "context"), "trace_id")) ?? null;
        run.task ??= firstText(a("gen_ai.input.messages"), "user") ?? null;
        this.agentUsage.input = addUsage(this.agentUsage.input, num(a("gen_ai.usage.input_tokens")));
        this.agentUsage.output = addUsage(this.agentUsage.output, num(a("gen_ai.usage.output_tokens")));
        if (failed) run.outcome = "failed";
        break;
      }
      case "chat":
      case "text_completion":
      case "generate_content": {
        run.model ??= str(a("gen_ai.response.model")) ?? str(a("gen_ai.request.model")) ?? null;
        this.chatUsage.input = addUsage(this.chatUsage.input, num(a("gen_ai.usage.input_tokens")));
        this.chatUsage.output = addUsage(this.chatUsage.output, num(a("gen_ai.usage.output_tokens")));
        this.chatUsage.cached = addUsage(this.chatUsage.cached, num(a("gen_ai.usage.cache_read.input_tokens")) ?? num(a("gen_ai.usage.cached_input_tokens")));
        const out = firstText(a("gen_ai.output.messages"), "assistant");
        if (out !== undefined) this.acc.add({ kind: "message", role: "agent", text: out, ...base });
        break;
      }
      case "execute_tool":
        this.executeTool(a, name, { failed, ended: end !== undefined, durationMs }, base);
        break;
      default:
        this.acc.other(op ? `otel:${op}` : "otel:span", line, start);
    }
    if (failed && op !== "execute_tool") {
      this.acc.add({ kind: "error", message: `${name || "span"} failed${statusMessage ? `: ${statusMessage}` : ""}${a("error.type") !== undefined ? ` (${String(a("error.type"))})` : ""}`, ...base });
    } else if (failed && statusMessage) {
      this.acc.add({ kind: "error", message: `${name}: ${statusMessage}`, ...base });
    }
  }

  private executeTool(a: (k: string) => unknown, name: string, how: { failed: boolean; ended: boolean; durationMs: number | null }, base: { sourceLine: number; time?: string }): void {
    const tool = str(a("gen_ai.tool.name")) ?? (name.startsWith("execute_tool ") ? name.slice("execute_tool ".length) : name);
    const server = str(a("mcp.server.name")) ?? str(a("gen_ai.tool.server")) ?? null;
    const result = a("gen_ai.tool.call.result");
    const draft = classifyTool(tool, a("gen_ai.tool.call.arguments"), server);
    const status: CallStatus = how.failed ? "failed" : how.ended ? "completed" : "unknown";
    const exit = int(a("process.exit.code")) ?? int(a("gen_ai.tool.call.exit_code"));
    addDraft(
      this.acc,
      draft,
      {
        name: tool,
        status,
        exitCode: exit ?? (how.failed ? null : how.ended ? 0 : null),
        durationMs: how.durationMs,
        output: typeof result === "string" ? result : result === undefined ? "" : safeStringify(result, CAPS.outputChars * 2),
      },
      base,
    );
  }

  flush(): void {
    const u = this.acc.run.usage;
    // Chat spans carry per-call usage; an agent span's usage (when present) is their sum, so use one or the other.
    const useChat = this.chatUsage.input !== null || this.chatUsage.output !== null;
    u.inputTokens = useChat ? this.chatUsage.input : this.agentUsage.input;
    u.outputTokens = useChat ? this.chatUsage.output : this.agentUsage.output;
    u.cachedInputTokens = useChat ? this.chatUsage.cached : null;
    this.acc.run.agent ??= this.serviceName;
  }
}
