/** The native bundle written by the sandbox action (bundle.ts): events.jsonl and network.jsonl records. */
import type { TraceAccumulator } from "../accumulator.js";
import { bundleEventSchema, networkAttemptSchema } from "../bundle.js";
import type { BundleEvent, BundleManifest, NetworkAttempt } from "../bundle.js";
import type { Step } from "../model.js";
import { safeStringify } from "../util.js";
import { CAPS } from "../model.js";
import { get, isObject, normalizePath } from "../util.js";
import type { FormatHandler } from "./builder.js";

function issueText(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const first = error.issues[0];
  if (!first) return "invalid record";
  const path = first.path.map(String).join(".");
  return `${path ? `${path}: ` : ""}${first.message}${error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : ""}`;
}

/** The step an event stands for; null for `git_change`, which is not the agent's account (see TraceAccumulator.gitSaw). */
export function stepFromEvent(e: BundleEvent, line: number): Step | null {
  const base = { time: e.time, sourceLine: line };
  switch (e.type) {
    case "message":
      return { kind: "message", role: e.role, text: e.text, ...base };
    case "reasoning":
      return { kind: "reasoning", text: e.text, ...base };
    case "decision":
      return { kind: "decision", summary: e.decision, rationale: e.rationale, alternatives: e.alternatives, files: e.files, ...base };
    case "command":
      return {
        kind: "command",
        command: e.command,
        exitCode: e.exitCode,
        durationMs: e.durationMs ?? null,
        outputExcerpt: e.output ?? "",
        status: e.exitCode === null ? "unknown" : e.exitCode === 0 ? "completed" : "failed",
        ...(e.by ? { by: e.by } : {}),
        ...base,
      };
    case "file_change":
      return { kind: "file_change", path: normalizePath(e.path), change: e.kind, ...(e.line !== undefined ? { line: e.line } : {}), ...base };
    case "git_change":
      return null;
    case "tool_call":
      return {
        kind: "tool_call",
        server: e.server ?? null,
        tool: e.tool,
        arguments: e.arguments === undefined ? "" : typeof e.arguments === "string" ? e.arguments : safeStringify(e.arguments, CAPS.argumentsChars + 8192),
        status: e.status,
        ...base,
      };
    case "web_search":
      return { kind: "web_search", query: e.query, ...base };
    case "error":
      return { kind: "error", message: e.message, ...base };
  }
}

export function stepFromNetwork(n: NetworkAttempt, line: number): Step {
  const who = processLabel(n.process);
  return { kind: "network", host: n.host, port: n.port, allowed: n.allowed, reason: n.reason, bytes: n.bytesUp + n.bytesDown, method: n.method, time: n.time, sourceLine: line, ...(who ? { process: who } : {}) };
}

/** "curl -s x (pid 812)", "uid 1001", or null when the attempt names no process. */
function processLabel(p: NetworkAttempt["process"]): string | null {
  if (!p) return null;
  const ids = [p.pid !== undefined ? `pid ${p.pid}` : null, p.pid === undefined && p.uid !== undefined ? `uid ${p.uid}` : null].filter(Boolean).join(", ");
  const command = p.command?.trim().slice(0, 300) ?? "";
  if (!command) return ids || null;
  return ids ? `${command} (${ids})` : command;
}

const NATIVE_TYPES = new Set(["message", "reasoning", "decision", "command", "file_change", "git_change", "tool_call", "web_search", "error"]);

/** An events.jsonl record (a known type with a `time`) or a network.jsonl record. */
export function isNativeRecord(v: unknown): boolean {
  const type = get(v, "type");
  if (typeof type === "string") return NATIVE_TYPES.has(type) && typeof get(v, "time") === "string";
  return typeof get(v, "host") === "string" && typeof get(v, "allowed") === "boolean";
}

/** Handles one events.jsonl or network.jsonl record; a network record is recognised by its host/allowed fields. */
export class NativeHandler implements FormatHandler {
  constructor(
    private readonly acc: TraceAccumulator,
    private readonly source?: string,
  ) {}

  handle(value: unknown, line: number): void {
    this.acc.event();
    if (!isObject(value)) {
      this.acc.reportMalformed(line, "expected a JSON object", this.source);
      return;
    }
    if (get(value, "type") === undefined && get(value, "host") !== undefined) {
      const r = networkAttemptSchema.safeParse(value);
      if (!r.success) this.acc.reportMalformed(line, `invalid network record: ${issueText(r.error)}`, this.source ?? "network");
      else this.acc.add(stepFromNetwork(r.data, line));
      return;
    }
    const r = bundleEventSchema.safeParse(value);
    if (r.success) {
      const step = stepFromEvent(r.data, line);
      if (step) this.acc.add(step);
      else if (r.data.type === "git_change") this.acc.gitSaw(normalizePath(r.data.path), r.data.kind, r.data.previousPath === undefined ? undefined : normalizePath(r.data.previousPath));
      return;
    }
    const type = get(value, "type");
    if (typeof type === "string" && !NATIVE_TYPES.has(type)) {
      // A newer action may add event types; keep them counted rather than rejecting the bundle.
      this.acc.other(type, line);
      return;
    }
    this.acc.reportMalformed(line, `invalid event: ${issueText(r.error)}`, this.source ?? "events");
  }

  flush(): void {}
}

/** Fills the run header from a validated manifest. The manifest is authoritative over anything a transcript says. */
export function applyManifest(acc: TraceAccumulator, m: BundleManifest): void {
  const run = acc.run;
  run.agent = m.agent.name;
  run.model = m.agent.model ?? run.model;
  run.task = m.task;
  run.triggeredBy = m.triggeredBy;
  run.startedAt = m.startedAt;
  run.endedAt = m.endedAt;
  run.outcome = m.outcome;
  run.sessionId = `${m.repository}#run-${m.runId}.${m.runAttempt}`;
  if (m.usage) {
    run.usage = {
      inputTokens: m.usage.inputTokens ?? null,
      outputTokens: m.usage.outputTokens ?? null,
      cachedInputTokens: m.usage.cachedInputTokens ?? null,
      costUsd: m.usage.costUsd ?? null,
    };
  }
}
