import { bestLiterals, literalTester, requiredLiterals } from "./literals.js";

/**
 * The one secret catalogue. The risk detector (`secrets`, over a diff's added lines), telemetry redaction (over
 * everything an agent run reports) and the action's diff scan all ask it, so a credential format is added once.
 *
 * Hand-written rather than a scanner library's rule set: the engine must stay pure and synchronous (no I/O, no
 * plugin loading), linear on hostile input, and cheap enough to rule out a 3,000-file diff with one literal test
 * per file (`mayHoldSecrets`); the scanners we found (secretlint, gitleaks) are asynchronous, file-based or not
 * JavaScript. The patterns follow the formats those tools document.
 *
 * Two modes:
 * - `strict` (the default; diffs): recognisable token formats, plus `name = value` assignments whose value looks
 *   random. Code is full of `token = config.token`: those must not become critical findings.
 * - `redact` (logs, transcripts): everything `strict` finds, plus authorization headers, bearer tokens and any
 *   literal value assigned to a secret-looking name. Leaking is worse than over-redacting there.
 */

export type SecretMode = "strict" | "redact";

export type SecretRuleId =
  | "private-key"
  | "authorization"
  | "bearer-token"
  | "github-token"
  | "aws-access-key"
  | "aws-secret-key"
  | "slack-token"
  | "slack-webhook"
  | "stripe-key"
  | "stripe-test-key"
  | "google-api-key"
  | "npm-token"
  | "openai-anthropic-key"
  | "pypi-token"
  | "gitlab-token"
  | "sendgrid-key"
  | "jwt"
  | "url-credentials"
  | "secret-assignment";

export interface SecretMatch {
  /** The catalogue rule that matched. */
  rule: SecretRuleId;
  /** What was found, safe to print ("a GitHub token"); never the secret itself. */
  description: string;
  /** Offsets in the scanned text of the secret itself (for assignments and headers: the value, not the name). */
  start: number;
  end: number;
}

interface SecretRule {
  id: SecretRuleId;
  description: string;
  /** Global, with indices (`d`), so a capture group's offsets are known. */
  re: RegExp;
  /** The capture group that is the secret; 0: the whole match. */
  group: number;
  /** Modes the rule runs in. */
  modes: readonly SecretMode[];
  /** Further judgement of a match (groups as captured); absent: every match counts. */
  accept?: (groups: readonly string[], mode: SecretMode) => boolean;
}

const BOTH: readonly SecretMode[] = ["strict", "redact"];
const REDACT_ONLY: readonly SecretMode[] = ["redact"];

// Words that make an assignment's name look secret. A bare `pwd` is left out on purpose: PWD is the working
// directory (`DB_PWD` counts). The name must start at a token boundary and its parts are bounded, so the regex
// stays linear on long unbroken runs of name characters (no catastrophic backtracking on hostile input).
const SECRET_NAME = String.raw`(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,64}?(?:password|passwd|passphrase|secret|token|credentials?|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|session[_-]?key|signing[_-]?key|encryption[_-]?key|[_-]key|[_-]pwd)(?:[_.-][A-Za-z0-9_.-]{0,64})?(?![A-Za-z0-9])`;

/** Catalogue order is priority: where two rules find the same secret, the earlier one names it. */
const RULES: readonly SecretRule[] = [
  {
    // A block cut off by truncation (no END line) runs to the end of the text.
    id: "private-key",
    description: "a private key",
    re: /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/dg,
    group: 0,
    modes: BOTH,
  },
  {
    id: "authorization",
    description: "an authorization header",
    re: /\b(authorization|proxy-authorization|x-api-key|x-auth-token|private-token)(\\?["']?\s*[:=]\s*\\?["']?)(?:(basic|bearer|token|digest)\s+)?([^\s"',;}\\]+)/dgi,
    group: 4,
    modes: REDACT_ONLY,
    accept: (g) => !isRedacted(g[4] ?? ""),
  },
  {
    id: "bearer-token",
    description: "a bearer token",
    re: /\b(bearer)\s+([A-Za-z0-9\-._~+/]{12,}=*)/dgi,
    group: 2,
    modes: REDACT_ONLY,
  },
  {
    id: "github-token",
    description: "a GitHub token",
    re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{20,255})/dg,
    group: 0,
    modes: BOTH,
  },
  {
    id: "aws-access-key",
    description: "an AWS access key id",
    re: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{16}(?![A-Z0-9])/dg,
    group: 0,
    modes: BOTH,
  },
  {
    id: "aws-secret-key",
    description: "an AWS secret access key",
    re: /\b((?:aws_?)?secret_?(?:access_?)?key(?:_id)?)(\\?["']?\s{0,5}[:=]\s{0,5}\\?["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
    group: 3,
    modes: BOTH,
  },
  {
    id: "slack-token",
    description: "a Slack token",
    re: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,200}/dg,
    group: 0,
    modes: BOTH,
  },
  {
    id: "slack-webhook",
    description: "a Slack webhook",
    re: /hooks\.slack\.com\/services\/T[A-Za-z0-9]{4,}\/B[A-Za-z0-9]{4,}\/[A-Za-z0-9]{16,}/dg,
    group: 0,
    modes: BOTH,
  },
  {
    id: "stripe-key",
    description: "a Stripe secret key",
    re: /(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{16,200}/dg,
    group: 0,
    modes: BOTH,
  },
  {
    // Test-mode keys appear in documentation and examples: redacted from logs, not a finding in a diff.
    id: "stripe-test-key",
    description: "a Stripe test key",
    re: /(?<![A-Za-z0-9])[sr]k_test_[A-Za-z0-9]{16,200}/dg,
    group: 0,
    modes: REDACT_ONLY,
  },
  {
    id: "google-api-key",
    description: "a Google API key",
    re: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/dg,
    group: 0,
    modes: BOTH,
  },
  {
    id: "npm-token",
    description: "an npm token",
    re: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/dg,
    group: 0,
    modes: BOTH,
  },
  {
    // In code, short `sk-…` runs are CSS classes and ids; a real key has at least 32 characters after the prefix.
    id: "openai-anthropic-key",
    description: "an OpenAI or Anthropic API key",
    re: /(?<![A-Za-z0-9])sk-(?:ant-|proj-)?([A-Za-z0-9_-]{20,300})/dg,
    group: 0,
    modes: BOTH,
    accept: (g, mode) => mode === "redact" || (g[1] ?? "").length >= 32,
  },
  { id: "pypi-token", description: "a PyPI token", re: /(?<![A-Za-z0-9])pypi-[A-Za-z0-9_-]{50,300}/dg, group: 0, modes: BOTH },
  { id: "gitlab-token", description: "a GitLab token", re: /(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,300}/dg, group: 0, modes: BOTH },
  { id: "sendgrid-key", description: "a SendGrid key", re: /(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/dg, group: 0, modes: BOTH },
  {
    id: "jwt",
    description: "a JSON web token",
    re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,2000}\.eyJ[A-Za-z0-9_-]{5,4000}\.[A-Za-z0-9_-]{5,2000}/dg,
    group: 0,
    modes: BOTH,
  },
  {
    id: "url-credentials",
    description: "a URL with a password",
    re: /\b([a-z][a-z0-9+.-]{0,20}:\/\/[^\s:/@"'`]{1,256}:)([^\s@/"'`]{1,1024})@/dgi,
    group: 2,
    modes: BOTH,
    // `https://user:ab@…` in code is more often a pattern than a credential; logs redact even that.
    accept: (g, mode) => !isRedacted(g[2] ?? "") && (mode === "redact" || (g[2] ?? "").length >= 3),
  },
  {
    // NAME=value, NAME: value, "name": "value", --name=value, name => value. Quotes may be backslash-escaped:
    // logs often hold JSON inside JSON (tool arguments).
    id: "secret-assignment",
    description: "a high-entropy secret assignment",
    re: new RegExp(String.raw`(${SECRET_NAME})(\\?["'\x60]?)(\s{0,5}(?:=>|:=|=|:)\s{0,5})(\\?["'\x60]?)([^\s"'\x60,;&|)}\]\\]+)`, "dgi"),
    group: 5,
    modes: BOTH,
    accept: (g, mode) => (mode === "redact" ? isLiteralValue(g[1] ?? "", g[5] ?? "") : looksLikeSecretAssignment(g)),
  },
];

function isRedacted(value: string): boolean {
  return value.startsWith("[REDACTED");
}

/** Values that are references or counts, not secrets: `$VAR`, `${{ secrets.X }}`, `input_tokens: 120`, `[REDACTED…]`. */
function isLiteralValue(name: string, value: string): boolean {
  if (isRedacted(value)) return false;
  if (/pwd$/i.test(name)) return false;
  if (/^\$[{A-Za-z_({]/.test(value)) return false;
  if (/tokens$/i.test(name) && /^\d+$/.test(value)) return false;
  if (/^(?:null|none|undefined|true|false|string|number|boolean|\*+|x+|\.\.\.|<[^>]*>?)$/i.test(value)) return false;
  return true;
}

/** Unquoted values must look like a token, not code (`e.withCredentials??!1` in minified JavaScript). */
const TOKEN_CHARS_RE = /^[A-Za-z0-9+/=_\-.~]{16,}$/;
const PLACEHOLDER_RE = /^(?:x{4,}|\*{4,}|\.{3,}|<.*>|\$\{?.*|\{\{.*|%\(?.*|changeme.*|your[_-].*|example.*|dummy.*|placeholder.*|redacted.*|fake.*|test[_-].*|none|null|undefined|true|false)$/i;
const IDENTIFIER_PATH_RE = /^[A-Za-z_$][A-Za-z0-9_$]*(?:[.:][A-Za-z_$][A-Za-z0-9_$]*)*(?:\(.*)?$/;

function looksLikeSecretAssignment(g: readonly string[]): boolean {
  const value = g[5] ?? "";
  const quoted = (g[4] ?? "") !== "";
  if (value.length < 12 || value.length > 256) return false;
  return (quoted || TOKEN_CHARS_RE.test(value)) && looksLikeSecretValue(value);
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function looksLikeSecretValue(value: string): boolean {
  if (PLACEHOLDER_RE.test(value)) return false;
  // `token = config.auth.token`, `password: getPassword()`: code, not a literal.
  if (IDENTIFIER_PATH_RE.test(value) && !/\d/.test(value)) return false;
  const hasDigit = /\d/.test(value);
  const hasLetter = /[A-Za-z]/.test(value);
  const e = entropy(value);
  return (hasDigit && hasLetter && e >= 3.3) || e >= 4.2;
}

// Most texts hold none of the literals the patterns need (`AIza`, `PRIVATE KEY`, `://`, `token`): one regex of
// those literals rules them out, and a whole diff without any needs no line-by-line look at all.
function literalsOf(re: RegExp): string[] | null {
  return re.flags.includes("u") ? null : bestLiterals(requiredLiterals(re.source), 2);
}
const RULE_LITERALS = RULES.map((r) => literalsOf(r.re));

function prefilter(mode: SecretMode): (text: string) => boolean {
  const sets = RULES.flatMap((r, i) => (r.modes.includes(mode) ? [RULE_LITERALS[i]] : []));
  if (!sets.every((ls) => ls !== null)) return () => true;
  return literalTester(
    sets.flatMap((ls) => ls ?? []),
    true,
  );
}
const MAY_HOLD: Record<SecretMode, (text: string) => boolean> = { strict: prefilter("strict"), redact: prefilter("redact") };

/**
 * False when `text` (a patch, or any text holding the lines) cannot hold a secret `findSecrets` reports in this
 * mode, so it need not even be parsed; true means "look".
 */
export function mayHoldSecrets(text: string, mode: SecretMode = "strict"): boolean {
  return MAY_HOLD[mode](text);
}

/**
 * Every secret in `text`, in order of position; where matches overlap, the one that starts first (at the same
 * start: the earlier catalogue rule) wins and the others are dropped. Pure and linear in the text's length.
 */
export function findSecrets(text: string, mode: SecretMode = "strict"): SecretMatch[] {
  if (text.length === 0 || !mayHoldSecrets(text, mode)) return [];
  const found: Array<SecretMatch & { priority: number }> = [];
  RULES.forEach((rule, priority) => {
    if (!rule.modes.includes(mode)) return;
    rule.re.lastIndex = 0;
    for (let m = rule.re.exec(text); m; m = rule.re.exec(text)) {
      if (m[0].length === 0) rule.re.lastIndex++;
      if (rule.accept && !rule.accept(m, mode)) continue;
      const span = m.indices?.[rule.group];
      if (!span) continue;
      found.push({ rule: rule.id, description: rule.description, start: span[0], end: span[1], priority });
    }
  });
  found.sort((a, b) => a.start - b.start || a.priority - b.priority);
  const out: SecretMatch[] = [];
  let end = -1;
  for (const { priority: _priority, ...m } of found) {
    if (m.start < end) continue;
    out.push(m);
    end = m.end;
  }
  return out;
}

/** The rules in catalogue order, for documentation and tests. */
export function secretRules(): ReadonlyArray<{ id: SecretRuleId; description: string; modes: readonly SecretMode[] }> {
  return RULES.map(({ id, description, modes }) => ({ id, description, modes }));
}
