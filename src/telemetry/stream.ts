/**
 * One streaming reader for every transcript shape: JSON Lines, a JSON array (claude-code-action's execution file,
 * an OpenHands trajectory) and a single JSON document (an OTLP export, `gemini --output-format json`). Text comes
 * in chunks of any size; memory stays bounded by CAPS whatever the input length (a JSON array is parsed element by
 * element with @streamparser/json, never held whole), and the work per character is constant.
 */
import JSONParser from "@streamparser/json/jsonparser.js";
import { TraceAccumulator } from "./accumulator.js";
import { FORMAT_NAMES, formatOfRecords, formatSpec } from "./formats.js";
import { CAPS, TelemetryError } from "./model.js";
import type { TelemetryFormat, Trace } from "./model.js";
import { JsonlTraceBuilder } from "./parsers/builder.js";
import { redactAndTruncate } from "./redact.js";
import { LineSplitter, parseJson } from "./util.js";

/** A single JSON document (not lines, not an array) is parsed whole; beyond this many characters it is refused. */
export const MAX_DOCUMENT_CHARS = 64 * 1024 * 1024;
/** Records read before the format must be known (a Claude verdict waits this long for a Cursor-only event). */
const DETECT_RECORDS = 50;

export interface StreamOptions {
  /** Skip detection. */
  format?: TelemetryFormat;
  /** Names the source in error messages (a file name). */
  name?: string;
}

type Shape = "unknown" | "lines" | "array" | "document";
interface HeadRecord {
  n: number;
  value?: unknown;
  error?: string;
}

/** The builder for a format: an accumulator and the format's handler behind the line/value interface. */
export function builderFor(format: TelemetryFormat): JsonlTraceBuilder {
  const spec = formatSpec(format);
  const acc = new TraceAccumulator(format, spec.order);
  return new JsonlTraceBuilder(acc, spec.create(acc));
}

export class TranscriptReader {
  private shape: Shape = "unknown";
  private format: TelemetryFormat | null;
  private builder: JsonlTraceBuilder | null = null;
  private readonly head: HeadRecord[] = [];
  private firstLine: string | null = null;
  // lines
  private readonly lines = new LineSplitter(CAPS.lineChars, (line) => this.line(line));
  private lineNo = 0;
  private nonEmpty = 0;
  /** The first non-empty line, when it did not parse alone (see line()). */
  private heldFirst: { n: number; line: string } | null = null;
  // array
  private array: JSONParser | null = null;
  private element = 0;
  private arrayBroken = false;
  // document
  private doc: string[] = [];
  private docChars = 0;

  constructor(private readonly opts: StreamOptions = {}) {
    this.format = opts.format ?? null;
    if (this.format) this.builder = builderFor(this.format);
  }

  /** The format, once known. */
  get detected(): TelemetryFormat | null {
    return this.format;
  }

  write(chunk: string): void {
    if (chunk === "") return;
    if (this.shape === "unknown") {
      const i = chunk.search(/\S/);
      if (i === -1) return;
      this.shape = chunk[i] === "[" ? "array" : "lines";
      if (this.shape === "array") this.startArray();
    }
    if (this.shape === "array") this.writeArray(chunk);
    else if (this.shape === "lines") this.lines.write(chunk);
    else this.writeDocument(chunk);
  }

  /** Ends the input and returns the trace. @throws TelemetryError when the format cannot be recognised. */
  end(): Trace {
    if (this.shape === "lines") this.lines.end();
    if (this.heldFirst) {
      // One line that does not parse: a document on one line, or junk.
      this.shape = "document";
      this.writeDocument(this.heldFirst.line);
      this.heldFirst = null;
    }
    if (this.shape === "array") this.endArray();
    if (this.shape === "document") this.endDocument();
    if (!this.builder) this.decide(true);
    return this.requireBuilder().finish();
  }

  // --- JSON Lines ------------------------------------------------------------------------------------------

  private line(line: string | null): void {
    // Once the input turned out to be one pretty-printed document, the remaining lines are its text.
    if (this.shape === "document") return this.writeDocument(`${line ?? ""}\n`);
    const n = ++this.lineNo;
    if (line === null) return this.feedMalformed(n, `line too long (over ${CAPS.lineChars} characters)`);
    const t = line.trim();
    if (t === "") return;
    this.firstLine ??= t.slice(0, 400);
    const parsed = this.nonEmpty++ < 2 || !this.builder ? parseJson(t) : null;
    if (this.nonEmpty === 1 && parsed && !parsed.ok && t.startsWith("{")) {
      // Maybe a pretty-printed single document: the next line decides (a document's second line does not parse either).
      this.heldFirst = { n, line };
      return;
    }
    if (this.heldFirst) {
      const held = this.heldFirst;
      this.heldFirst = null;
      if (parsed && !parsed.ok) {
        this.shape = "document";
        this.writeDocument(`${held.line}\n${line}\n`);
        return;
      }
      this.feedMalformed(held.n, `invalid JSON: ${parseJsonError(held.line)}`);
    }
    if (this.builder) return parsed ? this.feedParsed(n, parsed) : this.builder.push(line, n);
    if (parsed) this.head.push(parsed.ok ? { n, value: parsed.value } : { n, error: `invalid JSON: ${parsed.error}` });
    this.decide(false);
  }

  private feedParsed(n: number, parsed: { ok: true; value: unknown } | { ok: false; error: string }): void {
    if (!this.builder) return;
    if (parsed.ok) this.builder.pushValue(parsed.value, n);
    else this.builder.malformed(n, `invalid JSON: ${parsed.error}`);
  }

  private feedMalformed(n: number, message: string): void {
    if (!this.builder) return void this.head.push({ n, error: message });
    this.builder.malformed(n, message);
  }

  // --- JSON array --------------------------------------------------------------------------------------------

  private startArray(): void {
    const parser = new JSONParser({ paths: ["$.*"], keepStack: false });
    parser.onValue = ({ value }) => this.record(value);
    parser.onError = (err) => {
      if (this.arrayBroken) return;
      this.arrayBroken = true;
      this.feedMalformed(this.element + 1, `invalid JSON after element ${this.element}: ${err.message.slice(0, 200)}`);
    };
    this.array = parser;
  }

  private writeArray(chunk: string): void {
    if (this.arrayBroken || !this.array || this.array.isEnded) return;
    this.firstLine ??= chunk.trimStart().slice(0, 200);
    this.array.write(chunk);
  }

  private record(value: unknown): void {
    const n = ++this.element;
    if (this.builder) return this.builder.pushValue(value, n);
    this.head.push({ n, value });
    this.decide(false);
  }

  private endArray(): void {
    if (this.array && !this.arrayBroken && !this.array.isEnded) this.array.end();
  }

  // --- one JSON document -------------------------------------------------------------------------------------

  private writeDocument(chunk: string): void {
    if (this.docChars > MAX_DOCUMENT_CHARS) return;
    this.docChars += chunk.length;
    if (this.docChars > MAX_DOCUMENT_CHARS) {
      this.doc = [];
      return;
    }
    this.doc.push(chunk);
  }

  private endDocument(): void {
    if (this.docChars > MAX_DOCUMENT_CHARS) {
      throw new TelemetryError("too_large", `${this.label()} is a single JSON document over ${MAX_DOCUMENT_CHARS} characters`);
    }
    const parsed = parseJson(this.doc.join(""));
    this.doc = [];
    if (this.builder) return this.feedParsed(1, parsed);
    if (parsed.ok) this.head.push({ n: 1, value: parsed.value });
    else this.head.push({ n: 1, error: `invalid JSON document: ${parsed.error}` });
    this.decide(true);
  }

  // --- detection ---------------------------------------------------------------------------------------------

  /** Picks the format from the records read so far; replays them into the new builder. */
  private decide(final: boolean): void {
    if (this.builder) return;
    const values = this.head.filter((h) => h.value !== undefined).map((h) => h.value);
    const format = formatOfRecords(values);
    const settled = format !== null && (format !== "claude-code" || values.length >= DETECT_RECORDS);
    if (!settled && !final && this.head.length < DETECT_RECORDS) return;
    if (format === null) throw this.unknown();
    this.format = format;
    const builder = builderFor(format);
    this.builder = builder;
    for (const h of this.head.splice(0)) {
      if (h.value !== undefined) builder.pushValue(h.value, h.n);
      else builder.malformed(h.n, h.error ?? "invalid record");
    }
  }

  private unknown(): TelemetryError {
    const first = this.firstLine === null ? "the input is empty" : `the first line was: ${redactAndTruncate(this.firstLine, 200)}`;
    return new TelemetryError("unknown_format", `could not recognise the telemetry format of ${this.label()} (tried ${FORMAT_NAMES}); ${first}`);
  }

  private label(): string {
    return this.opts.name ?? "the transcript";
  }

  private requireBuilder(): JsonlTraceBuilder {
    if (!this.builder) throw this.unknown();
    return this.builder;
  }
}

/** Parses a whole transcript held in a string (any shape). */
export function readTranscript(text: string, opts: StreamOptions = {}): { format: TelemetryFormat; trace: Trace } {
  const reader = new TranscriptReader(opts);
  // Chunks keep the per-write work small for the array parser; lines are re-joined across chunks.
  for (let i = 0; i < text.length; i += 1 << 20) reader.write(text.slice(i, i + (1 << 20)));
  const trace = reader.end();
  return { format: reader.detected ?? trace.run.format, trace };
}

function parseJsonError(text: string): string {
  const r = parseJson(text.trim());
  return r.ok ? "" : r.error;
}
