/**
 * The telemetry formats in one registry: how each is recognised from one parsed record, which handler parses it
 * and in which order its steps are shown. Adding a format is one handler file and one entry here.
 */
import type { StepOrder, TraceAccumulator } from "./accumulator.js";
import type { TelemetryFormat } from "./model.js";
import type { FormatHandler } from "./parsers/builder.js";
import { ClaudeHandler, isCursorRecord } from "./parsers/claude.js";
import { CodexHandler, isCodexExecRecord, isCodexRolloutRecord } from "./parsers/codex.js";
import { GeminiHandler, isGeminiRecord } from "./parsers/gemini.js";
import { GooseHandler, isGooseRecord } from "./parsers/goose.js";
import { isNativeRecord, NativeHandler } from "./parsers/native.js";
import { isOpencodeRecord, OpencodeHandler } from "./parsers/opencode.js";
import { isOpenHandsRecord, OpenHandsHandler } from "./parsers/openhands.js";
import { isOtelRecord, OtelHandler } from "./parsers/otel.js";
import { get, isObject, str } from "./util.js";

export interface FormatSpec {
  format: TelemetryFormat;
  /** Whether one parsed record (a line, an array element or a whole document) is this format's. */
  detect(value: unknown): boolean;
  create(acc: TraceAccumulator): FormatHandler;
  /** Steps by time (formats that interleave records, like spans) or in source order. */
  order: StepOrder;
}

const CLAUDE_TYPES = new Set(["system", "assistant", "user", "result", "stream_event"]);

function isClaudeRecord(v: unknown): boolean {
  const type = str(get(v, "type"));
  return type !== undefined && CLAUDE_TYPES.has(type) && (get(v, "message") !== undefined || get(v, "subtype") !== undefined || get(v, "session_id") !== undefined);
}

/** In detection order: the first whose `detect` accepts a record wins (cursor before its Claude-shaped events). */
export const FORMATS: readonly FormatSpec[] = [
  { format: "otel", detect: isOtelRecord, create: (acc) => new OtelHandler(acc), order: "time" },
  { format: "codex", detect: (v) => isCodexExecRecord(v) || isCodexRolloutRecord(v), create: (acc) => new CodexHandler(acc), order: "source" },
  { format: "cursor", detect: isCursorRecord, create: (acc) => new ClaudeHandler(acc, "cursor"), order: "source" },
  { format: "claude-code", detect: isClaudeRecord, create: (acc) => new ClaudeHandler(acc), order: "source" },
  { format: "gemini", detect: isGeminiRecord, create: (acc) => new GeminiHandler(acc), order: "source" },
  { format: "opencode", detect: isOpencodeRecord, create: (acc) => new OpencodeHandler(acc), order: "source" },
  { format: "goose", detect: isGooseRecord, create: (acc) => new GooseHandler(acc), order: "source" },
  { format: "openhands", detect: isOpenHandsRecord, create: (acc) => new OpenHandsHandler(acc), order: "source" },
  { format: "native", detect: isNativeRecord, create: (acc) => new NativeHandler(acc), order: "time" },
];

export function formatSpec(format: TelemetryFormat): FormatSpec {
  const spec = FORMATS.find((f) => f.format === format);
  if (!spec) throw new Error(`no handler for telemetry format ${format}`);
  return spec;
}

/** The format of one record, or null. */
export function formatOfRecord(value: unknown): TelemetryFormat | null {
  if (!isObject(value)) return null;
  return FORMATS.find((f) => f.detect(value))?.format ?? null;
}

/**
 * The format of a stream from its first records. Cursor's stream starts with the same `system/init` event as Claude
 * Code's, so a Claude verdict is revised when a Cursor-only event (`tool_call`, `thinking`) follows.
 */
export function formatOfRecords(values: Iterable<unknown>): TelemetryFormat | null {
  let first: TelemetryFormat | null = null;
  for (const v of values) {
    const f = formatOfRecord(v);
    if (f === "cursor") return f;
    first ??= f;
    if (first !== null && first !== "claude-code") return first;
  }
  return first;
}

export const FORMAT_NAMES = FORMATS.map((f) => f.format).join(", ");
