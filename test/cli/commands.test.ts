// The command groups built in their own rooms (telemetry, audit, migrate) answer through the one `agent-gate`
// program, with its exit codes: these run them through runCli as a user would.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { cli, tempDir } from "./git-repo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = tempDir("agent-gate-cli-db-");
  dirs.push(dir);
  return join(dir, "data");
}

describe("agent-gate migrate / audit through the CLI", () => {
  it("migrate applies the schema once; verify and export then read the chain", async () => {
    const dir = dataDir();
    const first = await cli(["migrate", "--data-dir", dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^PGlite in .+: [1-9]\d* migration\(s\) applied, schema up to date$/);
    const again = await cli(["migrate", "--data-dir", dir]);
    expect(again.stdout).toMatch(/: 0 migration\(s\) applied/);

    const store = await openStore({ dataDir: dir });
    try {
      await store.audit.append({ kind: "policy_invalid", repository: "octo/repo", pullRequest: 7, payload: { error: "x" } });
      await store.audit.append({ kind: "evaluation_decided", repository: "octo/other", pullRequest: 1, payload: { risk: "low" } });
    } finally {
      await store.close();
    }

    const verify = await cli(["audit", "verify", "--data-dir", dir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit log intact: 2 entries, head [0-9a-f]{64}$/);

    const exported = await cli(["audit", "export", "--data-dir", dir, "--repo", "octo/repo"]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { kind: string; repository: string });
    expect(lines).toEqual([expect.objectContaining({ kind: "policy_invalid", repository: "octo/repo" })]);
  });

  it("audit verify on a database that is not there: one line, exit 2", async () => {
    const res = await cli(["audit", "verify", "--database-url", "postgres://postgres@127.0.0.1:1/nothing"]);
    expect(res.code).toBe(2);
    expect(res.stderr.split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/^agent-gate: /);
  });
});

describe("agent-gate telemetry render through the CLI", () => {
  const fixture = (name: string) => join(import.meta.dirname, "..", "fixtures", "telemetry", name);

  it("renders a Codex transcript as the rationale check would show it", async () => {
    const res = await cli(["telemetry", "render", fixture("codex.jsonl")]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^# /);
    expect(res.stdout).toContain("Commands");
  });

  it("--format json gives the normalized trace", async () => {
    const res = await cli(["telemetry", "render", fixture("claude-code.jsonl"), "--format", "json"]);
    expect(res.code).toBe(0);
    const parsed = JSON.parse(res.stdout) as { format: string; trace: { steps: unknown[] } };
    expect(parsed.format).toBe("claude-code");
    expect(parsed.trace.steps.length).toBeGreaterThan(0);
  });

  it("a file that is not there: one line on stderr, exit 2", async () => {
    const res = await cli(["telemetry", "render", fixture("missing.jsonl")]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot read .*missing\.jsonl/);
  });
});
