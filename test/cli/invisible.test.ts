/**
 * Invariant 2 in the CLI, on a real temporary git repository: a missing patch, submodules (gitlinks made with
 * git's own plumbing, `.gitmodules`) and file modes, judged by `agent-gate evaluate`.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/types.js";
import { cli, tempRepo } from "./git-repo.js";
import type { TempRepo } from "./git-repo.js";

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

/** main with one file; returns the repo on a new branch agent/run-1. */
function baseRepo(extra: (r: TempRepo) => void = () => {}): TempRepo {
  const r = tempRepo();
  repos.push(r);
  r.write("README.md", "# demo\n");
  extra(r);
  r.commit("base");
  r.git("checkout", "-q", "-b", "agent/run-1");
  return r;
}

async function evaluate(r: TempRepo): Promise<Decision> {
  const res = await cli(["evaluate", "--repo", r.dir, "--base", "main", "--format", "json"]);
  expect(res.stderr).toBe("");
  return JSON.parse(res.stdout) as Decision;
}

/** A gitlink (mode 160000) at `path` pointing at `sha`, as `git submodule add` leaves it in the index. */
function gitlink(r: TempRepo, path: string, sha: string): void {
  r.git("update-index", "--add", "--cacheinfo", `160000,${sha},${path}`);
}

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);

describe("invariant 2: submodules (CLI)", () => {
  it("invariant 2: a new submodule is high and names its URL and commit", async () => {
    const r = baseRepo();
    r.write(".gitmodules", '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://example.com/acme/lib.git\n');
    r.git("add", ".gitmodules");
    gitlink(r, "vendor/lib", SHA_A);
    r.git("commit", "-q", "--no-verify", "-m", "add lib");
    const d = await evaluate(r);
    expect(d.risk).toBe("high");
    const f = d.findings.find((x) => x.rule === "submodule");
    expect(f?.paths.sort()).toEqual([".gitmodules", "vendor/lib"]);
    expect(f?.message).toContain("a new submodule URL https://example.com/acme/lib.git at .gitmodules:3");
    expect(f?.message).toContain(`a new submodule at ${SHA_A} (vendor/lib)`);
    expect(d.conclusion).not.toBe("success");
  });

  it("invariant 2: a gitlink bump is high and names the old and the new commit", async () => {
    const r = baseRepo((b) => b.write(".gitmodules", '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://example.com/acme/lib.git\n'));
    // Plumbing, not `commit -A`: the gitlink has no checkout, and `add -A` would record it as deleted.
    r.git("checkout", "-q", "main");
    gitlink(r, "vendor/lib", SHA_A);
    r.git("commit", "-q", "--no-verify", "-m", "add lib");
    r.git("checkout", "-q", "-B", "agent/run-1");
    gitlink(r, "vendor/lib", SHA_B);
    r.git("commit", "-q", "--no-verify", "-m", "bump lib");
    const d = await evaluate(r);
    expect(d.risk).toBe("high");
    expect(d.findings.find((x) => x.rule === "submodule")?.message).toContain(`submodule moved from ${SHA_A} to ${SHA_B} (vendor/lib)`);
  });

  it("invariant 2: a changed submodule URL names the old and the new source", async () => {
    const r = baseRepo((b) => b.write(".gitmodules", '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://example.com/acme/lib.git\n'));
    r.write(".gitmodules", '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://evil.example/lib.git\n');
    r.commit("retarget lib");
    const d = await evaluate(r);
    expect(d.risk).toBe("high");
    expect(d.findings.find((x) => x.rule === "submodule")?.message).toContain("submodule URL changed from https://example.com/acme/lib.git to https://evil.example/lib.git");
  });
});

describe("invariant 2: file modes (CLI)", () => {
  it("invariant 2: a new symlink out of the repository is high and names its target", async () => {
    const r = baseRepo();
    r.symlink("../../etc/passwd", "docs/passwd");
    r.commit("add a link");
    const d = await evaluate(r);
    expect(d.risk).toBe("high");
    expect(d.findings.find((f) => f.rule === "new-symlink")?.message).toContain("a new symbolic link to ../../etc/passwd (outside the repository) (docs/passwd)");
  });

  it("invariant 2: a symlink to a workflow is judged as the workflow (critical)", async () => {
    const r = baseRepo((b) => b.write(".github/workflows/ci.yml", "on: push\n"));
    r.symlink("../.github/workflows/ci.yml", "docs/ci.yml");
    r.commit("add a link to the workflow");
    const d = await evaluate(r);
    expect(d.risk).toBe("critical");
    expect(d.findings.find((f) => f.rule === "gate-control")?.paths).toContain(".github/workflows/ci.yml");
  });

  it("invariant 2: chmod +x alone is a new executable (medium), not a binary file", async () => {
    const r = baseRepo((b) => b.write("scripts/deploy.sh", "echo deploy\n"));
    r.chmodX("scripts/deploy.sh");
    r.commit("make it executable");
    const d = await evaluate(r);
    expect(d.findings.map((f) => f.rule)).toEqual(["new-executable"]);
    expect(d.risk).toBe("medium");
  });
});
