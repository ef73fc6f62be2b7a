import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Command } from "commander";
import { registerAuditCommands, registerMigrateCommand, type CliIo } from "../../src/cli/commands/audit.js";
import { openStore } from "../../src/store/index.js";
import { createPostgresDatabase, rawSql, tempDataDir, type PostgresTestDatabase } from "../helpers/db.js";

interface CliRun {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  let code: number | undefined;
  const io: CliIo = {
    stdout: new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        stdout += chunk.toString();
        cb();
      },
    }),
    stderr: {
      write(chunk: string | Uint8Array) {
        stderr += chunk.toString();
        return true;
      },
    },
    setExitCode: (c) => {
      code = c;
    },
  };
  const program = new Command("agent-gate").exitOverride();
  registerAuditCommands(program, io);
  registerMigrateCommand(program, io);
  await program.parseAsync(args, { from: "user" });
  return { code, stdout, stderr };
}

const savedEnv = { DATABASE_URL: process.env.DATABASE_URL, AGENT_GATE_DATA_DIR: process.env.AGENT_GATE_DATA_DIR };
beforeAll(() => {
  delete process.env.DATABASE_URL;
  delete process.env.AGENT_GATE_DATA_DIR;
});
afterAll(() => {
  for (const [k, v] of Object.entries(savedEnv)) if (v !== undefined) process.env[k] = v;
});

describe("agent-gate migrate / audit against Postgres", () => {
  let database: PostgresTestDatabase;
  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("migrate applies the schema once, then reports nothing to do", async () => {
    const first = await cli("migrate", "--database-url", database.url);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toMatch(/[1-9]\d* migration\(s\) applied/);
    expect((await cli("migrate", "--database-url", database.url)).stdout).toContain("0 migration(s) applied");
  });

  it("audit verify exits 0 with the count when intact, and audit export streams the entries", async () => {
    const store = await openStore({ databaseUrl: database.url });
    try {
      await store.audit.append({ kind: "evaluation_decided", repository: "octo/a", pullRequest: 1, payload: { risk: "low" } });
      await store.audit.append({ kind: "label_set", repository: "octo/b", pullRequest: 2, payload: { label: "agent-risk:low" } });
      await store.audit.append({ kind: "delivery_duplicate", deliveryId: "guid-1", payload: { event: "pull_request" } });
    } finally {
      await store.close();
    }
    const verify = await cli("audit", "verify", "--database-url", database.url);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit log intact: 3 entries, head [0-9a-f]{64}\n$/);

    const jsonl = await cli("audit", "export", "--database-url", database.url, "--repo", "octo/b");
    expect(jsonl.code).toBe(0);
    const lines = jsonl.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ id: 2, kind: "label_set", repository: "octo/b", pullRequest: 2, payload: { label: "agent-risk:low" } })]);

    const csv = await cli("audit", "export", "--database-url", database.url, "--format", "csv", "--since", "2000-01-01");
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\n")[0]).toBe("id,created_at,kind,repository,pull_request,delivery_id,payload,prev_hash,hash");
    expect(csv.stdout.trimEnd().split("\n")).toHaveLength(4);
    expect(csv.stdout).toContain('"{""risk"":""low""}"');

    const future = await cli("audit", "export", "--database-url", database.url, "--since", "2999-01-01");
    expect(future).toMatchObject({ code: 0, stdout: "" });
  });

  it("invariant 8: audit verify exits 1 naming the first broken entry", async () => {
    const store = await openStore({ databaseUrl: database.url });
    try {
      await rawSql(store, "alter table audit_log disable trigger audit_log_no_update_delete");
      await rawSql(store, `update audit_log set repository = 'octo/other' where id = 2`);
      await rawSql(store, "alter table audit_log enable trigger audit_log_no_update_delete");
    } finally {
      await store.close();
    }
    const verify = await cli("audit", "verify", "--database-url", database.url);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toBe("audit log BROKEN at entry 2: hash mismatch (1 entry before it verified)\n");
  });

  it("bad arguments are one line and exit 2", async () => {
    const since = await cli("audit", "export", "--database-url", database.url, "--since", "yesterday-ish");
    expect(since).toMatchObject({ code: 2, stdout: "" });
    expect(since.stderr).toMatch(/^agent-gate: invalid --since "yesterday-ish".*\n$/);
    const repo = await cli("audit", "export", "--database-url", database.url, "--repo", "not a repo");
    expect(repo.code).toBe(2);
    expect(repo.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });
});

describe("agent-gate audit with an unusable database", () => {
  it("an unreachable DATABASE_URL gives one line naming host:port and the reason, exit 2", async () => {
    const run = await cli("audit", "verify", "--database-url", "postgres://agent:s3cret@127.0.0.1:1/agent_gate");
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("agent-gate: cannot use Postgres at 127.0.0.1:1/agent_gate: connection refused (ECONNREFUSED)\n");
    expect(run.stderr).not.toContain("s3cret");
  });

  it("DATABASE_URL from the environment is used when no flag is given", async () => {
    process.env.DATABASE_URL = "postgres://127.0.0.1:1/from_env";
    try {
      const run = await cli("migrate");
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("127.0.0.1:1/from_env");
    } finally {
      delete process.env.DATABASE_URL;
    }
  });

  it("a missing PGlite data directory is reported, not created", async () => {
    const tmp = tempDataDir();
    try {
      const run = await cli("audit", "export", "--data-dir", `${tmp.dir}/nope`);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^agent-gate: no database: .*nope does not exist/);
    } finally {
      tmp.remove();
    }
  });

  it("as a real process: one line on stderr, no stack trace, exit 2", () => {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "test/store/fixtures/audit-cli.ts", "audit", "verify", "--database-url", "postgres://127.0.0.1:1/x"],
      { encoding: "utf8", env: { ...process.env, DATABASE_URL: "" }, timeout: 60_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("agent-gate: cannot use Postgres at 127.0.0.1:1/x: connection refused (ECONNREFUSED)\n");
  });
});

describe("agent-gate migrate / audit on PGlite", () => {
  it("migrate creates the data directory; verify and export read it", async () => {
    const tmp = tempDataDir();
    const dataDir = `${tmp.dir}/data`;
    try {
      expect((await cli("migrate", "--data-dir", dataDir)).stdout).toMatch(/[1-9]\d* migration\(s\) applied/);
      const store = await openStore({ dataDir });
      await store.audit.append({ kind: "policy_invalid", repository: "octo/a", pullRequest: 3, payload: { file: ".github/agent-gate.yml", line: 4 } });
      await store.close();
      const verify = await cli("audit", "verify", "--data-dir", dataDir);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toContain("intact: 1 entries");
      const exported = await cli("audit", "export", "--data-dir", dataDir);
      expect(JSON.parse(exported.stdout)).toMatchObject({ kind: "policy_invalid", payload: { file: ".github/agent-gate.yml", line: 4 } });
    } finally {
      tmp.remove();
    }
  });
});

describe("agent-gate audit checkpoint / verify --head / --checkpoint against Postgres", () => {
  let database: PostgresTestDatabase;
  let tmp: { dir: string; remove(): void };
  beforeAll(async () => {
    database = await createPostgresDatabase();
    tmp = tempDataDir();
    await cli("migrate", "--database-url", database.url);
  });
  afterAll(async () => {
    await database?.drop();
    tmp?.remove();
  });

  async function appendEntries(n: number) {
    const store = await openStore({ databaseUrl: database.url });
    try {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await store.audit.append({ kind: "check_published", repository: "octo/a", pullRequest: i + 1, payload: { i } }));
      return out;
    } finally {
      await store.close();
    }
  }

  it("an empty audit log has nothing to checkpoint: one line, exit 2", async () => {
    const run = await cli("audit", "checkpoint", "--database-url", database.url);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe("agent-gate: the audit log is empty: nothing to checkpoint yet\n");
  });

  it("invariant 8 (truncation is detectable): checkpoint, delete the newest entries, and verify --checkpoint / --head exit 1", async () => {
    const entries = await appendEntries(4);
    const file = `${tmp.dir}/checkpoint-1.json`;
    const written = await cli("audit", "checkpoint", "--database-url", database.url, "--out", file);
    expect(written.code).toBe(0);
    const checkpoint = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(checkpoint).toMatchObject({ format: "agent-gate-audit-checkpoint/1", seq: entries[3]!.id, hash: entries[3]!.hash, count: 4 });
    const head = `${entries[2]!.id}:${entries[2]!.hash}`;
    expect(await cli("audit", "verify", "--database-url", database.url, "--checkpoint", file, "--head", head)).toMatchObject({
      code: 0,
      stdout: `audit log intact: 4 entries, head ${entries[3]!.hash}; 2 witnesses present\n`,
    });

    const store = await openStore({ databaseUrl: database.url });
    try {
      await rawSql(store, "alter table audit_log disable trigger audit_log_no_update_delete");
      await rawSql(store, `delete from audit_log where id >= ${entries[2]!.id}`);
      await rawSql(store, "alter table audit_log enable trigger audit_log_no_update_delete");
    } finally {
      await store.close();
    }
    expect((await cli("audit", "verify", "--database-url", database.url)).code).toBe(0);
    const byCheckpoint = await cli("audit", "verify", "--database-url", database.url, "--checkpoint", file);
    // stderr only names the database checked (host:port/database), never an error.
    expect(byCheckpoint).toMatchObject({ code: 1, stderr: `checking the audit log in Postgres at ${new URL(database.url).host}${new URL(database.url).pathname}\n` });
    expect(byCheckpoint.stdout).toBe(`audit log BROKEN: entry ${entries[3]!.id}, named by a check run or checkpoint, is not in the chain (2 entries verified): the log was truncated or rewritten\n`);
    expect((await cli("audit", "verify", "--database-url", database.url, "--head", head)).code).toBe(1);
    // A new checkpoint is not written over a chain that lost what the old one names.
    const again = await cli("audit", "checkpoint", "--database-url", database.url, "--checkpoint", file, "--out", `${tmp.dir}/checkpoint-2.json`);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/BROKEN.*; no checkpoint written\n$/);
    expect(existsSync(`${tmp.dir}/checkpoint-2.json`)).toBe(false);
  });

  it("a malformed --head or checkpoint file is one line and exit 2", async () => {
    const head = await cli("audit", "verify", "--database-url", database.url, "--head", "12:abc");
    expect(head).toMatchObject({ code: 2, stdout: "" });
    expect(head.stderr).toMatch(/^agent-gate: invalid --head "12:abc": use SEQ:HASH/);
    const file = `${tmp.dir}/not-a-checkpoint.json`;
    writeFileSync(file, JSON.stringify({ format: "agent-gate-audit-checkpoint/1", seq: 1, hash: "zz", count: 1, takenAt: "2026-01-01T00:00:00Z" }));
    const bad = await cli("audit", "verify", "--database-url", database.url, "--checkpoint", file);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^agent-gate: .*not-a-checkpoint\.json is not a checkpoint: hash: .*\n$/);
    const missing = await cli("audit", "verify", "--database-url", database.url, "--checkpoint", `${tmp.dir}/nope.json`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^agent-gate: cannot read checkpoint .*nope\.json: ENOENT/);
  });

  it("checkpoint without --out prints the checkpoint JSON", async () => {
    const run = await cli("audit", "checkpoint", "--database-url", database.url);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ format: "agent-gate-audit-checkpoint/1", count: 2 });
  });
});
