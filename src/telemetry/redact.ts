/**
 * Secret redaction. Runs before anything from telemetry is stored or shown (invariant 7).
 * A match is replaced by `[REDACTED:<kind>]`; for assignments the name stays and only the value goes,
 * so a reader still sees *that* a secret was used.
 */
import type { Step, Trace } from "./model.js";

export type SecretKind =
  | "private-key"
  | "github-token"
  | "aws-access-key"
  | "aws-secret-key"
  | "jwt"
  | "authorization"
  | "bearer-token"
  | "url-credentials"
  | "api-key"
  | "secret-assignment";

const R = (kind: SecretKind) => `[REDACTED:${kind}]`;

// Words that make an assignment's name look secret. `pwd` is left out on purpose: PWD is the working directory.
// The name must start at a token boundary and its parts are bounded, so the regex stays linear on long
// unbroken runs of name characters (no catastrophic backtracking on hostile input).
const SECRET_NAME = String.raw`(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,64}?(?:password|passwd|passphrase|secret|token|credentials?|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|session[_-]?key|signing[_-]?key|encryption[_-]?key|[_-]key)(?:[_.-][A-Za-z0-9_.-]{0,64})?(?![A-Za-z0-9])`;

interface Rule {
  kind: SecretKind;
  re: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

const rules: Rule[] = [
  {
    // A block cut off by truncation (no END line) is redacted to the end of the text.
    kind: "private-key",
    re: /-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    replace: () => R("private-key"),
  },
  {
    kind: "authorization",
    re: /\b(authorization|proxy-authorization|x-api-key|x-auth-token|private-token)(\\?["']?\s*[:=]\s*\\?["']?)(?:(basic|bearer|token|digest)\s+)?([^\s"',;}\\]+)/gi,
    replace: (_m, name = "", sep = "", scheme, value = "") =>
      value.startsWith("[REDACTED") ? _m : `${name}${sep}${scheme ? `${scheme} ` : ""}${R("authorization")}`,
  },
  {
    kind: "bearer-token",
    re: /\b(bearer)\s+([A-Za-z0-9\-._~+/]{12,}=*)/gi,
    replace: (_m, scheme = "") => `${scheme} ${R("bearer-token")}`,
  },
  {
    kind: "github-token",
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{20,255})\b/g,
    replace: () => R("github-token"),
  },
  {
    kind: "aws-access-key",
    re: /\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{16}\b/g,
    replace: () => R("aws-access-key"),
  },
  {
    kind: "aws-secret-key",
    re: /\b((?:aws_?)?secret_?(?:access_?)?key(?:_id)?)(\\?["']?\s*[:=]\s*\\?["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    replace: (_m, name = "", sep = "") => `${name}${sep}${R("aws-secret-key")}`,
  },
  {
    kind: "jwt",
    re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
    replace: () => R("jwt"),
  },
  {
    kind: "api-key",
    // OpenAI / Anthropic, Slack, Stripe, Google, npm, PyPI, GitLab, SendGrid keys: fixed, recognisable prefixes.
    re: /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|pypi-[A-Za-z0-9_-]{50,}|glpat-[A-Za-z0-9_-]{20,}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})/g,
    replace: () => R("api-key"),
  },
  {
    kind: "url-credentials",
    re: /\b([a-z][a-z0-9+.-]{0,20}:\/\/[^\s:/@"']{1,256}:)([^\s@/"']{1,1024})(@)/gi,
    replace: (m, prefix = "", value = "", at = "") => (value.startsWith("[REDACTED") ? m : `${prefix}${R("url-credentials")}${at}`),
  },
  {
    kind: "secret-assignment",
    // NAME=value, NAME: value, "name": "value", --name=value, name => value.
    // Quotes may be backslash-escaped: the text is often JSON inside JSON (tool arguments).
    re: new RegExp(String.raw`(${SECRET_NAME})(\\?["']?)(\s*(?:=>|:=|=|:)\s*)(\\?["']?)([^\s"'\x60,;&|)}\]\\]+)`, "gi"),
    replace: (m, name = "", q1 = "", sep = "", q2 = "", value = "") => {
      if (!isSecretValue(name, value)) return m;
      return `${name}${q1}${sep}${q2}${R("secret-assignment")}`;
    },
  },
];

/** Values that are references or counts, not secrets: `$VAR`, `${{ secrets.X }}`, `input_tokens: 120`, `[REDACTED…]`. */
function isSecretValue(name: string, value: string): boolean {
  if (value.startsWith("[REDACTED")) return false;
  if (/^\$[{A-Za-z_({]/.test(value)) return false;
  if (/tokens$/i.test(name) && /^\d+$/.test(value)) return false;
  if (/^(?:null|none|undefined|true|false|string|number|boolean|\*+|x+|\.\.\.|<[^>]*>?)$/i.test(value)) return false;
  return true;
}

/** Redacts every secret kind we know of in `s`. Idempotent: redacting twice changes nothing more. */
export function redactText(s: string): string {
  if (s.length === 0) return s;
  let out = s;
  for (const rule of rules) {
    rule.re.lastIndex = 0;
    out = out.replace(rule.re, rule.replace as (substring: string, ...args: unknown[]) => string);
  }
  return out;
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
      return { ...step, host: redactText(step.host), reason: redactText(step.reason) };
    case "error":
      return { ...step, message: redactText(step.message) };
    case "other":
      return { ...step, type: redactText(step.type) };
  }
}

const orNull = (s: string | null) => (s === null ? null : redactText(s));

/** Redacts every string of a trace (steps, run header, file list, malformed-line messages). Idempotent. */
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
      usage: { ...trace.run.usage },
    },
    steps: trace.steps.map(redactStep),
    files: {
      truncated: trace.files.truncated,
      paths: trace.files.paths.map((p) => ({
        ...p,
        path: redactText(p.path),
        ...(p.previousPath !== undefined ? { previousPath: redactText(p.previousPath) } : {}),
      })),
    },
    stats: {
      ...trace.stats,
      malformed: trace.stats.malformed.map((m) => ({ ...m, message: redactText(m.message) })),
      otherTypes: Object.fromEntries(Object.entries(trace.stats.otherTypes).map(([k, v]) => [redactText(k), v])),
    },
  };
}
