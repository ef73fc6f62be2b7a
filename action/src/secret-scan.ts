/**
 * The agent's staged diff, scanned for secrets before the action pushes it: the one secret catalogue
 * (src/shared/secrets.ts, through the App's `secrets` detector) on every added line, plus the exact values the run knows are secret (the token,
 * every agent-env value) in case a key has a format the catalogue does not know. A hit names file, line and
 * kind, never the matched text.
 */
import { detectSecrets } from "../../src/policy/detectors/secrets.js";
import { parsePatch } from "../../src/policy/patch.js";
import { mayHoldSecrets } from "../../src/shared/secrets.js";

export interface SecretInDiff {
  path: string;
  line: number;
  /** What was found, safe to print (a secret's kind, or which known value). */
  what: string;
}

export interface KnownSecret {
  /** Printed in a hit, e.g. "the value of agent-env OPENAI_API_KEY". */
  label: string;
  value: string;
}

/** The App's own secrets detector (src/shared/secrets.ts, strict mode), on the added lines of one file's patch. */
function catalogueHits(patch: string): Array<{ line: number; what: string }> {
  return mayHoldSecrets(patch) ? detectSecrets(parsePatch(patch)) : [];
}

const MAX_HITS = 200;

/**
 * Scans a `git diff -U0` of the staged changes (as produced by Git.stagedDiff) file by file.
 * Deleted files are skipped: removing a secret is not leaking it.
 */
export function findSecretsInDiff(diff: string, known: readonly KnownSecret[] = []): SecretInDiff[] {
  const hits: SecretInDiff[] = [];
  const usable = known.filter((k) => k.value.length >= 8);
  for (const file of splitDiff(diff)) {
    if (file.path === null) continue;
    const seen = new Set<number>();
    for (const h of catalogueHits(file.patch)) {
      seen.add(h.line);
      hits.push({ path: file.path, line: h.line, what: h.what });
    }
    if (usable.length > 0) {
      for (const l of parsePatch(file.patch)) {
        if (l.kind !== "add" || seen.has(l.line)) continue;
        const k = usable.find((s) => l.text.includes(s.value));
        if (k) hits.push({ path: file.path, line: l.line, what: k.label });
      }
    }
    if (hits.length >= MAX_HITS) break;
  }
  return hits.slice(0, MAX_HITS).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
}

interface FilePatch {
  /** The new path, or null for a deleted file. */
  path: string | null;
  patch: string;
}

/** Splits a multi-file `git diff` into per-file patches, reading the new path from each `+++ ` header. */
export function splitDiff(diff: string): FilePatch[] {
  const out: FilePatch[] = [];
  const starts: number[] = [];
  const header = /^diff --git /gm;
  for (let m = header.exec(diff); m; m = header.exec(diff)) starts.push(m.index);
  for (let i = 0; i < starts.length; i++) {
    const chunk = diff.slice(starts[i], starts[i + 1] ?? diff.length);
    const hunk = chunk.search(/^@@ /m);
    const head = hunk === -1 ? chunk : chunk.slice(0, hunk);
    const plus = /^\+\+\+ (.*)$/m.exec(head)?.[1];
    if (plus === undefined || hunk === -1) continue;
    // git ends the header with a tab when the name has a space (for patch(1)); a real tab would be quoted.
    const name = plus.replace(/\t$/, "");
    const target = name === "/dev/null" ? null : unquoteGitPath(name);
    out.push({ path: target === null ? null : target.replace(/^b\//, ""), patch: chunk.slice(hunk) });
  }
  return out;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/** Undoes git's C-style quoting of a path (`"b/caf\303\251\tx"`); unquoted paths come back as they are. */
export function unquoteGitPath(text: string): string {
  if (!text.startsWith('"') || !text.endsWith('"') || text.length < 2) return text;
  const bytes: number[] = [];
  const body = text.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? "";
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = body[i + 1] ?? "";
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
