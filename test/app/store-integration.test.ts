/**
 * The App on its database (Postgres and PGlite): redeliveries, two App instances racing on one pull request,
 * `/healthz`, and what happens when the database is unreachable at start-up or disappears while serving.
 * GitHub is nock; webhooks over HTTP are signed like GitHub's.
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";
import nock from "nock";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { start } from "../../src/app/server.js";
import type { RunningServer } from "../../src/app/server.js";
import { parseHeadWitness } from "../../src/cli/checkpoint.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import type { AuditEntry, Store } from "../../src/store/index.js";
import { evaluations } from "../../src/store/schema.js";
import {
  APP_ID,
  BASE_SHA,
  HEAD_SHA,
  INSTALLATION_ID,
  NEW_HEAD_SHA,
  POLICY,
  REPO_PATH,
  api,
  captureLog,
  nockAccessToken,
  nockAddLabels,
  nockCodeowners,
  nockCreateCheckRun,
  nockFileModes,
  nockListFiles,
  nockPolicyFile,
  nockReviews,
  nockRulesetChecks,
  requests,
  testPrivateKey,
} from "../helpers/github.js";
import { TEST_DRIVERS, createPostgresDatabase, tempDataDir } from "../helpers/db.js";
import { useTestStore } from "../helpers/use-test-store.js";
import { CODEOWNERS, POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];
const REPOSITORY = "Codertocat/Hello-World";
const SECRET = "store-integration-secret";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

async function entries(store: Store): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const entry of store.audit.export()) out.push(entry);
  return out;
}

async function auditKinds(store: Store): Promise<string[]> {
  return (await entries(store)).map((e) => `${e.kind}${e.deliveryId ? ` ${e.deliveryId}` : ""}`);
}

async function evaluationRows(store: Store) {
  return store.db.select({ headSha: evaluations.headSha, conclusion: evaluations.conclusion, deliveryId: evaluations.deliveryId }).from(evaluations);
}

describe.each(TEST_DRIVERS)("the App recording to %s", (driver) => {
  const ctx = useTestStore(driver);

  it("a redelivery (same X-GitHub-Delivery) does nothing twice: one decision, one check run, a duplicate audit entry", async () => {
    const { probot } = await createApp({ store: new DatabaseGateStore(ctx.store) });
    const event = agentPullRequest(DOCS);
    const check = nockEvaluation(event, { files: DOCS });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-redelivered", ...event });
    // No reviews read: the PR's first evaluation of its opening (issue 12).
    expect(requests.total).toBe(7);

    // GitHub's "Redeliver" keeps the GUID. No GitHub request is answered for it: any would fail the test.
    await probot.receive({ id: "d-redelivered", ...event });
    if (driver === "postgres") {
      // The redelivery may land on another App process on the same database.
      const other = await createApp({ store: new DatabaseGateStore(await ctx.openAnother()) });
      await other.probot.receive({ id: "d-redelivered", ...event });
    }

    expect(requests.total).toBe(7);
    expect(check.bodies).toHaveLength(1);
    expect(await evaluationRows(ctx.store)).toEqual([{ headSha: HEAD_SHA, conclusion: "success", deliveryId: "d-redelivered" }]);
    expect(await ctx.store.deliveries.get("d-redelivered", INSTALLATION_ID)).toMatchObject({ event: "pull_request", action: "opened", outcome: "processed", attempts: 1 });
    const duplicates = driver === "postgres" ? 2 : 1;
    expect(await auditKinds(ctx.store)).toEqual([
      "evaluation_decided d-redelivered",
      "check_published d-redelivered",
      "label_set d-redelivered",
      ...Array.from({ length: duplicates }, () => "delivery_duplicate d-redelivered"),
    ]);
    expect(await ctx.store.audit.verify()).toMatchObject({ ok: true });
  });

  it("invariant 9: the decision and its audit entry are committed before its check is published, and the check names that entry", async () => {
    const { probot } = await createApp({ store: new DatabaseGateStore(ctx.store) });
    const event = agentPullRequest(DOCS);
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    nockListFiles(DOCS);
    nockFileModes();
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);
    // What the database holds at the moment GitHub receives the check run.
    let atPublish: AuditEntry[] = [];
    let body: { output: { summary: string } } | undefined;
    api()
      .post(`${REPO_PATH}/check-runs`)
      .reply(async (_uri, sent) => {
        body = sent as typeof body;
        atPublish = await entries(ctx.store);
        return [201, { id: 77, html_url: "https://github.com/o/r/runs/77" }];
      });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-witness", ...event });

    const decided = atPublish.filter((e) => e.kind === "evaluation_decided");
    expect(decided).toHaveLength(1);
    expect(atPublish.map((e) => e.kind)).not.toContain("check_published");
    const ref = `${decided[0]!.id}:${decided[0]!.hash}`;
    expect(body?.output.summary).toContain(`Audit entry \`${ref}\``);
    // The reference is what `agent-gate audit verify --head` takes, and the chain holds it.
    expect(await ctx.store.audit.verify({ witnesses: [parseHeadWitness(ref)!] })).toMatchObject({ ok: true });
    const after = await entries(ctx.store);
    const publishedEntry = after.find((e) => e.kind === "check_published");
    expect(JSON.parse(publishedEntry?.payload ?? "{}")).toMatchObject({ checkRunId: 77, decidedIn: decided[0]!.id, evaluationId: JSON.parse(decided[0]!.payload).evaluationId });
    expect((await ctx.store.evaluations.latestFor(REPOSITORY, event.payload.pull_request.number))?.checkRunId).toBe(77);
  });

  it("two App instances evaluating one PR at once: the newest head's decision is published, the stale one is not", async () => {
    const storeA = driver === "postgres" ? await ctx.openAnother() : ctx.store;
    const appB = await createApp({ store: new DatabaseGateStore(ctx.store) });
    const appA = await createApp({ store: new DatabaseGateStore(storeA) });
    nockAccessToken();
    const older = agentPullRequest(DOCS); // head HEAD_SHA, updated 10:00
    const newer = agentPullRequest(DOCS, { action: "synchronize", headSha: NEW_HEAD_SHA }); // updated 11:00

    // B (the push) holds the PR's lock, parked in its first GitHub read until the test lets it go.
    let entered!: () => void;
    const bEntered = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    api()
      .get(`${REPO_PATH}/contents/${encodeURIComponent(POLICY)}`)
      .query({ ref: BASE_SHA })
      .reply(async () => {
        entered();
        await released;
        return [200, POLICY_YML, { "content-type": "application/vnd.github.raw; charset=utf-8" }];
      });
    nockCodeowners(CODEOWNERS);
    nockListFiles(DOCS);
    nockFileModes();
    nockReviews([]);
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);
    const check = nockCreateCheckRun().captured;
    nockAddLabels([], { addedColor: "0e8a16" });
    // A (the older event) reads next, and publishes nothing: the store saw B's newer head (no PR re-read).
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    nockListFiles(DOCS);
    nockFileModes();
    nockReviews([]);
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);

    const b = appB.probot.receive({ id: "d-push", ...newer });
    await bEntered;
    const a = appA.probot.receive({ id: "d-open", ...older });
    if (driver === "postgres") {
      // A's process waits on the PR's advisory lock in Postgres while B holds it.
      for (;;) {
        const rows = (await ctx.store.db.execute(sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`)) as unknown as Array<{ n: number }>;
        if ((rows[0]?.n ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    release();
    await Promise.all([a, b]);

    expect(check.bodies).toHaveLength(1);
    expect(check.body).toMatchObject({ head_sha: NEW_HEAD_SHA, conclusion: "success" });
    expect(await evaluationRows(ctx.store)).toEqual([{ headSha: NEW_HEAD_SHA, conclusion: "success", deliveryId: "d-push" }]);
    expect(await ctx.store.evaluations.currentHead(REPOSITORY, 2)).toMatchObject({ headSha: NEW_HEAD_SHA });
    // A was handled (not failed): a redelivery of it would change nothing either.
    expect(await ctx.store.deliveries.get("d-open", INSTALLATION_ID)).toMatchObject({ outcome: "skipped" });
    expect(appA.lines.some((l) => l.msg === "not publishing a stale decision")).toBe(true);
    expect((await auditKinds(ctx.store)).filter((k) => k.startsWith("check_published"))).toEqual(["check_published d-push"]);
  });
});

function sign(body: string): string {
  return `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
}

async function sendWebhook(base: string, id: string, event: { name: string; payload: unknown }): Promise<Response> {
  const body = JSON.stringify(event.payload);
  return fetch(`${base}/api/github/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": event.name, "x-github-delivery": id, "x-hub-signature-256": sign(body) },
    body,
  });
}

describe.each(TEST_DRIVERS)("npm start on %s", (driver) => {
  let running: RunningServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await cleanup?.();
    cleanup = undefined;
  });

  it("migrates at start-up, /healthz reports the database up, then down (503) and a delivery it cannot record gets a 5xx", async () => {
    let storage: { databaseUrl?: string; dataDir?: string };
    let killDatabase: () => Promise<void>;
    if (driver === "postgres") {
      const database = await createPostgresDatabase();
      storage = { databaseUrl: database.url };
      killDatabase = () => database.drop();
      cleanup = () => database.drop();
    } else {
      const tmp = tempDataDir();
      storage = { dataDir: tmp.dir };
      killDatabase = async () => {
        await running?.store?.close();
      };
      cleanup = async () => tmp.remove();
    }
    const { log, lines } = captureLog("info");
    running = await start({ env: { APP_ID: String(APP_ID), PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: SECRET }, port: 0, host: "127.0.0.1", log, storage });
    const base = `http://127.0.0.1:${running.port}`;
    expect(lines.some((l) => /[1-9]\d* migration\(s\) applied/.test(l.msg))).toBe(true);

    const up = await fetch(`${base}/healthz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: "ok", checks: { database: { ok: true, detail: driver } } });

    await killDatabase();
    const down = await fetch(`${base}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: "degraded", checks: { database: { ok: false } } });

    // GitHub must see this delivery fail, so it can be redelivered once the database is back.
    const response = await sendWebhook(base, "d-unrecorded", agentPullRequest(DOCS));
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(lines.some((l) => l.level >= 50)).toBe(true);
    // Nothing was asked of GitHub: the delivery stopped at the database.
    expect(requests.total).toBe(0);
  });
});

describe("start-up against a database that cannot be reached", () => {
  it("prints one clear line (no stack trace) and exits non-zero", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/app/server.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        APP_ID: String(APP_ID),
        PRIVATE_KEY: testPrivateKey(),
        WEBHOOK_SECRET: SECRET,
        DATABASE_URL: "postgres://postgres:secret-password@127.0.0.1:1/agent_gate",
        LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));

    expect(code).toBe(1);
    expect(stderr.trimEnd().split("\n")).toEqual(["agent-gate: cannot use Postgres at 127.0.0.1:1/agent_gate: connection refused (ECONNREFUSED)"]);
    expect(stderr).not.toContain("secret-password");
    expect(stdout).not.toMatch(/listening/i);
  }, 30_000);
});
