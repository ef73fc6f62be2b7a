/**
 * Secret redaction. Runs before anything from telemetry is stored or shown (invariant 7). The patterns are the
 * one secret catalogue's (src/shared/secrets.ts, `redact` mode). A match is replaced by `[REDACTED:<rule>]`; for
 * assignments and headers the name stays and only the value goes, so a reader still sees *that* a secret was used.
 */
import { findSecrets } from "../shared/secrets.js";
import type { SecretRuleId } from "../shared/secrets.js";
import type { FilesTouched, Step, Trace } from "./model.js";

/** The catalogue rule a redaction names: `[REDACTED:github-token]`. */
export type SecretKind = SecretRuleId;

/** Redacts every secret kind the catalogue knows in `s`. Idempotent: redacting twice changes nothing more. */
export function redactText(s: string): string {
  const found = findSecrets(s, "redact");
  if (found.length === 0) return s;
  let out = "";
  let at = 0;
  for (const m of found) {
    out += `${s.slice(at, m.start)}[REDACTED:${m.rule}]`;
    at = m.end;
  }
  return out + s.slice(at);
}

/**
 * Redacts then cuts `s` to `max` characters. Redaction runs on a slightly longer prefix first, so a secret that
 * straddles the cut is still recognised whole (and a private key cut mid-block is caught by its BEGIN line).
 */
export function redactAndTruncate(s: string, max: number): string {
  const margin = 8192;
  const head = s.length > max + margin ? s.slice(0, max + margin) : s;
  return truncate(redactText(head), max);
}

/** Keeps the head and tail of `s` (most useful for command output: what started, how it ended). */
export function redactHeadTail(s: string, max: number): string {
  if (s.length <= max) return truncate(redactText(s), max);
  const half = Math.floor(max / 2);
  const margin = 4096;
  const head = redactText(s.slice(0, half + margin)).slice(0, half);
  const tail = redactText(s.slice(-(half + margin)));
  return `${head}\n… [${s.length - max} characters omitted] …\n${tail.slice(-half)}`;
}

export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, Math.max(0, max - 1))}…`;
}

function redactStep(step: Step): Step {
  switch (step.kind) {
    case "message":
    case "reasoning":
      return { ...step, text: redactText(step.text) };
    case "decision":
      return {
        ...step,
        summary: redactText(step.summary),
        rationale: redactText(step.rationale),
        alternatives: step.alternatives.map(redactText),
        files: step.files.map(redactText),
      };
    case "command":
      return { ...step, command: redactText(step.command), outputExcerpt: redactText(step.outputExcerpt) };
    case "file_change":
      return { ...step, path: redactText(step.path), ...(step.previousPath !== undefined ? { previousPath: redactText(step.previousPath) } : {}) };
    case "tool_call":
      return { ...step, server: step.server === null ? null : redactText(step.server), tool: redactText(step.tool), arguments: redactText(step.arguments) };
    case "web_search":
      return { ...step, query: redactText(step.query), ...(step.url !== undefined ? { url: redactText(step.url) } : {}) };
    case "network":
      return { ...step, host: redactText(step.host), reason: redactText(step.reason), ...(step.process !== undefined ? { process: redactText(step.process) } : {}) };
    case "error":
      return { ...step, message: redactText(step.message) };
    case "other":
      return { ...step, type: redactText(step.type) };
  }
}

const orNull = (s: string | null) => (s === null ? null : redactText(s));

/** Redacts every string of a trace (steps, run header, file list, malformed-line messages). Idempotent. */
function redactFiles(files: FilesTouched): FilesTouched {
  return {
    truncated: files.truncated,
    paths: files.paths.map((p) => ({ ...p, path: redactText(p.path), ...(p.previousPath !== undefined ? { previousPath: redactText(p.previousPath) } : {}) })),
  };
}

export function redactTrace(trace: Trace): Trace {
  return {
    run: {
      ...trace.run,
      agent: orNull(trace.run.agent),
      model: orNull(trace.run.model),
      task: orNull(trace.run.task),
      triggeredBy: orNull(trace.run.triggeredBy),
      sessionId: orNull(trace.run.sessionId),
      outcome: orNull(trace.run.outcome),
      finalMessage: orNull(trace.run.finalMessage),
      usage: { ...trace.run.usage },
    },
    steps: trace.steps.map(redactStep),
    files: redactFiles(trace.files),
    ...(trace.gitFiles ? { gitFiles: redactFiles(trace.gitFiles) } : {}),
    stats: {
      ...trace.stats,
      malformed: trace.stats.malformed.map((m) => ({ ...m, message: redactText(m.message) })),
      otherTypes: Object.fromEntries(Object.entries(trace.stats.otherTypes).map(([k, v]) => [redactText(k), v])),
    },
  };
}
