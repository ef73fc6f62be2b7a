import { bestLiterals, literalTester, requiredLiterals } from "./literals.js";
import type { PatchLine } from "./patch.js";

/**
 * Content checks over a file's diff. Every hit carries a line number and a kind, never the matched text:
 * findings are printed, labelled and stored, and a secret must not travel with them.
 */

export interface Hit {
  line: number;
  /** What was found, safe to print (a secret's kind, a host name, a script section). */
  what: string;
}

// ---------------------------------------------------------------------------------------------------------
// Secrets

const SECRET_PATTERNS: ReadonlyArray<{ kind: string; re: RegExp }> = [
  { kind: "a private key", re: /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/ },
  { kind: "an AWS access key id", re: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])/ },
  { kind: "an AWS secret access key", re: /aws_?secret_?access_?key["']?\s{0,5}[:=]\s{0,5}["']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/i },
  { kind: "a GitHub token", re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}/ },
  { kind: "a GitHub token", re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}/ },
  { kind: "a Slack token", re: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,200}/ },
  { kind: "a Slack webhook", re: /hooks\.slack\.com\/services\/T[A-Za-z0-9]{4,}\/B[A-Za-z0-9]{4,}\/[A-Za-z0-9]{16,}/ },
  { kind: "a Stripe secret key", re: /(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{20,200}/ },
  { kind: "a Google API key", re: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/ },
  { kind: "an npm token", re: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/ },
  { kind: "an OpenAI or Anthropic API key", re: /(?<![A-Za-z0-9])sk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,300}/ },
  { kind: "a JSON web token", re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,2000}\.eyJ[A-Za-z0-9_-]{10,4000}\.[A-Za-z0-9_-]{10,2000}/ },
  { kind: "a URL with a password", re: /[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@"'`]{1,100}:[^\s/@"'`]{3,200}@[A-Za-z0-9.-]+/i },
];

const ASSIGNMENT_RE =
  /(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth[_-]?key)s?[A-Za-z0-9_.-]{0,30}["'`]?\s{0,5}(?::=|=>|:|=)\s{0,5}(["'`]?)([^\s"'`,;)]{12,256})/gi;
// Most added lines hold none of the literals the patterns need (`AIza`, `PRIVATE KEY`, `://`, `token`): one regex
// of those literals rules them out, and a whole diff without any needs no line-by-line look at all.
function literalsOf(re: RegExp): string[] | null {
  return re.flags.includes("u") ? null : bestLiterals(requiredLiterals(re.source), 2);
}
const SECRET_CHECKS = SECRET_PATTERNS.map((p) => ({ ...p, literals: literalsOf(p.re) }));
const ASSIGNMENT_LITERALS = literalsOf(ASSIGNMENT_RE);
const ALL_SECRET_LITERALS = [...SECRET_CHECKS.map((p) => p.literals), ASSIGNMENT_LITERALS];
const hasSecretLiteral = literalTester(
  ALL_SECRET_LITERALS.flatMap((ls) => ls ?? []),
  true,
);
const EVERY_SECRET_HAS_LITERALS = ALL_SECRET_LITERALS.every((ls) => ls !== null);

/**
 * False when no line of `text` (a patch, or any text holding the lines) can hold a secret `detectSecrets`
 * reports, so the patch need not even be parsed; true means "look".
 */
export function mayHoldSecrets(text: string): boolean {
  return !EVERY_SECRET_HAS_LITERALS || hasSecretLiteral(text);
}

/** Unquoted values must look like a token, not code (`e.withCredentials??!1` in minified JavaScript). */
const TOKEN_CHARS_RE = /^[A-Za-z0-9+/=_\-.~]{16,}$/;

const PLACEHOLDER_RE = /^(?:x{4,}|\*{4,}|\.{3,}|<.*>|\$\{?.*|\{\{.*|%\(?.*|changeme.*|your[_-].*|example.*|dummy.*|placeholder.*|redacted.*|fake.*|test[_-].*|none|null|undefined|true|false)$/i;
const IDENTIFIER_PATH_RE = /^[A-Za-z_$][A-Za-z0-9_$]*(?:[.:][A-Za-z_$][A-Za-z0-9_$]*)*(?:\(.*)?$/;

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

/** Lines whose addition looks like a credential. One hit per line at most. */
export function detectSecrets(lines: readonly PatchLine[]): Hit[] {
  const hits: Hit[] = [];
  for (const l of lines) {
    if (l.kind !== "add") continue;
    const text = l.text.length > 20_000 ? l.text.slice(0, 20_000) : l.text;
    let kind: string | null = null;
    const hasLiteral = hasSecretLiteral(text);
    for (const p of SECRET_CHECKS) {
      if (p.literals && !hasLiteral) continue;
      if (p.re.test(text)) {
        kind = p.kind;
        break;
      }
    }
    if (!kind && (hasLiteral || !ASSIGNMENT_LITERALS)) {
      ASSIGNMENT_RE.lastIndex = 0;
      for (let m = ASSIGNMENT_RE.exec(text); m; m = ASSIGNMENT_RE.exec(text)) {
        const quoted = (m[1] ?? "") !== "";
        const value = m[2] ?? "";
        if ((quoted || TOKEN_CHARS_RE.test(value)) && looksLikeSecretValue(value)) {
          kind = "a high-entropy secret assignment";
          break;
        }
      }
    }
    if (kind) hits.push({ line: l.line, what: kind });
  }
  return hits;
}

// ---------------------------------------------------------------------------------------------------------
// External hosts

const URL_RE = /\b(?:https?|wss?|ftps?):\/\/([^\s/"'`<>()[\]{}\\|^?#]{1,300})/gi;
const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+$/;
const LOCAL_HOST_RE =
  /^(?:localhost|.*\.localhost|.*\.local|.*\.internal|.*\.test|.*\.example|.*\.invalid|(?:.*\.)?example\.(?:com|org|net)|127\.\d+\.\d+\.\d+|0\.0\.0\.0|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+)$/;

/** The host names of the URLs on one line (no user info, no port), lowercased; invalid hosts are dropped. */
export function hostsIn(text: string): string[] {
  const out: string[] = [];
  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(text); m; m = URL_RE.exec(text)) {
    let authority = m[1] ?? "";
    const at = authority.lastIndexOf("@");
    if (at >= 0) authority = authority.slice(at + 1);
    const host = authority.replace(/:\d*$/, "").replace(/\.$/, "").toLowerCase();
    if (HOSTNAME_RE.test(host)) out.push(host);
  }
  return out;
}

/** False when no line of `text` names a URL, so `detectNewHosts` would find nothing there. */
export function mayHoldHosts(text: string): boolean {
  return text.includes("://");
}

/**
 * Hosts named in added lines that no removed or context line of the same diff names: a new external call.
 * The diff is all we see of the file, so "already in the file" means "already in the lines around it".
 */
export function detectNewHosts(lines: readonly PatchLine[]): Hit[] {
  const known = new Set<string>();
  for (const l of lines) {
    if (l.kind === "add" || !l.text.includes("://")) continue;
    for (const h of hostsIn(l.text)) known.add(h);
  }
  const hits: Hit[] = [];
  const reported = new Set<string>();
  for (const l of lines) {
    if (l.kind !== "add" || !l.text.includes("://")) continue;
    for (const h of hostsIn(l.text)) {
      if (known.has(h) || reported.has(h) || LOCAL_HOST_RE.test(h)) continue;
      reported.add(h);
      hits.push({ line: l.line, what: h });
    }
  }
  return hits;
}

// ---------------------------------------------------------------------------------------------------------
// package.json scripts

const LIFECYCLE = new Set(["preinstall", "install", "postinstall", "prepare", "prepublish", "prepublishOnly", "prepack", "postpack", "dependencies"]);
const OPEN_KEY_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:\s*\{\s*(?:\}\s*,?\s*)?$/;
const TOP_LEVEL_STRINGS = new Set(["name", "description", "version", "license", "author", "homepage", "main", "module", "types", "typings", "type", "repository", "bugs", "packageManager", "private", "funding", "browser", "bin", "url", "email"]);
const CLOSE_RE = /^\s*\}\s*,?\s*$/;
const PAIR_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,?\s*$/;
const VERSIONISH_RE = /^(?:[\^~<>=]*\s*v?\d|\*$|latest$|next$|workspace:|file:|link:|npm:|portal:|patch:|git|https?:|github:|catalog:)/;

/** The key of the object that encloses line `i`, looking back within its hunk; null when not visible. */
function enclosingKey(lines: readonly PatchLine[], i: number, view: "old" | "new"): string | null {
  const hunk = lines[i]!.hunk;
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const l = lines[j]!;
    if (l.hunk !== hunk) break;
    if (view === "new" ? l.kind === "del" : l.kind === "add") continue;
    if (CLOSE_RE.test(l.text)) {
      depth++;
      continue;
    }
    if (/^\s*\{\s*$/.test(l.text)) {
      if (depth === 0) return "";
      depth--;
      continue;
    }
    const m = OPEN_KEY_RE.exec(l.text);
    if (m && !/\}\s*,?\s*$/.test(l.text)) {
      if (depth === 0) return m[1] ?? null;
      depth--;
    }
  }
  return null;
}

/** Changed lines inside package.json's `scripts` (or that look like script entries where the context is too short to tell). */
export function detectScriptChanges(lines: readonly PatchLine[]): Hit[] {
  const hits: Hit[] = [];
  const seen = new Set<number>();
  const push = (hit: Hit) => {
    // A modified line shows as a deletion and an addition, usually at the same number: report it once.
    if (seen.has(hit.line)) return;
    seen.add(hit.line);
    hits.push(hit);
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.kind === "ctx") continue;
    const own = /^\s*"((?:[^"\\]|\\.)*)"\s*:/.exec(l.text)?.[1];
    if (own === "scripts") {
      push({ line: l.line, what: "the scripts section" });
      continue;
    }
    const key = enclosingKey(lines, i, l.kind === "add" ? "new" : "old");
    const pair = PAIR_RE.exec(l.text);
    if (key === "scripts") {
      if (!pair && CLOSE_RE.test(l.text)) continue;
      const name = pair?.[1] ?? "";
      push({ line: l.line, what: LIFECYCLE.has(name) ? "an install-time script" : "a script" });
    } else if (key === null && pair && !TOP_LEVEL_STRINGS.has(pair[1] ?? "") && !VERSIONISH_RE.test(pair[2] ?? "") && /[\s&|;$]/.test(pair[2] ?? "")) {
      push({ line: l.line, what: "what looks like a script (the diff does not show its section)" });
    }
  }
  return hits;
}
