/**
 * The bounded store every parser writes into. Counts are complete; steps are kept within CAPS (model.ts),
 * and every kept string is redacted and truncated here, in one place, so no parser can forget to.
 */
import { CAPS, emptyRun } from "./model.js";
import type { FileChangeKind, FilesTouched, RunInfo, Step, StepKind, TelemetryFormat, Trace } from "./model.js";
import { redactAndTruncate, redactHeadTail, redactText, truncate } from "./redact.js";

export type StepOrder = "source" | "time";

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

const clip = (s: string, max: number) => redactAndTruncate(s, max);

/** Redacts and truncates every string of a step (called only for steps that will be stored). */
export function sanitizeStep(step: Step): Step {
  switch (step.kind) {
    case "message":
    case "reasoning":
      return { ...step, text: clip(step.text, CAPS.textChars) };
    case "decision":
      return {
        ...step,
        summary: clip(step.summary, CAPS.shortChars * 2),
        rationale: clip(step.rationale, CAPS.rationaleChars),
        alternatives: step.alternatives.slice(0, 20).map((a) => clip(a, CAPS.shortChars * 2)),
        files: step.files.slice(0, 100).map((f) => clip(f, CAPS.shortChars * 2)),
      };
    case "command":
      return { ...step, command: clip(step.command, CAPS.commandChars), outputExcerpt: redactHeadTail(step.outputExcerpt, CAPS.outputChars) };
    case "file_change":
      return {
        ...step,
        path: clip(step.path, CAPS.shortChars * 2),
        ...(step.previousPath !== undefined ? { previousPath: clip(step.previousPath, CAPS.shortChars * 2) } : {}),
      };
    case "tool_call":
      return {
        ...step,
        server: step.server === null ? null : clip(step.server, CAPS.shortChars),
        tool: clip(step.tool, CAPS.shortChars),
        arguments: clip(step.arguments, CAPS.argumentsChars),
      };
    case "web_search":
      return { ...step, query: clip(step.query, CAPS.shortChars * 2), ...(step.url !== undefined ? { url: clip(step.url, CAPS.shortChars * 2) } : {}) };
    case "network":
      return { ...step, host: clip(step.host, CAPS.shortChars), reason: clip(step.reason, CAPS.shortChars), ...(step.method !== undefined ? { method: truncate(step.method, 20) } : {}) };
    case "error":
      return { ...step, message: clip(step.message, CAPS.textChars) };
    case "other":
      return { ...step, type: clip(step.type, 100) };
  }
}

export function commandFailed(step: { exitCode: number | null; status: string }): boolean {
  return (step.exitCode !== null && step.exitCode !== 0) || step.status === "failed" || step.status === "declined";
}

export class TraceAccumulator {
  run: RunInfo;
  private readonly steps: Step[] = [];
  private readonly stored = new Map<string, number>();
  private failedCommandsStored = 0;
  private blockedStored = 0;
  private allowedStored = 0;
  private readonly byKind = new Map<string, number>();
  private readonly dropped = new Map<string, number>();
  private readonly otherTypes = new Map<string, number>();
  private readonly files = new FileSet();
  private gitFiles: FileSet | null = null;
  private readonly malformed: Array<{ line: number; message: string; source?: string }> = [];
  private malformedTotal = 0;
  private otherCount = 0;
  private events = 0;

  constructor(
    format: TelemetryFormat,
    private readonly order: StepOrder = "source",
  ) {
    this.run = emptyRun(format);
  }

  /** Counts one input event (a line, a span, a bundle record). */
  event(): void {
    this.events++;
  }

  reportMalformed(line: number, message: string, source?: string): void {
    this.malformedTotal++;
    if (this.malformed.length < CAPS.malformed) {
      this.malformed.push({ line, message: truncate(redactText(message.slice(0, 1000)), 300), ...(source ? { source } : {}) });
    }
  }

  /** An event type we do not map: counted by name and kept as an "other" step (within caps). */
  other(type: string, line?: number, time?: string): void {
    this.otherCount++;
    const name = truncate(redactText(type.slice(0, 200)), 100);
    if (this.otherTypes.has(name) || this.otherTypes.size < CAPS.otherTypes) bump(this.otherTypes, name);
    else bump(this.otherTypes, "(other names)");
    this.add({ kind: "other", type: name, ...(line !== undefined ? { sourceLine: line } : {}), ...(time !== undefined ? { time } : {}) });
  }

  touchFile(path: string, change: FileChangeKind, previousPath?: string): void {
    this.files.touch(path, change, previousPath);
  }

  /** A file git saw changed after the run: kept apart from the agent's own account. */
  gitSaw(path: string, change: FileChangeKind, previousPath?: string): void {
    this.gitFiles ??= new FileSet();
    this.gitFiles.touch(path, change, previousPath);
  }

  add(step: Step): void {
    bump(this.byKind, step.kind);
    if (step.kind === "file_change") this.touchFile(step.path, step.change, step.previousPath);
    if (!this.shouldStore(step)) {
      bump(this.dropped, step.kind);
      return;
    }
    this.steps.push(sanitizeStep(step));
  }

  private shouldStore(step: Step): boolean {
    const kind: StepKind = step.kind;
    if (kind === "network" && step.kind === "network") {
      if (!step.allowed) return this.blockedStored < CAPS.blockedNetwork ? (this.blockedStored++, true) : false;
      return this.allowedStored < CAPS.allowedNetwork ? (this.allowedStored++, true) : false;
    }
    const n = this.stored.get(kind) ?? 0;
    if (n < CAPS.steps[kind]) {
      this.stored.set(kind, n + 1);
      return true;
    }
    if (step.kind === "command" && commandFailed(step) && this.failedCommandsStored < CAPS.failedCommand) {
      this.failedCommandsStored++;
      return true;
    }
    return false;
  }

  /** Number of steps currently held (for tests and benchmarks of the memory bound). */
  get storedSteps(): number {
    return this.steps.length;
  }

  finish(): Trace {
    const indexed = this.steps.map((s, i) => ({ s, i }));
    if (this.order === "time") {
      indexed.sort((a, b) => cmp(a.s.time ?? "\uffff", b.s.time ?? "\uffff") || a.i - b.i);
    } else {
      indexed.sort((a, b) => (a.s.sourceLine ?? Number.MAX_SAFE_INTEGER) - (b.s.sourceLine ?? Number.MAX_SAFE_INTEGER) || a.i - b.i);
    }
    const run = this.run;
    const clean = (s: string | null, max: number) => (s === null ? null : redactAndTruncate(s, max));
    return {
      run: {
        ...run,
        agent: clean(run.agent, 200),
        model: clean(run.model, 200),
        task: clean(run.task, CAPS.textChars),
        triggeredBy: clean(run.triggeredBy, 200),
        sessionId: clean(run.sessionId, 200),
        outcome: clean(run.outcome, 200),
        finalMessage: clean(run.finalMessage, CAPS.textChars),
        usage: { ...run.usage },
      },
      steps: indexed.map((x) => x.s),
      files: this.files.result(),
      ...(this.gitFiles ? { gitFiles: this.gitFiles.result() } : {}),
      stats: {
        events: this.events,
        byKind: Object.fromEntries(this.byKind),
        other: this.otherCount,
        malformed: [...this.malformed],
        malformedTotal: this.malformedTotal,
        dropped: Object.fromEntries(this.dropped),
        otherTypes: Object.fromEntries(this.otherTypes),
      },
    };
  }
}

/** Distinct paths in first-seen order, redacted and bounded by CAPS.files. */
class FileSet {
  private readonly files = new Map<string, { path: string; change: FileChangeKind; previousPath?: string }>();
  private truncated = false;

  touch(path: string, change: FileChangeKind, previousPath?: string): void {
    const p = truncate(redactText(path.slice(0, 4096)), CAPS.shortChars * 2);
    if (p === "") return;
    const prev = previousPath === undefined ? undefined : truncate(redactText(previousPath.slice(0, 4096)), CAPS.shortChars * 2);
    const existing = this.files.get(p);
    if (existing) {
      if (prev !== undefined && existing.previousPath === undefined) existing.previousPath = prev;
      if (change === "delete" || existing.change === "write") existing.change = change;
      return;
    }
    if (this.files.size >= CAPS.files) {
      this.truncated = true;
      return;
    }
    this.files.set(p, { path: p, change, ...(prev !== undefined ? { previousPath: prev } : {}) });
  }

  result(): FilesTouched {
    return { paths: [...this.files.values()].map((f) => ({ ...f })), truncated: this.truncated };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Adds `n` to a possibly-null counter (usage sums across turns). */
export function addUsage(current: number | null, n: number | undefined): number | null {
  if (n === undefined || !Number.isFinite(n) || n < 0) return current;
  return (current ?? 0) + n;
}
