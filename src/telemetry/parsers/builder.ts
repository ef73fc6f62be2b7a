/** The streaming builder shared by every format: one line in, bounded state, a Trace out. */
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { CallStatus, Trace } from "../model.js";
import type { ToolDraft } from "../tools.js";
import { parseJson } from "../util.js";

export interface TraceBuilder {
  /** Feeds one line of a JSON Lines file (1-based line number). Blank lines are skipped; bad lines are reported, never thrown. */
  push(line: string, lineNumber: number): void;
  /** Ends the stream: flushes calls still waiting for a result and returns the trace. */
  finish(): Trace;
}

/** A format's event handler: receives parsed JSON values and writes steps into the accumulator. */
export interface FormatHandler {
  handle(value: unknown, line: number): void;
  flush(): void;
}

export class JsonlTraceBuilder implements TraceBuilder {
  private finished: Trace | null = null;
  private flushed = false;

  constructor(
    readonly acc: TraceAccumulator,
    private readonly handler: FormatHandler,
    private readonly source?: string,
  ) {}

  push(line: string, lineNumber: number): void {
    if (this.finished) return;
    if (line.length > CAPS.lineChars) {
      this.acc.event();
      this.acc.reportMalformed(lineNumber, `line too long (${line.length} characters)`, this.source);
      return;
    }
    const text = line.trim();
    if (text === "") return;
    const parsed = parseJson(text);
    if (!parsed.ok) {
      this.acc.event();
      this.acc.reportMalformed(lineNumber, `invalid JSON: ${parsed.error}`, this.source);
      return;
    }
    this.pushValue(parsed.value, lineNumber);
  }

  /** Reports a record that could not be read (counted as an event). */
  malformed(lineNumber: number, message: string): void {
    if (this.finished) return;
    this.acc.event();
    this.acc.reportMalformed(lineNumber, message, this.source);
  }

  /** Feeds an already parsed JSON value (a whole OTLP export file, for instance). */
  pushValue(value: unknown, lineNumber: number): void {
    if (this.finished) return;
    try {
      this.handler.handle(value, lineNumber);
    } catch (e) {
      // A handler bug or a shape we did not foresee must not lose the rest of the stream.
      this.acc.reportMalformed(lineNumber, `could not interpret event: ${e instanceof Error ? e.message : String(e)}`, this.source);
    }
  }

  /** Steps currently held in memory (bounded by CAPS whatever the input size). */
  get storedSteps(): number {
    return this.acc.storedSteps;
  }

  /** Emits calls still waiting for their result. Idempotent. */
  flush(): void {
    if (this.flushed) return;
    this.flushed = true;
    try {
      this.handler.flush();
    } catch (e) {
      this.acc.reportMalformed(0, `could not finish: ${e instanceof Error ? e.message : String(e)}`, this.source);
    }
  }

  finish(): Trace {
    if (!this.finished) {
      this.flush();
      this.finished = this.acc.finish();
    }
    return this.finished;
  }
}

/** A bounded insertion-ordered map: when full, the oldest entry is evicted and handed to `onEvict`. */
export class PendingMap<V> {
  private readonly map = new Map<string, V>();
  constructor(
    private readonly max: number,
    private readonly onEvict: (v: V) => void,
  ) {}
  set(key: string, v: V): void {
    if (!this.map.has(key) && this.map.size >= this.max) {
      const first = this.map.keys().next();
      if (!first.done) {
        const old = this.map.get(first.value);
        this.map.delete(first.value);
        if (old !== undefined) this.onEvict(old);
      }
    }
    this.map.set(key, v);
  }
  take(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.map.delete(key);
    return v;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  drain(): V[] {
    const all = [...this.map.values()];
    this.map.clear();
    return all;
  }
  get size(): number {
    return this.map.size;
  }
}

/** How a classified tool call ended, as far as its format says. */
export interface CallOutcome {
  /** The tool's name as the agent called it (shown when a file edit failed). */
  name: string;
  status: CallStatus;
  /** Commands: the exit code (null when unknown), output and duration. */
  exitCode?: number | null;
  output?: string;
  durationMs?: number | null;
}

/**
 * Adds the step(s) a classified tool call (tools.ts classifyTool) stands for. A file edit that failed is a failed
 * tool call, not a file change: the file was not changed by it.
 */
export function addDraft(acc: TraceAccumulator, draft: ToolDraft, call: CallOutcome, base: { sourceLine: number; time?: string }): void {
  switch (draft.type) {
    case "command":
      acc.add({ kind: "command", command: draft.command, exitCode: call.exitCode ?? null, durationMs: call.durationMs ?? null, outputExcerpt: call.output ?? "", status: call.status, ...base });
      return;
    case "file_change":
      if (call.status === "failed") {
        acc.add({ kind: "tool_call", server: null, tool: call.name, arguments: draft.changes.map((c) => c.path).join(", "), status: "failed", ...base });
        return;
      }
      for (const c of draft.changes) acc.add({ kind: "file_change", path: c.path, change: c.change, ...(c.previousPath ? { previousPath: c.previousPath } : {}), ...base });
      return;
    case "web_search":
      acc.add({ kind: "web_search", query: draft.query, ...(draft.url ? { url: draft.url } : {}), ...base });
      return;
    case "decision":
      acc.add({ kind: "decision", ...draft.decision, ...base });
      return;
    case "tool_call":
      acc.add({ kind: "tool_call", server: draft.server, tool: draft.tool, arguments: draft.arguments, status: call.status, ...base });
  }
}
