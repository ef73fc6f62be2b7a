/** Entry points: pick a parser, detect a format, parse a whole transcript or a native bundle. */
import { TraceAccumulator } from "./accumulator.js";
import { BUNDLE_VERSION, bundleManifestSchema } from "./bundle.js";
import type { BundleManifest } from "./bundle.js";
import { formatOfRecord, formatOfRecords, formatSpec } from "./formats.js";
import { CAPS, TelemetryError } from "./model.js";
import type { TelemetryFormat, Trace } from "./model.js";
import { JsonlTraceBuilder } from "./parsers/builder.js";
import type { TraceBuilder } from "./parsers/builder.js";
import { applyManifest, NativeHandler } from "./parsers/native.js";
import { builderFor, readTranscript } from "./stream.js";
import { get, isObject, iterateLines, parseJson } from "./util.js";

export type { TraceBuilder } from "./parsers/builder.js";

/** A builder that also accepts already parsed JSON values (a whole OTLP document read by the CLI). */
export interface ValueTraceBuilder extends TraceBuilder {
  pushValue(value: unknown, lineNumber: number): void;
  /** Steps currently held in memory (bounded by CAPS whatever the input size). */
  readonly storedSteps: number;
}

/** A streaming parser for one format's JSON Lines. Memory stays within CAPS (model.ts) however long the input. */
export function createParser(format: TelemetryFormat): ValueTraceBuilder {
  return builderFor(format);
}

/** Guesses the format from the first lines of a file (or the whole text of a single JSON document). */
export function detectFormat(firstLines: string[]): TelemetryFormat | null {
  const values: unknown[] = [];
  for (const line of firstLines.slice(0, 200)) {
    const t = line.trim();
    if (t === "" || t.length > 4_000_000) continue;
    const parsed = parseJson(t);
    if (parsed.ok) values.push(parsed.value);
  }
  const f = formatOfRecords(values);
  if (f) return f;
  // A pretty-printed single document (an OTLP export) or array spans many lines.
  const joined = firstLines.join("\n").trim();
  if ((joined.startsWith("{") || joined.startsWith("[")) && joined.length < 64_000_000) {
    const parsed = parseJson(joined);
    if (parsed.ok) return Array.isArray(parsed.value) ? formatOfRecords(parsed.value.slice(0, 50)) : formatOfRecord(parsed.value);
  }
  return null;
}

/**
 * Parses a whole transcript held in memory (small inputs, tests): JSON Lines, a JSON array or one JSON document.
 * Detects the format when not given.
 * @throws TelemetryError("unknown_format") when the format cannot be recognised.
 */
export function parseTranscript(text: string, format?: TelemetryFormat): Trace {
  return readTranscript(text, format ? { format } : {}).trace;
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

  /** One line of events.jsonl; null stands for a line too long to read. */
  pushEvent(line: string | null, lineNumber: number): void {
    pushLine(this.events, line, lineNumber);
  }
  pushNetwork(line: string | null, lineNumber: number): void {
    pushLine(this.network, line, lineNumber);
  }
  /** Lines of the agent transcript the manifest names (manifest.transcript); its steps join the trace. */
  pushTranscript(line: string | null, lineNumber: number): void {
    const format = this.manifest.transcript?.format;
    if (!format) return;
    this.transcript ??= new JsonlTraceBuilder(this.acc, formatSpec(format).create(this.acc), "transcript");
    pushLine(this.transcript, line, lineNumber);
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

function pushLine(builder: JsonlTraceBuilder, line: string | null, n: number): void {
  if (line === null) builder.malformed(n, `line too long (over ${CAPS.lineChars} characters)`);
  else builder.push(line, n);
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
