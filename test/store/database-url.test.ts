// DATABASE_URL is checked before anything connects: postgres.js would treat `mysql://…` as Postgres and
// `postgres://` (no host) as the local socket with the OS user's database. Success messages name the host and
// database they used, never the password.
import { afterEach, describe, expect, it } from "vitest";
import { StoreUnavailableError, checkDatabaseUrl, migrate, openStore } from "../../src/store/index.js";
import { cli } from "../cli/git-repo.js";
import { createPostgresDatabase } from "../helpers/db.js";
import type { PostgresTestDatabase } from "../helpers/db.js";

let database: PostgresTestDatabase | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

function rejection(url: string): string {
  try {
    checkDatabaseUrl(url);
  } catch (error) {
    expect(error).toBeInstanceOf(StoreUnavailableError);
    return (error as Error).message;
  }
  throw new Error(`${url} was accepted`);
}

describe("DATABASE_URL checks", () => {
  it("rejects another database's scheme in one line, without the password", () => {
    for (const url of ["mysql://root:hunter2@db.example.com/agent_gate", "mariadb://root:hunter2@db/x", "sqlite:///tmp/x.db", "http://db.example.com/x"]) {
      const message = rejection(url);
      expect(message).toMatch(/^DATABASE_URL must be a Postgres URL \(postgres:\/\/ or postgresql:\/\/\), not [a-z]+:\/\/$/);
      expect(message).not.toContain("hunter2");
    }
  });

  it("rejects a URL without a host, and one without a database", () => {
    expect(rejection("postgres://")).toMatch(/^DATABASE_URL has no host: /);
    expect(rejection("postgresql:///agent_gate")).toMatch(/^DATABASE_URL has no host: /);
    expect(rejection("postgres://agent:hunter2@db.example.com:5432")).toMatch(/^DATABASE_URL names no database: /);
    expect(rejection("postgres://agent:hunter2@db.example.com:5432")).not.toContain("hunter2");
  });

  it("accepts both Postgres schemes and a Unix socket given the libpq way", () => {
    expect(() => checkDatabaseUrl("postgres://agent:pw@db.example.com:5432/agent_gate")).not.toThrow();
    expect(() => checkDatabaseUrl("postgresql://agent@10.0.0.5/agent_gate?sslmode=require")).not.toThrow();
    expect(() => checkDatabaseUrl("postgres:///agent_gate?host=/var/run/postgresql&user=agent")).not.toThrow();
  });

  it("`postgres://` stops migrate and openStore before any connection (it used to migrate the local `root` database)", async () => {
    await expect(migrate({ databaseUrl: "postgres://" })).rejects.toThrow(/^DATABASE_URL has no host/);
    await expect(openStore({ databaseUrl: "postgres://", migrate: true })).rejects.toThrow(/^DATABASE_URL has no host/);
    await expect(openStore({ databaseUrl: "mysql://root@127.0.0.1:5432/postgres" })).rejects.toThrow(/^DATABASE_URL must be a Postgres URL/);
  });

  it("the CLI prints the check as one line on stderr and exits 2", async () => {
    const run = await cli(["migrate", "--database-url", "mysql://root:hunter2@127.0.0.1:3306/agent_gate"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("agent-gate: DATABASE_URL must be a Postgres URL (postgres:// or postgresql://), not mysql://");
  });

  it("migrate and audit verify name the host and database they used, never the password", async () => {
    database = await createPostgresDatabase();
    const url = new URL(database.url);
    url.password = "not-needed-with-trust-auth";
    const target = `${url.hostname}:${url.port || "5432"}/${database.name}`;

    const migrated = await cli(["migrate", "--database-url", url.toString()]);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(new RegExp(`^Postgres at ${target.replace(/\./g, "\\.")}: [1-9]\\d* migration\\(s\\) applied, schema up to date$`));

    const verified = await cli(["audit", "verify", "--database-url", url.toString()]);
    expect(verified.code).toBe(0);
    expect(verified.stderr).toBe(`checking the audit log in Postgres at ${target}`);
    for (const output of [migrated.stdout, migrated.stderr, verified.stdout, verified.stderr]) expect(output).not.toContain("not-needed");
  });
});
