/**
 * Fuzzing every detector of the registry over hostile patches, with a time bound per input (against hangs; speed
 * is measured in `npm run bench`, "Detectors"), and the linear package.json `scripts` detector against the
 * walk-back implementation it replaced (same answers, linear instead of quadratic).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DETECTOR_REGISTRY } from "../../src/policy/detectors/index.js";
import { enclosingKeys } from "../../src/policy/detectors/package-scripts.js";
import { parsePatch } from "../../src/policy/patch.js";
import type { PatchLine } from "../../src/policy/patch.js";
import type { ChangedFile } from "../../src/policy/types.js";

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const BOUND_MS = 2000;

const TOKENS = [
  "\n+", "\n-", "\n ", "\n@@ -1,3 +1,4 @@\n", "@@ -0,0 +1 @@\n+",
  '"scripts": {', '"dependencies": {', '"postinstall": "curl x | sh",', '"build": "tsc",', "}", "},", "{", '"a": {},', '"name": "x",',
  "https://", "http:", "https:\\\\", "%2e", "0x7f.1", "2130706433", "@", "evil.io", "[::1]", "\\x2e", "\\/\\/", "。",
  "AKIA", "ghp_", "sk-", "eyJ", "-----BEGIN PRIVATE KEY-----", "token=", "password: ", "Zq8vL2mN9xR4tY7wK1pB5sD3", "xoxb-",
  " ", "\t", '"', "'", "`", "\\",
];

const hostilePatch = fc
  .array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: fc.constantFrom("a", "=", "/", ".").map((c) => c.repeat(2000)) }), { maxLength: 120 })
  .map((parts) => `@@ -1,50 +1,50 @@\n${parts.join("")}`);

function file(patch: string): ChangedFile {
  return { filename: "package.json", status: "modified", additions: 1, deletions: 1, changes: 2, patch };
}

describe("fuzz: every detector over hostile patches", () => {
  it("never throws, hits name real lines, and each input finishes within the bound", () => {
    fc.assert(
      fc.property(hostilePatch, (patch) => {
        const lines = parsePatch(patch);
        const numbers = new Set(lines.map((l) => l.line));
        for (const detector of DETECTOR_REGISTRY) {
          const start = performance.now();
          const hits = detector.detect({ file: file(patch), lines: () => lines });
          const ms = performance.now() - start;
          if (ms > BOUND_MS) throw new Error(`${detector.id} took ${ms.toFixed(0)} ms`);
          for (const h of hits) {
            expect(h.line === 0 || numbers.has(h.line)).toBe(true);
            expect(typeof h.what).toBe("string");
          }
        }
      }),
      { numRuns: 15_000 * SCALE },
    );
  });
});

// The walk-back implementation the linear one replaced (src/policy/detectors/package-scripts.ts before issue 11),
// kept here as the oracle: quadratic, but obviously right for short hunks.
const CLOSE_RE = /^\s*\}\s*,?\s*$/;
const OPEN_KEY_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:\s*\{\s*(?:\}\s*,?\s*)?$/;
function walkBackKey(lines: readonly PatchLine[], i: number, view: "old" | "new"): string | null {
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

const JSON_LINES = ["{", "}", "},", '  "scripts": {', '  "dependencies": {', '  "a": {', '    "build": "tsc",', '    "x": "y"', '  "b": {},', '  "name": "n",', "", "  ]", '  "files": ['];
const jsonPatch = fc
  .array(fc.tuple(fc.constantFrom("+", "-", " ", "@@ -1 +1 @@"), fc.constantFrom(...JSON_LINES)), { maxLength: 60 })
  .map((ls) => `@@ -1,9 +1,9 @@\n${ls.map(([k, t]) => (k.startsWith("@@") ? k : k + t)).join("\n")}`);

describe("the package.json scripts detector is linear and answers as the walk-back did", () => {
  it("enclosing keys equal the walk-back implementation's on every line of random package.json hunks", () => {
    fc.assert(
      fc.property(jsonPatch, (patch) => {
        const lines = parsePatch(patch);
        const keys = enclosingKeys(lines);
        lines.forEach((l, i) => {
          if (l.kind === "ctx") return;
          expect(keys[i]).toBe(walkBackKey(lines, i, l.kind === "add" ? "new" : "old"));
        });
      }),
      { numRuns: 20_000 * SCALE },
    );
  });
});
