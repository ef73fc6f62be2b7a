/**
 * Invariant 2, what GitHub's files API does not show: submodules (gitlinks and .gitmodules) and file modes, judged
 * by the engine. The missing-patch cases are in risk.test.ts; the App's and the CLI's in test/app and test/cli.
 */
import { describe, expect, it } from "vitest";
import { riskAnnotations } from "../../src/policy/annotations.js";
import { assessRisk } from "../../src/policy/risk.js";
import type { ChangedFile } from "../../src/policy/types.js";
import { file, policy, pr, withAdded } from "./engine-helpers.js";

const OLD = "1".repeat(40);
const NEW = "2".repeat(40);
const assess = (files: ChangedFile[], p = policy()) => assessRisk({ policy: p, files, pr: pr() });
const bump = (path: string, extra: Partial<ChangedFile> = {}) =>
  file(path, { additions: 1, deletions: 1, changes: 2, patch: `@@ -1 +1 @@\n-Subproject commit ${OLD}\n+Subproject commit ${NEW}`, ...extra });

describe("invariant 2: submodules bring in code from elsewhere", () => {
  it("invariant 2: a gitlink bump as GitHub's files API shows it is high and names the old and new commit", () => {
    const { risk, findings } = assess([bump("vendor/lib")]);
    expect(risk).toBe("high");
    const f = findings.find((x) => x.rule === "submodule");
    expect(f?.paths).toEqual(["vendor/lib"]);
    expect(f?.message).toContain(`submodule moved from ${OLD} to ${NEW} (vendor/lib)`);
  });

  it("invariant 2: a new gitlink is high, named with its commit, from its mode or (no modes) from its patch", () => {
    const added = { status: "added", additions: 1, deletions: 0, changes: 1, patch: `@@ -0,0 +1 @@\n+Subproject commit ${NEW}` };
    for (const extra of [added, { ...added, mode: { new: "160000" } }]) {
      const f = assess([file("third_party/x", extra)]).findings.find((x) => x.rule === "submodule");
      expect(f?.level).toBe("high");
      expect(f?.message).toContain(`a new submodule at ${NEW} (third_party/x)`);
    }
  });

  it("invariant 2: a gitlink known by its mode is high even without a patch", () => {
    const f = assess([file("vendor/lib", { mode: { old: "160000", new: "160000" }, patch: undefined, additions: 0, changes: 0 })]).findings;
    expect(f.find((x) => x.rule === "submodule")?.message).toContain("submodule changed (vendor/lib)");
  });

  it("invariant 2: a changed submodule URL names the old and the new source, without credentials", () => {
    const patch = ['@@ -1,3 +1,3 @@', ' [submodule "lib"]', " \tpath = vendor/lib", "-\turl = https://github.com/acme/lib.git", "+\turl = https://bot:ghp_secretsecret@evil.example/lib.git"].join("\n");
    const { findings } = assess([file(".gitmodules", { additions: 1, deletions: 1, changes: 2, patch })]);
    const f = findings.find((x) => x.rule === "submodule");
    expect(f?.level).toBe("high");
    // The token is the secret detector's to report (critical); the submodule finding must not repeat it.
    expect(findings.find((x) => x.rule === "secret-in-diff")?.level).toBe("critical");
    expect(f?.message).toContain("submodule URL changed from https://github.com/acme/lib.git to https://evil.example/lib.git at .gitmodules:3");
    expect(JSON.stringify(findings)).not.toContain("ghp_secretsecret");
    expect(f?.locations).toEqual([{ path: ".gitmodules", line: 3, what: expect.stringContaining("evil.example") }]);
  });

  it("invariant 2: a new submodule in .gitmodules names its URL; a change without a URL line is still high", () => {
    const added = withAdded(".gitmodules", ['[submodule "x"]', "\tpath = x", '\tURL = "git@github.com:other/x.git"']);
    expect(assess([added]).findings.find((x) => x.rule === "submodule")?.message).toContain("a new submodule URL git@github.com:other/x.git at .gitmodules:3");
    const branchOnly = withAdded("sub/.gitmodules", ["\tbranch = main"]);
    const f = assess([branchOnly]).findings.find((x) => x.rule === "submodule");
    expect(f?.level).toBe("high");
    expect(f?.message).toContain("submodule configuration changed (sub/.gitmodules)");
  });

  it("invariant 2: a .gitmodules renamed away is judged under its old path", () => {
    const moved = file("gitmodules.bak", { status: "renamed", previous_filename: ".gitmodules", additions: 0, changes: 0, patch: undefined });
    expect(assess([moved]).findings.find((x) => x.rule === "submodule")?.paths).toEqual([".gitmodules", "gitmodules.bak"]);
  });

  it("invariant 2: a submodule finding annotates the .gitmodules URL line, never the gitlink (it has no lines)", () => {
    const patch = "@@ -0,0 +1 @@\n+\turl = https://evil.example/lib.git";
    const annotations = riskAnnotations(assess([bump("vendor/lib"), file(".gitmodules", { patch })]).findings);
    const mine = annotations.filter((a) => a.title?.includes("submodule"));
    expect(mine.map((a) => [a.path, a.start_line])).toEqual([[".gitmodules", 1]]);
    expect(riskAnnotations(assess([bump("vendor/lib")]).findings).filter((a) => a.path === "vendor/lib")).toEqual([]);
  });
});

describe("invariant 2: file modes", () => {
  const link = (path: string, target: string, extra: Partial<ChangedFile> = {}) =>
    file(path, { status: "added", additions: 1, changes: 1, mode: { new: "120000" }, patch: `@@ -0,0 +1 @@\n+${target}\n\\ No newline at end of file`, ...extra });
  const symlinkFinding = (files: ChangedFile[]) => assess(files).findings.find((f) => f.rule === "new-symlink");

  it.each([
    ["a relative path past the root", "docs/x", "../../etc/passwd"],
    ["an absolute path", "docs/x", "/etc/shadow"],
    ["a home directory", "docs/x", "~/.ssh/id_rsa"],
    ["a Windows drive", "docs/x", "C:\\Windows\\System32"],
  ])("invariant 2: a new symlink to %s is high and named as outside the repository", (_name, path, target) => {
    const f = symlinkFinding([link(path, target)]);
    expect(f?.level).toBe("high");
    expect(f?.message).toContain(`a new symbolic link to ${target} (outside the repository) (${path})`);
  });

  it("invariant 2: a symlink is judged under the path it points to: a link to a workflow is gate-control", () => {
    const { risk, findings } = assess([link("docs/ci.yml", "../.github/workflows/ci.yml")]);
    expect(risk).toBe("critical");
    expect(findings.find((f) => f.rule === "gate-control")?.paths).toEqual(["docs/ci.yml", ".github/workflows/ci.yml"]);
    expect(symlinkFinding([link("docs/ci.yml", "../.github/workflows/ci.yml")])?.message).toContain("a new symbolic link to .github/workflows/ci.yml (../.github/workflows/ci.yml)");
  });

  it("invariant 2: a link into .git, at the repository root, or pointed elsewhere says so", () => {
    expect(symlinkFinding([link("x", ".git/config")])?.message).toContain("to .git/config, inside .git");
    expect(symlinkFinding([link("a/b", "..")])?.message).toContain("to .. (the repository's root)");
    const moved = file("docs/x", { mode: { old: "120000", new: "120000" }, additions: 1, deletions: 1, changes: 2, patch: "@@ -1 +1 @@\n-README.md\n+../secrets.env" });
    const f = assess([moved]).findings;
    expect(f.find((x) => x.rule === "new-symlink")?.message).toContain("a symbolic link pointed elsewhere to secrets.env");
    // The target is a secret file by its name: judged as one.
    expect(f.find((x) => x.rule === "secret-file")?.paths).toContain("secrets.env");
  });

  it("invariant 2: a mode-only change is a new executable, not a binary file", () => {
    const chmod = file("scripts/run.sh", { status: "changed", additions: 0, deletions: 0, changes: 0, patch: undefined, mode: { old: "100644", new: "100755" } });
    const { risk, findings } = assess([chmod]);
    expect(risk).toBe("medium");
    expect(findings.map((f) => f.rule)).toEqual(["new-executable"]);
    // Without modes (what the files API alone shows) the same entry is taken as binary: the gap modes close.
    const { mode: _omit, ...noModes } = chmod;
    expect(assess([noModes]).findings.map((f) => f.rule)).toEqual(["binary-file"]);
  });

  it("invariant 2: an edited file whose executable bit was set is a new executable; an executable edited is not", () => {
    expect(assess([file("tools/gen.py", { mode: { old: "100644", new: "100755" } })]).findings.map((f) => f.rule)).toContain("new-executable");
    expect(assess([file("tools/gen.py", { mode: { old: "100755", new: "100755" } })]).findings.map((f) => f.rule)).not.toContain("new-executable");
  });
});
