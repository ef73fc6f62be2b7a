/**
 * The normalized trace: every supported telemetry format (native bundle, Codex, Claude Code, OpenTelemetry)
 * is parsed into this one shape, which the renderer, the cross-check and the store consume.
 *
 * A trace built by the parsers is already redacted (see redact.ts) and bounded in size (see CAPS below):
 * counts cover every event, but only a bounded selection of steps is kept, with long strings truncated.
 */

/**
 * codex: `codex exec --json` and session rollout files; claude-code: stream-json, `-p --output-format json` and
 * claude-code-action's execution file (a JSON array); cursor: Cursor CLI stream-json; otel: OTLP/JSON, span
 * JSON Lines and the Copilot CLI file exporter; gemini: Gemini CLI json / stream-json; opencode: `opencode run
 * --format json`; goose: `goose run --output-format stream-json`; openhands: an OpenHands trajectory.
 */
export type TelemetryFormat = "native" | "codex" | "claude-code" | "cursor" | "otel" | "gemini" | "opencode" | "goose" | "openhands";
export const TELEMETRY_FORMATS: readonly TelemetryFormat[] = ["native", "codex", "claude-code", "cursor", "otel", "gemini", "opencode", "goose", "openhands"];

export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  cachedInputTokens: number | null;
  costUsd: number | null;
}

export interface RunInfo {
  format: TelemetryFormat;
  /** codex | claude-code | the OTel gen_ai.agent.name | the manifest's agent name. */
  agent: string | null;
  model: string | null;
  task: string | null;
  /** Login of the human who started the run (native bundles only). */
  triggeredBy: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** Wall time when the format reports it without start/end (Claude Code `result.duration_ms`). */
  durationMs: number | null;
  usage: Usage;
  /** Session / thread / trace id, for cross-referencing with the agent's own logs. */
  sessionId: string | null;
  /** succeeded | failed | timed_out | no_changes (native), success / error_* (Claude), failed (Codex turn.failed). */
  outcome: string | null;
  /** The run's final answer when the format states it apart from the messages (Claude Code `result.result`, Codex `task_complete`). */
  finalMessage: string | null;
}

export interface StepBase {
  /** ISO time when the format gives one. */
  time?: string;
  /** 1-based line of the source file the step came from (for native bundles: of events.jsonl or network.jsonl). */
  sourceLine?: number;
}

export type FileChangeKind = "add" | "update" | "delete" | "rename" | "write";
export type CallStatus = "completed" | "failed" | "declined" | "in_progress" | "unknown";

export interface MessageStep extends StepBase { kind: "message"; role: "agent" | "user" | "system"; text: string }
export interface ReasoningStep extends StepBase { kind: "reasoning"; text: string }
export interface DecisionStep extends StepBase {
  kind: "decision";
  summary: string;
  rationale: string;
  alternatives: string[];
  /** Files the decision concerns; an entry may name a line as `path:12`, `path:12-20` or `path#L12-L20`. */
  files: string[];
}
export interface CommandStep extends StepBase {
  kind: "command";
  command: string;
  /** null when unknown (still running, or the format does not say). */
  exitCode: number | null;
  durationMs: number | null;
  /** Head and tail of the output, redacted and truncated to CAPS.outputChars. */
  outputExcerpt: string;
  status: CallStatus;
  /** "action": run by the sandbox action itself (its git commands, the firewall), not by the agent. */
  by?: "action";
}
/** `change` (not `kind`) holds add/update/…: `kind` is the union's discriminant. */
/** `line` is a line of the changed file (for annotations), not of the telemetry source. */
export interface FileChangeStep extends StepBase { kind: "file_change"; path: string; change: FileChangeKind; line?: number; previousPath?: string }
export interface ToolCallStep extends StepBase {
  kind: "tool_call";
  server: string | null;
  tool: string;
  /** The arguments as compact JSON, redacted and truncated to CAPS.argumentsChars. */
  arguments: string;
  status: CallStatus;
}
export interface WebSearchStep extends StepBase { kind: "web_search"; query: string; url?: string }
export interface NetworkStep extends StepBase {
  kind: "network";
  host: string;
  port: number;
  allowed: boolean;
  reason: string;
  /** Bytes up + down as the proxy counted them. */
  bytes: number;
  method?: string;
  /** Who made it, e.g. "curl -s https://x (pid 812)", when the sandbox could tell. */
  process?: string;
}
export interface ErrorStep extends StepBase { kind: "error"; message: string }
export interface OtherStep extends StepBase { kind: "other"; type: string }

export type Step =
  | MessageStep
  | ReasoningStep
  | DecisionStep
  | CommandStep
  | FileChangeStep
  | ToolCallStep
  | WebSearchStep
  | NetworkStep
  | ErrorStep
  | OtherStep;
export type StepKind = Step["kind"];

export interface TraceStats {
  /** Every event (line, span or bundle record) seen, stored or not. */
  events: number;
  /** Steps produced per kind, including the ones not stored because of CAPS. */
  byKind: Record<string, number>;
  /** Events of types we do not map (counted, kept as "other"). */
  other: number;
  /** Up to CAPS.malformed entries; malformedTotal counts them all. */
  malformed: Array<{ line: number; message: string; source?: string }>;
  malformedTotal: number;
  /** Steps produced but not stored per kind (CAPS reached). */
  dropped: Record<string, number>;
  /** Unknown event type names and their counts (up to CAPS.otherTypes distinct names). */
  otherTypes: Record<string, number>;
}

export interface FilesTouched {
  /** Distinct paths the agent reported changing (repository-relative when we could tell), in first-seen order. */
  paths: Array<{ path: string; change: FileChangeKind; previousPath?: string }>;
  /** True when more than CAPS.files distinct paths were reported and some were not kept. */
  truncated: boolean;
}

export interface Trace {
  run: RunInfo;
  steps: Step[];
  /** What the agent itself reported changing (its transcript, its own events). */
  files: FilesTouched;
  /** What git saw changed after the run (a native bundle's `git_change` events); absent when the telemetry does not say. */
  gitFiles?: FilesTouched;
  stats: TraceStats;
}

/**
 * Memory bounds of a trace builder. Counts are always complete; these limit what is stored.
 * - steps: per kind, the first N are kept. Commands keep the first `command` plus up to `failedCommand`
 *   more that failed; network keeps up to `blockedNetwork` blocked and `allowedNetwork` allowed attempts.
 * - strings are cut to the char limits below (after redaction, so a cut never reveals half a secret).
 * - pending: calls waiting for their result (Claude tool_use → tool_result, Codex item.started → completed).
 */
export const CAPS = {
  steps: {
    message: 200,
    reasoning: 200,
    decision: 500,
    command: 500,
    file_change: 2000,
    tool_call: 500,
    web_search: 200,
    network: 0, // see blockedNetwork / allowedNetwork
    error: 200,
    other: 100,
  } satisfies Record<StepKind, number>,
  failedCommand: 500,
  blockedNetwork: 1000,
  allowedNetwork: 300,
  files: 10_000,
  malformed: 100,
  otherTypes: 100,
  pending: 1000,
  textChars: 4000,
  rationaleChars: 8000,
  commandChars: 2000,
  outputChars: 2000,
  argumentsChars: 2000,
  shortChars: 500,
  /** A line longer than this is reported as malformed without being parsed. */
  lineChars: 16 * 1024 * 1024,
} as const;

export type TelemetryErrorCode = "invalid_manifest" | "unsupported_version" | "unknown_format" | "invalid_artifact" | "too_large";

/** A clear, typed error for telemetry the caller handed us that we refuse as a whole. */
export class TelemetryError extends Error {
  override readonly name = "TelemetryError";
  constructor(
    readonly code: TelemetryErrorCode,
    message: string,
    readonly details: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(details.length > 0 ? `${message}: ${details.join("; ")}` : message, options);
  }
}

export function emptyUsage(): Usage {
  return { inputTokens: null, outputTokens: null, cachedInputTokens: null, costUsd: null };
}

export function emptyRun(format: TelemetryFormat): RunInfo {
  return {
    format,
    agent: null,
    model: null,
    task: null,
    triggeredBy: null,
    startedAt: null,
    endedAt: null,
    durationMs: null,
    usage: emptyUsage(),
    sessionId: null,
    outcome: null,
    finalMessage: null,
  };
}
