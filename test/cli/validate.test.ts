import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, tempDir } from "./git-repo.js";

const dirs: string[] = [];
function workspace(files: Record<string, string>): string {
  const dir = tempDir("agent-gate-validate-");
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("agent-gate validate", () => {
  it("a valid policy at the default path: exit 0", async () => {
    const dir = workspace({ ".github/agent-gate.yml": "scope: all\n" });
    expect(await cli(["validate"], dir)).toEqual({ code: 0, stdout: ".github/agent-gate.yml: valid (recommended preset + 0 rules of its own)", stderr: "" });
  });

  it("an invalid policy: file:line: message per error, exit 1", async () => {
    const dir = workspace({ "policy.yml": "scope: agents\napprovals:\n  count:\n    high: 0\nlabel: {}\n" });
    const res = await cli(["validate", "policy.yml"], dir);
    expect(res.code).toBe(1);
    expect(res.stdout.split("\n")).toEqual([
      "policy.yml:4: approvals.count.high: expected a number >= 1",
      'policy.yml:5: label: unknown key "label" (did you mean "labels"?)',
    ]);
  });

  it("--codeowners reports invalid lines as file:line: message, exit 1", async () => {
    const dir = workspace({ ".github/CODEOWNERS": "* @acme/dev\n!/docs @bob\n/src not-an-owner\n" });
    const res = await cli(["validate", "--codeowners", ".github/CODEOWNERS"], dir);
    expect(res.code).toBe(1);
    const lines = res.stdout.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\.github\/CODEOWNERS:2: /);
    expect(lines[1]).toMatch(/^\.github\/CODEOWNERS:3: Invalid owner "not-an-owner"/);
  });

  it("a valid CODEOWNERS with the policy checked alongside: exit 0", async () => {
    const dir = workspace({ ".github/agent-gate.yml": "scope: agents\n", "CODEOWNERS": "* @acme/dev\n" });
    const res = await cli(["validate", "--codeowners", "CODEOWNERS"], dir);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("CODEOWNERS: valid (1 rule)");
    expect(res.stdout).toContain(".github/agent-gate.yml: valid");
  });

  it("a missing file is a usage error: exit 2", async () => {
    const dir = workspace({});
    expect(await cli(["validate"], dir)).toEqual({ code: 2, stdout: "", stderr: "agent-gate: cannot read .github/agent-gate.yml: no such file" });
    expect((await cli(["validate", "--codeowners", "nope"], dir)).code).toBe(2);
  });
});
