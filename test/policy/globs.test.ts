/**
 * The fast paths of the engine must not change a single answer: glob matching with a literal prefilter, the
 * secret and host prefilters, and the index-walking patch parser are each checked against the plain
 * implementation they replaced, over real repository paths and hostile inputs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { detectNewHosts, mayHoldHosts } from "../../src/policy/detectors/external-hosts.js";
import { detectSecrets, mayHoldSecrets } from "../../src/policy/detectors/secrets.js";
import { GLOB_OPTIONS, globMatcher } from "../../src/policy/globs.js";
import { bestLiterals, literalTester, requiredLiterals } from "../../src/shared/literals.js";
import { parsePatch } from "../../src/policy/patch.js";
import type { PatchLine } from "../../src/policy/patch.js";
import { GATE_CONTROL_PATHS, RECOMMENDED_RULES } from "../../src/policy/preset.js";

/** The matcher before the prefilter: one case-insensitive alternation of picomatch's regexes. */
function referenceMatcher(globs: readonly string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  const re = new RegExp(globs.map((g) => `(?:${picomatch.makeRe(g, GLOB_OPTIONS).source})`).join("|"), "i");
  return (path) => re.test(path);
}

/** The parser before the index walk. */
function referenceParsePatch(patch: string): PatchLine[] {
  const out: PatchLine[] = [];
  let oldLine = 0;
  let newLine = 0;
  let hunk = -1;
  for (const raw of patch.split("\n")) {
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.startsWith("@@")) {
      const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
      if (m) {
        oldLine = Number(m[1]);
        newLine = Number(m[2]);
        hunk++;
      }
      continue;
    }
    if (hunk < 0) continue;
    const c = text[0];
    if (c === "+") out.push({ kind: "add", text: text.slice(1), line: newLine++, hunk });
    else if (c === "-") out.push({ kind: "del", text: text.slice(1), line: oldLine++, hunk });
    else if (c === " ") {
      out.push({ kind: "ctx", text: text.slice(1), line: newLine++, hunk });
      oldLine++;
    }
  }
  return out;
}

const REAL = join(import.meta.dirname, "../fixtures/codeowners/real");
const realPaths = readdirSync(REAL, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readFileSync(join(REAL, d.name, "files.txt"), "utf8").split("\n").filter(Boolean));

/** Paths aimed at the edges: case, dot segments, trailing and doubled slashes, characters whose case folds oddly. */
const TRICKY = [
  "",
  "package-lock.json",
  "PACKAGE-LOCK.JSON",
  "a/Package-Lock.Json",
  "a/./package-lock.json",
  "a/../package-lock.json",
  "../package-lock.json",
  "./package-lock.json",
  "a//package-lock.json",
  "/package-lock.json",
  "infra/main.tf/",
  "infra/main.TF",
  "x.tf.json",
  ".github/workflows/ci.yml",
  ".GITHUB/Workflows/ci.yml",
  ".github/workflows",
  ".github/workflows/",
  "src/auth/login.ts",
  "src/AUTH.ts",
  "src/user_auth.py",
  "src/user-sso.go",
  "src/\u212Auth/x.ts", // KELVIN SIGN: toLowerCase gives "k", a regex's `i` (without `u`) does not
  "src/\u017Fecurity/x.ts", // LATIN SMALL LETTER LONG S: upper-cases to "S"
  "src/\u0130am/x.ts", // LATIN CAPITAL LETTER I WITH DOT ABOVE: lower-cases to two code units
  "src/.env",
  "src/.env.example",
  "src/.ENV.local",
  "docs",
  "docs/",
  "DOCS/a.md",
  "migrations",
  "db/migrations/001.sql",
  "Dockerfile",
  "svc/dockerfile.prod",
  "compose.yaml",
  "compose.yml",
  "compose.yaaml",
  "secrets.yml",
  "x/secrets.YAML",
  "id_rsa.pub",
  "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/CLAUDE.md",
  "pkg/credentials.json",
  "pkg/my-credentials-prod.json",
  "tests/a.py",
  "a/test_b.py",
  "FooTest.java",
  "a\nb/package.json",
  "é/package.json",
];

const GLOB_LISTS: Array<[string, readonly string[]]> = [
  ["gate-control", GATE_CONTROL_PATHS],
  ...RECOMMENDED_RULES.flatMap((r): Array<[string, readonly string[]]> => [
    ...(r.paths ? [[`${r.id} paths`, r.paths] as [string, readonly string[]]] : []),
    ...(r.excludePaths ? [[`${r.id} excludePaths`, r.excludePaths] as [string, readonly string[]]] : []),
  ]),
  ["odd globs", ["./foo/bar", "a{1,3}b", "**/x/**", "foo/**/bar", "*.md", "[ab]c", "**/!(x).js", "**/*.+(ts|tsx)", "**/@(a|b)/c", "src/**", "**", "*", "?", "a\\*b", "**/é/*"]],
];

describe("globMatcher", () => {
  it.each(GLOB_LISTS)("%s: same answer as the plain alternation on every real and tricky path", (_name, globs) => {
    const fast = globMatcher(globs);
    const slow = referenceMatcher(globs);
    const paths = [...TRICKY, ...realPaths, ...realPaths.slice(0, 3000).map((p) => p.toUpperCase())];
    const differ = paths.filter((p) => fast(p) !== slow(p) || fast(p, p.toLowerCase()) !== slow(p));
    expect(differ).toEqual([]);
  });

  it("matches the paths the globs are about (the prefilter lets them through)", () => {
    const m = globMatcher(RECOMMENDED_RULES.find((r) => r.id === "dependencies")!.paths!);
    expect(["package-lock.json", "a/b/PACKAGE.JSON", "x/requirements-dev.txt", "go.sum"].map((p) => m(p))).toEqual([true, true, true, true]);
    expect(["src/index.ts", "README.md", "lockfile.txt"].map((p) => m(p))).toEqual([false, false, false]);
  });
});

describe("requiredLiterals", () => {
  it.each<[RegExp, string[][]]>([
    [/abc/, [["abc"]]],
    [/aB?c/, [["a"], ["c"]]],
    [/a(?:bc|de)f/, [["a"], ["bc", "de"], ["f"]]],
    [/a(?:bc|d?)f/, [["a"], ["f"]]],
    [/x(?:ab)?y/, [["x"], ["y"]]],
    [/(?<!q)AKIA(?=z)/, [["akia"]]],
    [/\.tf\/?$/, [[".tf"]]],
    [/a\d+b\sc\bd/, [["a"], ["b"], ["c"], ["d"]]],
    [/a[xyz]b/, [["a"], ["b"]]],
    [/ab{2,3}c/, [["a"], ["c"]]],
    [/ab|c/, [["ab", "c"]]],
    [/ab|c*/, []],
    [/a\x41b/, []], // code point escapes are not understood: nothing is proven
    [/a(?<n>b)c/, []],
    [/a\u00e9b/, []],
    [/aéb/, [["a"], ["b"]]],
  ])("%s", (re, expected) => {
    expect(requiredLiterals(re.source)).toEqual(expected);
  });

  it("proves literals every match holds, for picomatch's regexes on real paths", () => {
    const globs = GLOB_LISTS.flatMap(([, g]) => g);
    for (const glob of globs) {
      const re = picomatch.makeRe(glob, GLOB_OPTIONS);
      const required = requiredLiterals(re.source);
      for (const p of [...TRICKY, ...realPaths.slice(0, 5000)]) {
        if (!re.test(p)) continue;
        const lower = p.toLowerCase();
        for (const set of required) expect(set.some((l) => lower.includes(l)), `${glob} ${p} ${set.join("|")}`).toBe(true);
      }
    }
  });

  it("bestLiterals picks the most selective set and ignores short ones", () => {
    expect(bestLiterals([["a"], ["secret"], ["ab", "cd"]], 2)).toEqual(["secret"]);
    expect(bestLiterals([["abc", "d"], ["xy"]], 2)).toEqual(["xy"]);
    expect(bestLiterals([["a"], ["."]], 2)).toBeNull();
  });
});

describe("secret and host prefilters", () => {
  const lines = [
    `const a = "AKIA${"Q7".repeat(8)}";`,
    `const b = "ghp_${"a1".repeat(18)}";`,
    `token: "${"Zq8vL2mN9xR4tY7wK1pB5sD3"}"`,
    `DB_PASSWORD=Zq8vL2mN9xR4tY7wK1pB5sD3`,
    `url = "postgres://admin:hunter2secret@db.internal.example.org/x"`,
    `key = "sk_live_${"4eC39HqLyjWDarjtT1zdp7dc"}"`,
    `-----BEGIN RSA PRIVATE KEY-----`,
    `const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";`,
    `fetch("https://api.stripe.com/v1/charges")`,
    `return value + 1;`,
    `import { thing } from "./thing";`,
    `aws_secret_access_key = "${"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"`,
  ];
  const patchOf = (ls: string[]) => `@@ -1,1 +1,${ls.length} @@\n ctx\n${ls.map((l) => `+${l}`).join("\n")}`;

  it("a patch the prefilter rules out holds no secret and no new host, one line at a time and all together", () => {
    const cases = [...lines.map((l) => [l]), lines, lines.slice(9, 11)];
    for (const ls of cases) {
      const patch = patchOf(ls);
      const parsed = parsePatch(patch);
      if (detectSecrets(parsed).length > 0) expect(mayHoldSecrets(patch), ls.join("\n")).toBe(true);
      if (detectNewHosts(parsed).length > 0) expect(mayHoldHosts(patch), ls.join("\n")).toBe(true);
    }
    // And the plain lines are ruled out, which is the point.
    expect(mayHoldSecrets(patchOf(lines.slice(9, 11)))).toBe(false);
    expect(mayHoldHosts(patchOf(lines.slice(9, 11)))).toBe(false);
  });

  it("still finds each secret kind (the per-line prefilter does not skip a pattern it must run)", () => {
    const kinds = lines.map((l) => detectSecrets(parsePatch(patchOf([l])))[0]?.what ?? null);
    expect(kinds).toEqual([
      "an AWS access key id",
      "a GitHub token",
      "a high-entropy secret assignment",
      "a high-entropy secret assignment",
      "a URL with a password",
      "a Stripe secret key",
      "a private key",
      "a JSON web token",
      null,
      null,
      null,
      "an AWS secret access key",
    ]);
  });
});

describe("parsePatch", () => {
  it("reads every patch as the split-based parser did", () => {
    const patches = [
      "",
      "\n",
      "+before any hunk\n@@ -1 +1 @@\n-a\n+b",
      "@@ -3,2 +3,3 @@ function x() {\r\n ctx\r\n-old\r\n+new\r\n+new2\r\n\\ No newline at end of file",
      "@@ -1,2 +1,2 @@\n a\n\n-b\n+c\n@@ -10 +10 @@\n-x\n+y\n",
      "@@ not a hunk @@\n+x\n@@ -5,0 +6,1 @@\n+\r\n+\r\r\n@\n@@",
      "@@ -1 +1 @@\n+\u2028line separator\n+tab\there\n \n-",
    ];
    for (const p of patches) expect(parsePatch(p), JSON.stringify(p)).toEqual(referenceParsePatch(p));
  });
});

describe("literalTester", () => {
  it("finds any literal, case-insensitively when asked, in texts short and long", () => {
    const t = literalTester(["gh", "github_pat_", "AKIA", "hooks.slack.com", "x|y"], true);
    expect(["", "nothing here", "a".repeat(10_000)].map(t)).toEqual([false, false, false]);
    expect(["GH", "xakiax", `${"z".repeat(5000)}Hooks.Slack.Com`, "a x|y b", "github_pat_1"].map(t)).toEqual([true, true, true, true, true]);
    const exact = literalTester(["AKIA"], false);
    expect([exact("AKIA1"), exact("akia1")]).toEqual([true, false]);
    expect(literalTester([], true)("anything")).toBe(false);
  });
});
