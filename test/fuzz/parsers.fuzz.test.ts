/**
 * Fuzzing the parsers that read attacker-controlled text: the policy file and CODEOWNERS a pull request
 * proposes (parsed from its head to show their errors in the check) and the patches of its files.
 *
 * Each property checks that the parser never throws, returns a well-formed result, and finishes within a
 * generous time bound per input (against hangs, not a benchmark: `npm run bench` measures speed). Runs are
 * sized for CI: about 110,000 inputs in all, a few tens of seconds. FUZZ_SCALE=10 runs ten times as many.
 */
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { CODEOWNERS_MAX_BYTES, parseCodeowners } from "../../src/policy/codeowners.js";
import { MAX_POLICY_BYTES, MAX_POLICY_ERRORS, parsePolicy } from "../../src/policy/config.js";
import { parsePatch } from "../../src/policy/patch.js";

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** Per input. The inputs here are at most a few kilobytes and parse in well under a millisecond. */
const BOUND_MS = 2000;

function timed<T>(fn: () => T): T {
  const start = performance.now();
  const result = fn();
  const ms = performance.now() - start;
  if (ms > BOUND_MS) throw new Error(`took ${ms.toFixed(0)} ms (bound ${BOUND_MS} ms)`);
  return result;
}

/** Text assembled from the tokens a parser cares about, so the fuzzer reaches its branches, not just its first check. */
function tokenSoup(tokens: string[], maxLength: number): fc.Arbitrary<string> {
  return fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...tokens) }, { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }) }), { maxLength }).map((parts) => parts.join(""));
}

const POLICY_KEYS = ["agents", "authors", "branches", "labels", "scope", "risk", "extends", "rules", "disable", "id", "level", "reason", "paths", "excludePaths", "detect", "when", "status", "binary", "changedLines", "changedFiles", "gt", "approvals", "codeowners", "from", "count", "fallback", "invalidateOnPush", "prefix", "telemetry", "workflows", "required"];
const POLICY_VALUES = ["low", "medium", "high", "critical", "none", "recommended", "agents", "all", "secrets", "external-hosts", "package-scripts", "**/*.pem", "agent/**", "@org/team", "@user", "a@b.c", "added", "renamed", "true", "false", "0", "-1", "1e9"];

/** Policy-shaped values: known keys with plausible and implausible values, turned into real YAML. */
const policyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...POLICY_VALUES),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 20 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...POLICY_KEYS), fc.string({ maxLength: 10 })), tie("value"), { maxKeys: 6 }),
  ),
})).value;

const YAML_TOKENS = [...POLICY_KEYS.map((k) => `${k}: `), ...POLICY_VALUES, "\n", "\n  ", "\n    ", "- ", ": ", "? ", "[", "]", "{", "}", ", ", "&a ", "*a", "&b ", "*b", "!!str ", "!!map ", "!custom ", "|\n", ">-\n", "'", '"', "#", "---\n", "...\n", "%YAML 1.2\n", "\t", "<<: *a\n", "\\", "\u0000", "\uFEFF", "\r\n"];

describe("fuzz: the policy parser (a proposed .github/agent-gate.yml is the attacker's)", () => {
  const check = (text: string) => {
    const result = timed(() => parsePolicy(text));
    if (result.ok) {
      expect(result.policy.risk.rules.length).toBeGreaterThan(0);
    } else {
      expect(result.errors.length).toBeGreaterThan(0);
      expect(result.errors.length).toBeLessThanOrEqual(MAX_POLICY_ERRORS + 1);
      for (const e of result.errors) {
        expect(e.file).toBe(".github/agent-gate.yml");
        expect(e.line === null || (Number.isInteger(e.line) && e.line >= 1)).toBe(true);
        expect(typeof e.message).toBe("string");
      }
    }
  };

  it("never throws, returns a policy or file:line errors (at most 51), on policy-shaped YAML", () => {
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...POLICY_KEYS), policyValue, { maxKeys: 8 }), (value) => check(stringify(value))), { numRuns: 12_000 * SCALE });
  });

  it("never throws on YAML token soup (anchors, aliases, tags, flow and block, tabs, BOMs)", () => {
    fc.assert(fc.property(tokenSoup(YAML_TOKENS, 80), check), { numRuns: 15_000 * SCALE });
  });

  it("never throws on arbitrary text", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), check), { numRuns: 5_000 * SCALE });
  });
});

const CODEOWNERS_TOKENS = ["*", "**", "/", "\\ ", "\\#", "\\", "#", " ", "\t", "\n", "\r\n", "\r", "@org/team", "@user", "a@b.c", "@", "docs/", "*.js", "!", "[", "]", "{a,b}", "?", "src/**/x", "/build/", "[Section]", "^[Optional]", "\u00e9", "\u0000"];

describe("fuzz: the CODEOWNERS parser (a proposed CODEOWNERS is the attacker's)", () => {
  it("never throws; errors name real lines; matching a few paths stays bounded", () => {
    const paths = ["README.md", "src/app/index.ts", "docs/a b.md", ".github/CODEOWNERS", "a/b/c/d/e/f/g.txt"];
    fc.assert(
      fc.property(tokenSoup(CODEOWNERS_TOKENS, 120), (text) => {
        const lineCount = text.split(/\r\n|\n|\r/).length;
        const owners = timed(() => {
          const parsed = parseCodeowners(text, { path: ".github/CODEOWNERS" });
          for (const p of paths) parsed.ownersOf(p);
          return parsed;
        });
        expect(owners.tooLarge).toBe(false);
        for (const e of owners.errors) {
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.line).toBeLessThanOrEqual(lineCount);
        }
        expect(owners.rules.length + owners.errors.length).toBeLessThanOrEqual(lineCount);
      }),
      { numRuns: 30_000 * SCALE },
    );
  });

  it("a file of GitHub's limit (3 MB) or more is not loaded, as on GitHub", () => {
    expect(parseCodeowners("* @a\n", { byteLength: CODEOWNERS_MAX_BYTES }).tooLarge).toBe(true);
    expect(parseCodeowners("* @a\n", { byteLength: CODEOWNERS_MAX_BYTES - 1 }).tooLarge).toBe(false);
  });
});

const PATCH_TOKENS = ["@@ -1,3 +1,4 @@", "@@ -0,0 +1 @@", "@@ -99999999999999999999 +1 @@", "@@ @@", "@@", "\n", "\r\n", "+", "-", " ", "\\ No newline at end of file", "+const a = 1;", "-old", " ctx", "+https://example.com/x", "+AKIA", "+\"scripts\": {", "+}", "\u0000", "\t"];

describe("fuzz: the patch parser (patches are the agent's)", () => {
  it("never throws; every line it returns is a +, - or context line of a hunk, numbered from its header", () => {
    fc.assert(
      fc.property(tokenSoup(PATCH_TOKENS, 150), (patch) => {
        const lines = timed(() => parsePatch(patch));
        const inputLines = patch.split("\n").length;
        expect(lines.length).toBeLessThanOrEqual(inputLines);
        let hunk = 0;
        for (const l of lines) {
          expect(["add", "del", "ctx"]).toContain(l.kind);
          expect(l.hunk).toBeGreaterThanOrEqual(hunk);
          hunk = l.hunk;
          expect(Number.isFinite(l.line)).toBe(true);
          expect(l.text.includes("\n")).toBe(false);
        }
      }),
      { numRuns: 50_000 * SCALE },
    );
  });
});

/** The inputs that took 10 to 18 s before parsing was made linear (uniqueKeys was pairwise, every error was located). */
describe("hostile gate files at the size limit", () => {
  const N = MAX_POLICY_BYTES - 200;
  const lines = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join("\n");
  const cases: Array<[string, string]> = [
    ["30,000 top-level keys", lines(30_000, (i) => `k${i}: 1`).slice(0, N)],
    ["20,000 repeated keys in one rule", `risk:\n  rules:\n    - id: a\n${lines(20_000, () => "      x: 1")}`.slice(0, N)],
    ["20,000 unknown keys in one rule", `risk:\n  rules:\n    - id: a\n      level: high\n      paths: [a]\n${lines(20_000, (i) => `      u${i}: 1`)}`.slice(0, N)],
    ["20,000 aliases of one anchor", `a: &x ${"y".repeat(100)}\n${lines(20_000, (i) => `k${i}: *x`)}`.slice(0, N)],
    ["billion laughs", ["a: &a [x,x,x,x,x,x,x,x,x]", ...Array.from({ length: 9 }, (_, i) => `${"bcdefghij"[i]}: &${"bcdefghij"[i]} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(",")}]`)].join("\n")],
    ["130,000-deep flow nesting", `x: ${"[".repeat(N / 2 - 10)}${"]".repeat(N / 2 - 10)}`],
    ["8,000 invalid rules", `risk:\n  rules:\n${lines(8_000, (i) => `    - {id: r${i}, level: nope}`)}`.slice(0, N)],
    ["a 256 KB key", `${"a".repeat(N)}: 1`],
  ];

  it.each(cases)("invariant 1 (show the errors, bounded): %s gives at most 51 errors, in bounded time", (_name, text) => {
    const start = performance.now();
    const result = parsePolicy(text);
    // Generous against a loaded CI machine; these took 0.1-1.5 s here once linear, 10-18 s before.
    expect(performance.now() - start).toBeLessThan(8000);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.length).toBeLessThanOrEqual(MAX_POLICY_ERRORS + 1);
  });

  it("invariant 1 (show the errors): a repeated key is reported with its line, as the yaml package did", () => {
    const result = parsePolicy("scope: agents\nrisk:\n  extends: none\n  extends: recommended\n");
    expect(result).toEqual({ ok: false, errors: [{ file: ".github/agent-gate.yml", line: 4, path: "", message: 'invalid YAML: map keys must be unique ("extends" is repeated)' }] });
  });

  it("invariant 1 (show the errors): nesting deeper than 32 levels is refused with its line", () => {
    const result = parsePolicy(`agents:\n  labels: ${"[".repeat(40)}x${"]".repeat(40)}\n`);
    expect(result).toMatchObject({ ok: false, errors: [{ line: 2, message: "nested deeper than 32 levels" }] });
  });

  it("invariant 1 (show the errors): thousands of errors are cut to 50 and a count of the rest", () => {
    const result = parsePolicy(lines(3000, (i) => `k${i}: 1`));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(MAX_POLICY_ERRORS + 1);
    expect(result.errors[0]).toMatchObject({ line: 1, message: 'unknown key "k0"' });
    expect(result.errors.at(-1)).toEqual({ file: ".github/agent-gate.yml", line: null, path: "", message: "…and 2950 more errors" });
  });
});
