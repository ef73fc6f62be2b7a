import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { migrate, openStore } from "../../src/store/index.js";
import { createPostgresDatabase, tempDataDir, type PostgresTestDatabase } from "../helpers/db.js";

/** Every migration drizzle-kit generated (the journal lists them), so a new one does not break these counts. */
const MIGRATIONS = (JSON.parse(readFileSync(new URL("../../migrations/meta/_journal.json", import.meta.url), "utf8")) as { entries: unknown[] }).entries.length;

const TABLES = [
  "app_state",
  "approvals",
  "audit_log",
  "check_runs",
  "evaluations",
  "installations",
  "pending_work",
  "pull_request_heads",
  "pull_request_pushers",
  "pull_request_triggers",
  "pull_requests",
  "repositories",
  "review_observations",
  "review_requests",
  "telemetry_discrepancies",
  "telemetry_runs",
  "web_sessions",
  "webhook_deliveries",
];

describe("migrations on Postgres", () => {
  const databases: PostgresTestDatabase[] = [];
  afterAll(async () => {
    for (const d of databases) await d.drop();
  });

  it("apply from an empty database and are idempotent (run twice)", async () => {
    const database = await createPostgresDatabase();
    databases.push(database);
    const first = await migrate({ databaseUrl: database.url });
    expect(first).toEqual({ applied: MIGRATIONS, driver: "postgres" });
    const second = await migrate({ databaseUrl: database.url });
    expect(second.applied).toBe(0);

    const store = await openStore({ databaseUrl: database.url });
    try {
      const rows = (await store.db.execute(
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      )) as unknown as Array<{ table_name: string }>;
      expect(rows.map((r) => r.table_name)).toEqual(TABLES);
    } finally {
      await store.close();
    }
  });

  it("two processes migrating the same empty database at once both succeed, applying each migration once", async () => {
    const database = await createPostgresDatabase();
    databases.push(database);
    const results = await Promise.all([migrate({ databaseUrl: database.url }), migrate({ databaseUrl: database.url })]);
    expect(results.map((r) => r.applied).sort()).toEqual([0, MIGRATIONS]);
  });

  it("openStore({ migrate: true }) applies pending migrations before opening the pool", async () => {
    const database = await createPostgresDatabase();
    databases.push(database);
    const messages: string[] = [];
    const store = await openStore({ databaseUrl: database.url, migrate: true, log: (m) => messages.push(m) });
    try {
      expect(await store.deliveries.begin({ guid: "g", event: "ping" })).toBe("new");
      expect(messages.join("\n")).toContain(`${MIGRATIONS} migration(s) applied`);
    } finally {
      await store.close();
    }
  });
});

describe("migrations on PGlite", () => {
  it("apply from an empty data directory, are idempotent, and the data survives a reopen", async () => {
    const tmp = tempDataDir();
    try {
      const dataDir = `${tmp.dir}/db`;
      expect(await migrate({ dataDir })).toEqual({ applied: MIGRATIONS, driver: "pglite" });
      expect((await migrate({ dataDir })).applied).toBe(0);
      const store = await openStore({ dataDir });
      await store.audit.append({ kind: "policy_invalid", repository: "o/r", payload: { line: 3 } });
      await store.close();
      const again = await openStore({ dataDir, migrate: true });
      try {
        expect(await again.audit.verify()).toMatchObject({ ok: true, count: 1 });
      } finally {
        await again.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it("an in-memory store is migrated on open", async () => {
    const store = await openStore({ dataDir: "memory://" });
    try {
      expect(await store.ping()).toEqual({ ok: true, driver: "pglite" });
      expect((await store.audit.head()).count).toBe(0);
    } finally {
      await store.close();
    }
  });
});
