import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/types.js";
import { cli, tempDir, tempRepo } from "./git-repo.js";
import type { TempRepo } from "./git-repo.js";

const repos: TempRepo[] = [];
function repo(): TempRepo {
  const r = tempRepo();
  repos.push(r);
  return r;
}
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

const CODEOWNERS = ["*            @acme/dev", "/src/auth/   @acme/security", "/Dockerfile  @ops-lead", ""].join("\n");

/** main with CODEOWNERS and a few files; returns the repo checked out on a new branch agent/run-1. */
function baseRepo(extra: (r: TempRepo) => void = () => {}): TempRepo {
  const r = repo();
  r.write(".github/CODEOWNERS", CODEOWNERS);
  r.write("src/auth/session.ts", "export const ttl = 3600;\n");
  r.write("src/app.ts", "export const app = 1;\n");
  r.write("Dockerfile", "FROM node:20\n");
  r.write("README.md", "# demo\n");
  extra(r);
  r.commit("base");
  r.git("checkout", "-q", "-b", "agent/run-1");
  return r;
}

async function evaluateJson(r: TempRepo, ...args: string[]): Promise<Decision> {
  const res = await cli(["evaluate", "--repo", r.dir, "--base", "main", "--format", "json", ...args]);
  expect(res.stderr).toBe("");
  const decision = JSON.parse(res.stdout) as Decision;
  // Every evaluation in this file also checks the exit code CI gates on.
  expect(res.code).toBe(decision.conclusion === "success" ? 0 : 1);
  return decision;
}

describe("agent-gate evaluate", () => {
  it("invariant 2 (both paths): a file renamed out of a protected folder needs the old folder's owners", async () => {
    const r = baseRepo();
    r.remove("src/auth/session.ts");
    r.write("src/util/session.ts", "export const ttl = 3600;\n");
    r.commit("move session out of auth");
    const d = await evaluateJson(r);
    expect(d.risk).toBe("high");
    const sec = d.findings.find((f) => f.rule === "security-code");
    expect(sec?.paths).toEqual(["src/auth/session.ts", "src/util/session.ts"]);
    expect(d.findings.find((f) => f.rule === "renamed-file")?.paths).toEqual(["src/auth/session.ts", "src/util/session.ts"]);
    const owners = Object.fromEntries(d.approval.requirements.flatMap((q) => q.paths.map((p) => [p, q.owners])));
    expect(owners["src/auth/session.ts"]).toEqual(["@acme/security"]);
    expect(owners["src/util/session.ts"]).toEqual(["@acme/dev"]);
  });

  it("invariant 1 (base-branch policy): a CODEOWNERS edit is judged by the base version, and is itself critical", async () => {
    const r = baseRepo();
    // The agent removes the Dockerfile owner and the security line, then edits the Dockerfile.
    r.write(".github/CODEOWNERS", "* @acme/dev\n");
    r.write("Dockerfile", "FROM node:22\n");
    // A policy on the head branch that would switch everything off must not be read either.
    r.write(".github/agent-gate.yml", "risk:\n  extends: none\napprovals:\n  codeowners: { from: critical }\n");
    r.commit("agent edits");
    // Nor the working tree.
    r.write(".github/agent-gate.yml", "this: is: not: yaml: [");
    const d = await evaluateJson(r);
    expect(d.risk).toBe("critical");
    expect(d.findings[0]).toMatchObject({ rule: "gate-control", level: "critical" });
    expect(d.findings[0]!.paths).toEqual([".github/CODEOWNERS", ".github/agent-gate.yml"]);
    const dockerfile = d.approval.requirements.find((q) => q.paths.includes("Dockerfile"));
    expect(dockerfile?.owners).toEqual(["@ops-lead"]);
    expect(d.policy.source).toBe("recommended preset (no .github/agent-gate.yml on main)");
    expect(d.policy.ref).toBe(r.git("rev-parse", "main").trim());
  });

  it("the policy on the base ref applies (not the preset) when there is one", async () => {
    const r = baseRepo((x) => x.write(".github/agent-gate.yml", "risk:\n  rules:\n    - id: readme\n      paths: [README.md]\n      level: high\n"));
    r.write("README.md", "# changed\n");
    r.commit("docs");
    const d = await evaluateJson(r);
    expect(d.findings.map((f) => f.rule)).toEqual(["readme"]);
    expect(d.policy.source).toBe(".github/agent-gate.yml on main");
  });

  it("invariant 2 (both paths): a 3,000-file change cannot be fully evaluated (critical, failure)", async () => {
    const r = baseRepo();
    for (let i = 0; i < 3000; i++) r.write(`docs/pages/p${i}.md`, `page ${i}\n`);
    r.commit("3000 docs");
    const d = await evaluateJson(r);
    expect(d.risk).toBe("critical");
    expect(d.conclusion).toBe("failure");
    expect(d.findings.find((f) => f.rule === "evaluation-incomplete")?.message).toContain("cannot be fully evaluated");
    expect(d.labels).toEqual(["agent-risk:critical"]);
  });

  it("binary files, new symlinks, new executables and secrets come from git", async () => {
    const r = baseRepo();
    r.write("assets/logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3, 0]));
    r.symlink("../.github/CODEOWNERS", "docs/owners");
    r.write("scripts/run.sh", "#!/bin/sh\necho hi\n");
    r.chmodX("scripts/run.sh");
    const secret = `ghp_${"Zx9".repeat(12)}`;
    r.write("src/app.ts", `export const app = 1;\nexport const token = "${secret}";\n`);
    r.commit("misc");
    const d = await evaluateJson(r);
    const byRule = Object.fromEntries(d.findings.map((f) => [f.rule, f]));
    expect(byRule["binary-file"]?.paths).toEqual(["assets/logo.png"]);
    // A symlink is also judged as the file it points to (invariant 2), so its target is named beside it.
    expect(byRule["new-symlink"]?.paths).toEqual(["docs/owners", ".github/CODEOWNERS"]);
    expect(byRule["gate-control"]?.paths).toContain(".github/CODEOWNERS");
    expect(byRule["new-executable"]?.paths).toEqual(["scripts/run.sh"]);
    expect(byRule["secret-in-diff"]).toMatchObject({ level: "critical", paths: ["src/app.ts"], locations: [{ path: "src/app.ts", line: 2 }] });
    for (const fmt of ["json", "text", "markdown"]) {
      const res = await cli(["evaluate", "--repo", r.dir, "--base", "main", "--format", fmt]);
      expect(res.stdout).not.toContain(secret);
    }
  });

  it("changes on main after the branch point are not the agent's: merge-base(base, head) to head", async () => {
    const r = baseRepo();
    r.write("README.md", "# agent\n");
    r.commit("agent docs");
    r.git("checkout", "-q", "main");
    r.write(".github/workflows/ci.yml", "on: push\n");
    r.commit("main adds a workflow");
    r.git("checkout", "-q", "agent/run-1");
    const d = await evaluateJson(r);
    expect(d.risk).toBe("low");
    expect(d.conclusion).toBe("success");
  });

  it("JSON output keeps the stable names other tools read", async () => {
    const r = baseRepo();
    r.write("Dockerfile", "FROM node:22\n");
    r.commit("bump");
    const d = await evaluateJson(r, "--author", "copilot-swe-agent[bot]");
    expect(d).toMatchObject({
      risk: "high",
      labels: ["agent-risk:high"],
      findings: [{ rule: "infrastructure", level: "high", paths: ["Dockerfile"], message: expect.any(String) }],
      approval: { required: true, requirements: [{ paths: ["Dockerfile"], owners: ["@ops-lead"], count: 1 }] },
      policy: { source: expect.any(String), ref: expect.stringMatching(/^[0-9a-f]{40}$/) },
      conclusion: "action_required",
      scope: { isAgent: true },
    });
  });

  it("defaults: head = HEAD, base = origin's default branch when known", async () => {
    const r = baseRepo();
    r.write("Dockerfile", "FROM node:22\n");
    r.commit("bump");
    const main = r.git("rev-parse", "main").trim();
    r.git("update-ref", "refs/remotes/origin/trunk", main);
    r.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk");
    const res = await cli(["evaluate", "--format", "json"], r.dir);
    expect(res.code).toBe(1);
    const d = JSON.parse(res.stdout) as Decision;
    expect(d.policy.source).toContain("origin/trunk");
    expect(d.risk).toBe("high");
  });

  it("markdown output is the check-run summary", async () => {
    const r = baseRepo();
    r.write("Dockerfile", "FROM node:22\n");
    r.commit("bump");
    const res = await cli(["evaluate", "--repo", r.dir, "--base", "main", "--format", "markdown"]);
    expect(res.stdout).toContain("| <code>Dockerfile</code> | infrastructure | @ops-lead (CODEOWNERS line 3) | — |");
  });

  it("exit codes for CI: 0 only when the decision is success, 1 while it needs approval, --exit-zero keeps 0", async () => {
    const r = baseRepo();
    r.write("README.md", "# docs only\n");
    r.commit("docs");
    expect((await cli(["evaluate", "--repo", r.dir, "--base", "main"])).code).toBe(0);
    r.write("Dockerfile", "FROM node:22\n");
    r.commit("bump");
    const waiting = await cli(["evaluate", "--repo", r.dir, "--base", "main"]);
    expect(waiting.code).toBe(1);
    expect(waiting.stdout).toMatch(/action_required|approval/i);
    expect(waiting.stderr).toBe("");
    expect((await cli(["evaluate", "--repo", r.dir, "--base", "main", "--format", "markdown", "--exit-zero"])).code).toBe(0);
  });

  it("exit codes for CI: the real binary gates a shell step (non-zero while approval is needed)", async () => {
    const r = baseRepo();
    r.write("Dockerfile", "FROM node:22\n");
    r.commit("bump");
    const bin = fileURLToPath(new URL("../../bin/agent-gate.js", import.meta.url));
    const code = await new Promise<number | null>((resolve) => {
      execFile(process.execPath, [bin, "evaluate", "--repo", r.dir, "--base", "main"], (error) => resolve(error ? (typeof error.code === "number" ? error.code : null) : 0));
    });
    expect(code).toBe(1);
  });

  it("an invalid policy on the base ref: exit 1 with file:line errors", async () => {
    const r = baseRepo((x) => x.write(".github/agent-gate.yml", "scope: agents\napprovals:\n  count:\n    high: 0\n"));
    r.write("README.md", "x\n");
    r.commit("docs");
    const res = await cli(["evaluate", "--repo", r.dir, "--base", "main"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(".github/agent-gate.yml:4: approvals.count.high: expected a number >= 1");
    const json = await cli(["evaluate", "--repo", r.dir, "--base", "main", "--format", "json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ conclusion: "failure", risk: "critical" });
  });
});

describe("exit code 2: usage and environment errors, one line, no stack", () => {
  it("not a git repository", async () => {
    const dir = tempDir();
    const res = await cli(["evaluate", "--repo", dir]);
    expect(res).toEqual({ code: 2, stdout: "", stderr: `agent-gate: not a git repository: ${dir}` });
  });

  it("a missing folder", async () => {
    const res = await cli(["evaluate", "--repo", "/nonexistent/agent-gate"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe("agent-gate: not a directory: /nonexistent/agent-gate");
  });

  it("an unknown ref (and no main when origin is unknown)", async () => {
    const r = baseRepo();
    expect(await cli(["evaluate", "--repo", r.dir, "--base", "nope"])).toMatchObject({ code: 2, stderr: "agent-gate: unknown ref: nope" });
    expect(await cli(["evaluate", "--repo", r.dir, "--base", "main", "--head", "--upload-pack=x"])).toMatchObject({ code: 2 });
    r.git("branch", "-m", "main", "trunk");
    expect(await cli(["evaluate", "--repo", r.dir])).toMatchObject({ code: 2, stderr: "agent-gate: unknown ref: main" });
  });

  it("unknown options and formats", async () => {
    expect((await cli(["evaluate", "--bogus"])).code).toBe(2);
    const res = await cli(["evaluate", "--format", "yaml"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Allowed choices are text, json, markdown");
    expect((await cli(["frobnicate"])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
    expect((await cli(["--help"])).code).toBe(0);
  });

  it("the real binary: exit 2 and one line on stderr", async () => {
    const bin = fileURLToPath(new URL("../../bin/agent-gate.js", import.meta.url));
    const dir = tempDir();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, "evaluate", "--repo", dir], (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stderr });
      });
    });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([`agent-gate: not a git repository: ${dir}`]);
  });
});
