/** Entry points: pick a parser, detect a format, parse a whole transcript or a native bundle. */
import { TraceAccumulator } from "./accumulator.js";
import { BUNDLE_VERSION, bundleManifestSchema } from "./bundle.js";
import type { BundleManifest } from "./bundle.js";
import { TelemetryError } from "./model.js";
import type { TelemetryFormat, Trace } from "./model.js";
import { JsonlTraceBuilder } from "./parsers/builder.js";
import type { FormatHandler, TraceBuilder } from "./parsers/builder.js";
import { ClaudeHandler } from "./parsers/claude.js";
import { CodexHandler } from "./parsers/codex.js";
import { applyManifest, NativeHandler } from "./parsers/native.js";
import { OtelHandler } from "./parsers/otel.js";
import { get, isObject, iterateLines, parseJson, str } from "./util.js";

export type { TraceBuilder } from "./parsers/builder.js";

/** A builder that also accepts already parsed JSON values (a whole OTLP document read by the CLI). */
export interface ValueTraceBuilder extends TraceBuilder {
  pushValue(value: unknown, lineNumber: number): void;
  /** Steps currently held in memory (bounded by CAPS whatever the input size). */
  readonly storedSteps: number;
}

function handlerFor(format: TelemetryFormat, acc: TraceAccumulator, source?: string): FormatHandler {
  switch (format) {
    case "codex":
      return new CodexHandler(acc);
    case "claude-code":
      return new ClaudeHandler(acc);
    case "otel":
      return new OtelHandler(acc);
    case "native":
      return new NativeHandler(acc, source);
  }
}

class Builder implements ValueTraceBuilder {
  constructor(
    private readonly acc: TraceAccumulator,
    private readonly inner: JsonlTraceBuilder,
  ) {}
  push(line: string, lineNumber: number): void {
    this.inner.push(line, lineNumber);
  }
  pushValue(value: unknown, lineNumber: number): void {
    this.inner.pushValue(value, lineNumber);
  }
  finish(): Trace {
    return this.inner.finish();
  }
  get storedSteps(): number {
    return this.acc.storedSteps;
  }
}

/** A streaming parser for one format. Memory stays within CAPS (model.ts) however long the input. */
export function createParser(format: TelemetryFormat): ValueTraceBuilder {
  const acc = new TraceAccumulator(format, format === "otel" || format === "native" ? "time" : "source");
  return new Builder(acc, new JsonlTraceBuilder(acc, handlerFor(format, acc)));
}

const CLAUDE_TYPES = new Set(["system", "assistant", "user", "result", "stream_event"]);
const NATIVE_TYPES = new Set(["message", "reasoning", "decision", "command", "file_change", "tool_call", "web_search", "error"]);

function formatOf(v: unknown): TelemetryFormat | null {
  if (!isObject(v)) return null;
  if (Array.isArray(get(v, "resourceSpans")) || Array.isArray(get(v, "resource_spans"))) return "otel";
  const type = str(get(v, "type"));
  if (type !== undefined) {
    if (/^(thread|turn|item)\.[a-z_.]+$/.test(type) || type === "session.created") return "codex";
    if (CLAUDE_TYPES.has(type) && (get(v, "message") !== undefined || get(v, "subtype") !== undefined || get(v, "session_id") !== undefined)) return "claude-code";
    if (NATIVE_TYPES.has(type) && typeof get(v, "time") === "string") return "native";
    return null;
  }
  if (typeof get(v, "host") === "string" && typeof get(v, "allowed") === "boolean") return "native";
  if (typeof get(v, "name") === "string" && (get(v, "spanId") !== undefined || get(v, "span_id") !== undefined || get(v, "traceId") !== undefined || isObject(get(v, "context")))) return "otel";
  return null;
}

/** Guesses the format from the first lines of a file (or the whole text of a single JSON document). */
export function detectFormat(firstLines: string[]): TelemetryFormat | null {
  for (const line of firstLines.slice(0, 200)) {
    const t = line.trim();
    if (t === "" || t.length > 4_000_000) continue;
    const parsed = parseJson(t);
    if (!parsed.ok) continue;
    const f = formatOf(parsed.value);
    if (f) return f;
  }
  // A pretty-printed single document (an OTLP export) spans many lines.
  const joined = firstLines.join("\n").trim();
  if (joined.startsWith("{") && joined.length < 64_000_000) {
    const parsed = parseJson(joined);
    if (parsed.ok) return formatOf(parsed.value);
  }
  return null;
}

/**
 * Parses a whole transcript held in memory (small inputs, tests). Detects the format when not given; a
 * pretty-printed OTLP JSON document is accepted as well as JSON Lines.
 * @throws TelemetryError("unknown_format") when the format cannot be recognised.
 */
export function parseTranscript(text: string, format?: TelemetryFormat): Trace {
  const head: string[] = [];
  for (const l of iterateLines(text)) {
    head.push(l);
    if (head.length >= 50) break;
  }
  const fmt = format ?? detectFormat(head) ?? detectFormat([text]);
  if (!fmt) throw new TelemetryError("unknown_format", "could not recognise the telemetry format (expected native, codex, claude-code or otel)");
  const builder = createParser(fmt);
  const firstLine = head.find((l) => l.trim() !== "") ?? "";
  if (text.trimStart().startsWith("{") && !parseJson(firstLine.trim()).ok) {
    // One multi-line JSON document (a pretty-printed OTLP export); otherwise lines, each judged on its own.
    const doc = parseJson(text);
    if (doc.ok) {
      builder.pushValue(doc.value, 1);
      return builder.finish();
    }
  }
  let n = 0;
  for (const line of iterateLines(text)) builder.push(line, ++n);
  return builder.finish();
}

/**
 * Validates a manifest (JSON text or a parsed value).
 * @throws TelemetryError("invalid_manifest" | "unsupported_version") with one detail per problem.
 */
export function parseManifest(manifest: string | unknown): BundleManifest {
  let value: unknown = manifest;
  if (typeof manifest === "string") {
    const parsed = parseJson(manifest);
    if (!parsed.ok) throw new TelemetryError("invalid_manifest", "manifest.json is not valid JSON", [parsed.error]);
    value = parsed.value;
  }
  const version = get(value, "version");
  if (isObject(value) && typeof version === "number" && version !== BUNDLE_VERSION) {
    throw new TelemetryError("unsupported_version", `bundle version ${version} is not supported (this reader knows version ${BUNDLE_VERSION})`);
  }
  const r = bundleManifestSchema.safeParse(value);
  if (!r.success) {
    throw new TelemetryError(
      "invalid_manifest",
      "manifest.json does not match the bundle schema",
      r.error.issues.slice(0, 20).map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`),
    );
  }
  return r.data;
}

/** A streaming builder for a native bundle: events, network attempts and (optionally) the agent's own transcript. */
export class NativeBundleBuilder {
  private readonly acc = new TraceAccumulator("native", "time");
  private readonly events: JsonlTraceBuilder;
  private readonly network: JsonlTraceBuilder;
  private transcript: JsonlTraceBuilder | null = null;
  private done: Trace | null = null;

  constructor(readonly manifest: BundleManifest) {
    applyManifest(this.acc, manifest);
    this.events = new JsonlTraceBuilder(this.acc, new NativeHandler(this.acc, "events"), "events");
    this.network = new JsonlTraceBuilder(this.acc, new NativeHandler(this.acc, "network"), "network");
  }

  pushEvent(line: string, lineNumber: number): void {
    this.events.push(line, lineNumber);
  }
  pushNetwork(line: string, lineNumber: number): void {
    this.network.push(line, lineNumber);
  }
  /** Lines of the agent transcript the manifest names (manifest.transcript); its steps join the trace. */
  pushTranscript(line: string, lineNumber: number): void {
    const format = this.manifest.transcript?.format;
    if (!format) return;
    this.transcript ??= new JsonlTraceBuilder(this.acc, handlerFor(format, this.acc), "transcript");
    this.transcript.push(line, lineNumber);
  }
  get storedSteps(): number {
    return this.acc.storedSteps;
  }

  finish(): Trace {
    if (this.done) return this.done;
    // Flush the transcript's pending calls first, then re-apply the manifest: it wins over what the transcript claims.
    this.transcript?.flush();
    this.events.flush();
    this.network.flush();
    const model = this.acc.run.model;
    const usage = this.acc.run.usage;
    applyManifest(this.acc, this.manifest);
    this.acc.run.model ??= model;
    if (!this.manifest.usage) this.acc.run.usage = usage;
    this.acc.run.format = "native";
    this.done = this.acc.finish();
    return this.done;
  }
}

function* linesOf(input: string | Iterable<string>): Generator<string> {
  if (typeof input === "string") yield* iterateLines(input);
  else yield* input;
}

/**
 * Parses a native bundle (manifest.json, events.jsonl, network.jsonl, and optionally the transcript the manifest names).
 * @throws TelemetryError when the manifest is invalid; bad event or network lines are reported in the trace instead.
 */
export function parseNativeBundle(input: {
  manifest: string | unknown;
  events: string | Iterable<string>;
  network: string | Iterable<string>;
  transcript?: string | Iterable<string>;
}): { manifest: BundleManifest; trace: Trace } {
  const manifest = parseManifest(input.manifest);
  const b = new NativeBundleBuilder(manifest);
  let n = 0;
  for (const l of linesOf(input.events)) b.pushEvent(l, ++n);
  n = 0;
  for (const l of linesOf(input.network)) b.pushNetwork(l, ++n);
  if (input.transcript !== undefined) {
    n = 0;
    for (const l of linesOf(input.transcript)) b.pushTranscript(l, ++n);
  }
  return { manifest, trace: b.finish() };
}
