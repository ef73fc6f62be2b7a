import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CODEOWNERS_ERROR_TEXT_MAX,
  CODEOWNERS_LOCATIONS,
  CODEOWNERS_MAX_BYTES,
  isCodeownersPath,
  isValidOwner,
  loadCodeowners,
  parseCodeowners,
} from "../../src/policy/codeowners.js";
import { referenceOwners, referenceRules } from "../fixtures/codeowners/reference.js";

const docsExample = readFileSync(
  fileURLToPath(new URL("../fixtures/codeowners/github-docs-example.CODEOWNERS", import.meta.url)),
  "utf8",
);

/** Owners of `file` under a one-line CODEOWNERS, or null when the line does not match. */
function ownersUnder(line: string, file: string): string[] | null {
  const co = parseCodeowners(`${line}\n`);
  expect(co.errors).toEqual([]);
  return co.ownersOf(file)?.owners ?? null;
}

describe("GitHub's documented example CODEOWNERS, as one file", () => {
  const co = parseCodeowners(docsExample, { path: ".github/CODEOWNERS" });

  it("parses every rule line without errors", () => {
    expect(co.errors).toEqual([]);
    expect(co.ruleCount).toBe(14);
    expect(co.path).toBe(".github/CODEOWNERS");
    expect(co.tooLarge).toBe(false);
  });

  // Expected owners follow from "the last matching pattern takes the most precedence".
  it.each<[string, string[] | null, number]>([
    ["README.md", ["@global-owner1", "@global-owner2"], 6],
    ["src/deep/index.js", ["@js-owner"], 9], // the inline comment is not an owner
    ["main.go", ["docs@example.com"], 12],
    ["notes/todo.txt", ["@octo-org/octocats"], 15],
    // /build/logs/ (line 18) matches, but **/logs (line 33) comes later
    ["build/logs/app.log", ["@octocat"], 33],
    ["build/logs/2024/01/app.log", ["@octocat"], 33],
    ["build/output.js", ["@js-owner"], 9],
    // docs/* (line 21) matches, /docs/ (line 27) comes later
    ["docs/getting-started.md", ["@doctocat"], 27],
    ["docs/build-app/troubleshooting.md", ["@doctocat"], 27],
    ["lib/apps/main.rb", ["@octocat"], 24],
    ["apps/main/index.js", ["@octocat"], 40],
    ["apps/github/index.js", ["@doctocat"], 41],
    ["apps/github", ["@doctocat"], 41],
    ["scripts/deploy.sh", ["@doctocat", "@octocat"], 30],
    ["scripts/logs/run.txt", ["@octocat"], 33],
    ["deeply/nested/logs/a.txt", ["@octocat"], 33],
    ["Docs/getting-started.md", ["@global-owner1", "@global-owner2"], 6], // case-sensitive
  ])("%s -> %j (line %i)", (file, owners, line) => {
    const match = co.ownersOf(file);
    expect(match?.owners ?? null).toEqual(owners);
    expect(match?.line).toBe(line);
  });
});

describe("GitHub's documented examples, one rule at a time", () => {
  it("* owns everything", () => {
    expect(ownersUnder("* @global-owner1", "a/b/c.txt")).toEqual(["@global-owner1"]);
    expect(ownersUnder("* @global-owner1", ".github/workflows/ci.yml")).toEqual(["@global-owner1"]);
  });
  it("*.js matches .js files at any depth, nothing else", () => {
    expect(ownersUnder("*.js @js-owner", "index.js")).toEqual(["@js-owner"]);
    expect(ownersUnder("*.js @js-owner", "a/b/index.js")).toEqual(["@js-owner"]);
    expect(ownersUnder("*.js @js-owner", "a/b/index.jsx")).toBeNull();
    expect(ownersUnder("*.js @js-owner", "a/b/index.ts")).toBeNull();
  });
  it("/build/logs/ owns build/logs at the root and its subdirectories only", () => {
    expect(ownersUnder("/build/logs/ @doctocat", "build/logs/a.log")).toEqual(["@doctocat"]);
    expect(ownersUnder("/build/logs/ @doctocat", "build/logs/x/y/a.log")).toEqual(["@doctocat"]);
    expect(ownersUnder("/build/logs/ @doctocat", "src/build/logs/a.log")).toBeNull();
    expect(ownersUnder("/build/logs/ @doctocat", "build/logs")).toBeNull(); // a file named logs is not the directory
  });
  it("docs/* matches docs/getting-started.md but not docs/build-app/troubleshooting.md", () => {
    expect(ownersUnder("docs/*  docs@example.com", "docs/getting-started.md")).toEqual(["docs@example.com"]);
    expect(ownersUnder("docs/*  docs@example.com", "docs/build-app/troubleshooting.md")).toBeNull();
    expect(ownersUnder("docs/*  docs@example.com", "src/docs/getting-started.md")).toBeNull(); // slash in the middle anchors
  });
  it("apps/ matches an apps directory anywhere", () => {
    expect(ownersUnder("apps/ @octocat", "apps/a.js")).toEqual(["@octocat"]);
    expect(ownersUnder("apps/ @octocat", "x/y/apps/z/a.js")).toEqual(["@octocat"]);
    expect(ownersUnder("apps/ @octocat", "x/apps")).toBeNull();
    expect(ownersUnder("apps/ @octocat", "x/myapps/a.js")).toBeNull();
  });
  it("/docs/ matches the root docs directory and its subdirectories", () => {
    expect(ownersUnder("/docs/ @doctocat", "docs/a/b/c.md")).toEqual(["@doctocat"]);
    expect(ownersUnder("/docs/ @doctocat", "x/docs/a.md")).toBeNull();
  });
  it("**/logs matches /build/logs, /scripts/logs and /deeply/nested/logs", () => {
    for (const f of ["build/logs/a", "scripts/logs/b", "deeply/nested/logs/c/d", "logs/e"]) {
      expect(ownersUnder("**/logs @octocat", f)).toEqual(["@octocat"]);
    }
    expect(ownersUnder("**/logs @octocat", "build/logsx/a")).toBeNull();
  });
  it("a line with no owners clears ownership (/apps/github)", () => {
    const co = parseCodeowners("/apps/ @octocat\n/apps/github\n");
    expect(co.ownersOf("apps/main/index.js")).toEqual({ owners: ["@octocat"], line: 1, pattern: "/apps/" });
    expect(co.ownersOf("apps/github/index.js")).toEqual({ owners: [], line: 2, pattern: "/apps/github" });
    expect(co.ownersOf("README.md")).toBeNull(); // no line matches: null, not []
  });
  it("/apps/github with its own owner", () => {
    const co = parseCodeowners("/apps/ @octocat\n/apps/github @doctocat\n");
    expect(co.ownersOf("apps/github/x/y.js")?.owners).toEqual(["@doctocat"]);
    expect(co.ownersOf("apps/githubber/y.js")?.owners).toEqual(["@octocat"]);
  });
});

describe("pattern semantics", () => {
  // [pattern, path, matches]; cases from gitignore rules and GitHub's docs.
  it.each<[string, string, boolean]>([
    ["foo", "foo", true],
    ["foo", "a/b/foo", true],
    ["foo", "a/foo/b", true],
    ["foo", "foo.txt", false],
    ["/foo", "foo/bar", true],
    ["/foo", "bar/foo", false],
    ["foo/bar", "foo/bar/baz", true],
    ["foo/bar", "x/foo/bar", false],
    ["foo/bar/", "foo/bar", false],
    ["/*", "README.md", true],
    ["/*", "src/a.js", false],
    ["*/", "README.md", false],
    ["*/", "src/a.js", true],
    ["f*", "bar/foo/baz", true],
    ["f?o", "foo", true],
    ["f?o", "fooo", false],
    ["f?o", "f/o", false], // ? does not cross /
    ["src/*.js", "src/a.js", true],
    ["src/*.js", "src/x/a.js", false], // * does not cross /
    ["src/**/*.js", "src/x/y/a.js", true],
    ["src/**/*.js", "src/a.js", true], // ** matches zero directories
    ["src/**", "src", false],
    ["src/**/", "src/a.ts", false], // the directories beneath src, as in gitignore
    ["src/**/", "src/x/a.ts", true],
    ["**/", "README.md", false],
    ["**/", "src/a.ts", true],
    ["src/**", "src/a/b", true],
    ["**", "anything/at/all", true],
    ["a/**/b", "a/b", true],
    ["a/**/b", "a/x/y/b/c", true],
    ["a/**/b", "x/a/b", false],
    ["*.min.*", "dist/app.min.js", true],
    ["**.swift", "a/b.swift", true], // ** inside a segment is an ordinary *
    ["**.swift", "a/b/c", false],
    ["/generated/**.swift", "generated/a.swift", true],
    ["/generated/**.swift", "generated/x/a.swift", false],
    ["path\\ with\\ spaces/", "path with spaces/a.txt", true],
    ["/release\\ notes/", "release notes/v1.md", true],
    ["\\*literal", "*literal", true],
    ["\\*literal", "xliteral", false],
    ["pages/\\[org\\]/index.tsx", "pages/[org]/index.tsx", true],
    ["\\!important", "!important", true],
    ["foo#bar", "foo#bar", true], // # only starts a comment at the start of a token
    ["*", ".env", true], // gitignore * matches dotfiles
    ["*.JS", "a.js", false],
    ["/Docs/", "docs/a.md", false],
    ["😀?.md", "😀é.md", true], // ? is one character, not one UTF-16 unit
  ])("%s vs %s -> %s", (pattern, file, matches) => {
    expect(ownersUnder(`${pattern} @o`, file) !== null).toBe(matches);
  });

  it("paths are case-sensitive", () => {
    const co = parseCodeowners("/src/ @lower\n/SRC/ @upper\n*.MD @md\n");
    expect(co.ownersOf("src/a.ts")?.owners).toEqual(["@lower"]);
    expect(co.ownersOf("SRC/a.ts")?.owners).toEqual(["@upper"]);
    expect(co.ownersOf("Src/a.ts")).toBeNull();
    expect(co.ownersOf("README.md")).toBeNull();
    expect(co.ownersOf("README.MD")?.owners).toEqual(["@md"]);
  });

  it("the last matching line wins, not the most specific", () => {
    const co = parseCodeowners("/src/payments/ @payments\n*.ts @typescript\n");
    expect(co.ownersOf("src/payments/charge.ts")).toMatchObject({ owners: ["@typescript"], line: 2 });
    expect(co.ownersOf("src/payments/README.md")).toMatchObject({ owners: ["@payments"], line: 1 });
    const reversed = parseCodeowners("*.ts @typescript\n/src/payments/ @payments\n");
    expect(reversed.ownersOf("src/payments/charge.ts")).toMatchObject({ owners: ["@payments"], line: 2 });
  });

  it("owners on separate lines for one pattern: only the last line counts", () => {
    const co = parseCodeowners("*.py @alice\n*.py @bob\n");
    expect(co.ownersOf("a.py")?.owners).toEqual(["@bob"]);
  });

  it("a leading slash in the file path is tolerated", () => {
    const co = parseCodeowners("/src/ @a\n");
    expect(co.ownersOf("/src/x.ts")?.owners).toEqual(["@a"]);
    expect(co.ownersOf("")).toBeNull();
  });

  it("comments, blank lines, CRLF, BOM and inline comments", () => {
    const co = parseCodeowners("\uFEFF# comment\r\n\r\n   # indented comment\r\n*.js @a @b # trailing #comment\r\n/x #no owners\r\n\t\n");
    expect(co.errors).toEqual([]);
    expect(co.rules).toEqual([
      { line: 4, pattern: "*.js", owners: ["@a", "@b"] },
      { line: 5, pattern: "/x", owners: [] },
    ]);
  });

  it("hostile patterns stay fast (no exponential backtracking)", () => {
    const co = parseCodeowners(`${"*a".repeat(40)}*b @x\n${"**/a/".repeat(30)}**/b @y\n`);
    expect(co.errors).toEqual([]);
    const long = "a".repeat(5000);
    expect(co.ownersOf(long)).toBeNull();
    expect(co.ownersOf(Array.from({ length: 300 }, () => "a").join("/"))).toBeNull();
  });
});

describe("differential: random patterns against the gitignore-based reference", () => {
  it("agrees on every generated pattern x path pair (seeded)", () => {
    let seed = 20240601;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const parts = ["a", "b", "c", "*", "**", "a*", "*.js", "?b", "*b*", "b?", "\\*b", "a\\ b"] as const;
    const names = ["a", "b", "c", "a.js", "ab", "bb", "cb", "*b", "a b", "A"] as const;
    let compared = 0;
    const differences: string[] = [];
    for (let i = 0; i < 3000; i++) {
      let pattern = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(parts)).join("/");
      if (random() < 0.3) pattern = `/${pattern}`;
      if (random() < 0.3) pattern = `${pattern}/`;
      const text = `${pattern} @o\n`;
      const co = parseCodeowners(text);
      if (pattern.includes("***")) {
        expect(co.errors).toHaveLength(1);
        continue;
      }
      expect(co.errors).toEqual([]);
      const ref = referenceRules(text);
      for (let j = 0; j < 20; j++) {
        const file = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(names)).join("/");
        const ours = co.ownersOf(file) !== null;
        const theirs = referenceOwners(ref, file) !== null;
        compared++;
        if (ours !== theirs) differences.push(`${pattern} vs ${file}: ours ${ours}, reference ${theirs}`);
      }
    }
    expect(compared).toBeGreaterThan(50_000);
    expect(differences.slice(0, 10)).toEqual([]);
  });
});

describe("the three gitignore features GitHub does not support", () => {
  it("! negation: the line is reported and skipped", () => {
    const co = parseCodeowners("* @all\n!*.md @nobody\n");
    expect(co.errors).toEqual([
      expect.objectContaining({ line: 2, text: "!*.md @nobody", message: expect.stringMatching(/negation/i) }),
    ]);
    expect(co.ruleCount).toBe(1);
    expect(co.ownersOf("README.md")?.owners).toEqual(["@all"]);
  });

  it("[ ] character ranges: the line is reported and skipped", () => {
    const co = parseCodeowners("* @all\nPython/ceval*.[ch] @markshannon\n");
    expect(co.errors).toEqual([
      expect.objectContaining({ line: 2, column: 15, message: expect.stringMatching(/character ranges/i) }),
    ]);
    expect(co.ownersOf("Python/ceval.c")?.owners).toEqual(["@all"]);
    expect(co.ownersOf("Python/ceval.[ch]")?.owners).toEqual(["@all"]);
    // A lone ] is as invalid as a pair.
    expect(parseCodeowners("a]b @x\n").errors).toHaveLength(1);
  });

  it("\\# escaping of a leading #: the line is reported and skipped", () => {
    const co = parseCodeowners("* @all\n\\#notes.md @hash\n");
    expect(co.errors).toEqual([
      expect.objectContaining({ line: 2, message: expect.stringMatching(/leading "#"/) }),
    ]);
    expect(co.ownersOf("#notes.md")?.owners).toEqual(["@all"]);
  });
});

describe("invalid lines are reported with line numbers and skipped", () => {
  const text = [
    "* @org/all", // 1
    "", // 2
    "/src/ user-without-at", // 3
    "/lib/ @ok @bad!name", // 4
    "/ @root", // 5
    "/docs/ @docs", // 6
    "a//b @x", // 7
    "trailing\\", // 8
    "***/x @x", // 9
    "/lib/ @ChrisCoxArt@colourbill-ctrl", // 10
  ].join("\n");
  const co = parseCodeowners(text);

  it("each invalid line is reported once, with its number and text", () => {
    expect(co.errors.map((e) => e.line)).toEqual([3, 4, 5, 7, 8, 9, 10]);
    expect(co.errors[0]).toEqual({
      line: 3,
      column: 7,
      text: "/src/ user-without-at",
      message: 'Invalid owner "user-without-at": expected @user, @org/team or an email address.',
    });
    expect(co.errors[2]?.message).toMatch(/never matches anything/);
  });

  it("a huge invalid line is reported with its text cut short", () => {
    const huge = `/x/ ${"y".repeat(100_000)}`;
    const [error] = parseCodeowners(huge).errors;
    expect(error?.text.length).toBe(CODEOWNERS_ERROR_TEXT_MAX + 1);
    expect(error?.message.length).toBeLessThan(200);
  });

  it("the valid lines still apply; a line with one bad owner is skipped entirely", () => {
    expect(co.ruleCount).toBe(2);
    expect(co.ownersOf("src/a.ts")?.owners).toEqual(["@org/all"]);
    expect(co.ownersOf("lib/a.ts")?.owners).toEqual(["@org/all"]);
    expect(co.ownersOf("docs/a.md")?.owners).toEqual(["@docs"]);
  });
});

describe("owners", () => {
  it.each<[string, boolean]>([
    ["@octocat", true],
    ["@octo-cat", true],
    ["@user_emu", true], // managed-user logins carry _shortcode
    ["@octo-org/octocats", true],
    ["@DataDog/apm-python", true],
    ["@org/team.name", true],
    ["docs@example.com", true],
    ["first.last+tag@sub.example.co.uk", true],
    ["octocat", false],
    ["@", false],
    ["@-leading", false],
    ["@org/", false],
    ["@org/team/extra", false],
    ["@a@b", false],
    ["user@localhost", false],
    ["#comment", false],
    ["", false],
    [`@${"a".repeat(400)}`, false],
  ])("%s -> %s", (owner, valid) => {
    expect(isValidOwner(owner)).toBe(valid);
  });
});

describe("locations and size", () => {
  it("uses GitHub's order: .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS", () => {
    expect(CODEOWNERS_LOCATIONS).toEqual([".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]);
    const all = loadCodeowners({
      "docs/CODEOWNERS": "* @docs",
      CODEOWNERS: "* @root",
      ".github/CODEOWNERS": "* @github",
    });
    expect(all.path).toBe(".github/CODEOWNERS");
    expect(all.ownersOf("x")?.owners).toEqual(["@github"]);
    const two = loadCodeowners({ "docs/CODEOWNERS": "* @docs", CODEOWNERS: "* @root", ".github/CODEOWNERS": undefined });
    expect(two.path).toBe("CODEOWNERS");
    expect(two.ownersOf("x")?.owners).toEqual(["@root"]);
    const docsOnly = loadCodeowners({ "docs/CODEOWNERS": "* @docs" });
    expect(docsOnly.path).toBe("docs/CODEOWNERS");
  });

  it("an empty file at an earlier location still wins (it exists)", () => {
    const co = loadCodeowners({ ".github/CODEOWNERS": "", CODEOWNERS: "* @root" });
    expect(co.path).toBe(".github/CODEOWNERS");
    expect(co.ruleCount).toBe(0);
    expect(co.ownersOf("x")).toBeNull();
  });

  it("no file: path null, no rules", () => {
    const co = loadCodeowners({});
    expect(co).toMatchObject({ path: null, tooLarge: false, ruleCount: 0, errors: [] });
    expect(co.ownersOf("a")).toBeNull();
  });

  it("a file of 3 MB or more is not loaded, and says so", () => {
    const line = "/some/long/directory/path/for/padding/ @org/team\n";
    const big = line.repeat(Math.ceil(CODEOWNERS_MAX_BYTES / line.length));
    expect(big.length).toBeGreaterThanOrEqual(CODEOWNERS_MAX_BYTES);
    const co = loadCodeowners({ ".github/CODEOWNERS": big, CODEOWNERS: "* @root" });
    expect(co).toMatchObject({ path: ".github/CODEOWNERS", tooLarge: true, ruleCount: 0, errors: [] });
    expect(co.ownersOf("some/long/directory/path/for/padding/x")).toBeNull();
  });

  it("the limit is in bytes: exactly 3 MB is too large, one byte less is loaded", () => {
    expect(parseCodeowners("* @a", { byteLength: CODEOWNERS_MAX_BYTES }).tooLarge).toBe(true);
    const under = parseCodeowners("* @a", { byteLength: CODEOWNERS_MAX_BYTES - 1 });
    expect(under.tooLarge).toBe(false);
    expect(under.ownersOf("x")?.owners).toEqual(["@a"]);
    // Multi-byte text: 1.1 M characters of 3 bytes each is over the limit though under 3 M characters.
    const wide = `# ${"€".repeat(1_100_000)}\n* @a\n`;
    expect(wide.length).toBeLessThan(CODEOWNERS_MAX_BYTES);
    expect(parseCodeowners(wide).tooLarge).toBe(true);
  });

  it("recognises the three locations as CODEOWNERS paths", () => {
    expect(CODEOWNERS_LOCATIONS.every(isCodeownersPath)).toBe(true);
    expect(isCodeownersPath("src/CODEOWNERS")).toBe(false);
    expect(isCodeownersPath(".github/codeowners")).toBe(false);
  });
});
