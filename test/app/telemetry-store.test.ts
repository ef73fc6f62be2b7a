/**
 * Telemetry ingestion stored in a real database (Postgres on 127.0.0.1:5432, a fresh database per run, and PGlite):
 * the telemetry row, its discrepancies and the audit entries land together; a redelivery writes nothing twice;
 * the hash chain verifies afterwards.
 */
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DatabaseTelemetryStore } from "../../src/store/telemetry-store.js";
import type { AuditEntry } from "../../src/store/index.js";
import { HEAD_SHA, PR_NUMBER, nockCreateCheckRun, nockGetPull, nockListFiles, nockPolicyFile, requests } from "../helpers/github.js";
import { openTestStore, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";
import { createApp } from "./scenario.js";
import { FULL_NAME, RUN_ID, nativeZip, nockDownload, nockListArtifacts, policyWithTelemetry, pullRequestJson, workflowRunEvent } from "./telemetry-scenario.js";

async function auditEntries(ctx: TestStoreContext): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const e of ctx.store.audit.export()) out.push(e);
  return out;
}

describe.each(TEST_DRIVERS)("telemetry stored on %s", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  }, 60_000);
  afterAll(async () => {
    await ctx?.cleanup();
  });
  beforeEach(() => requests.reset());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  it("an accepted bundle: telemetry row with discrepancies, audit entries in the chain; a redelivery writes nothing", async () => {
    const telemetry = new DatabaseTelemetryStore(ctx.store);
    const { probot } = await createApp({ telemetry });
    const policy = policyWithTelemetry();
    const zip = nativeZip();
    const run = () => {
      nockPolicyFile(policy, { ref: "master" });
      nockListArtifacts([{ size: zip.byteLength }]);
      nockDownload(zip);
      nockGetPull(pullRequestJson());
    };
    run();
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }, { filename: "docs/notes.md" }]);
    nockCreateCheckRun();
    expect(await telemetry.hasAccepted(FULL_NAME, PR_NUMBER, HEAD_SHA)).toBe(false);
    await probot.receive({ id: `d-db-${driver}`, ...workflowRunEvent() });

    const row = await ctx.store.telemetry.latestFor(FULL_NAME, PR_NUMBER, HEAD_SHA);
    expect(row).toMatchObject({ accepted: true, format: "native", workflowRunId: RUN_ID, workflowPath: ".github/workflows/agent.yml", agent: "codex", model: "gpt-5-codex" });
    expect((row!.trace as { run: { task: string } }).run.task).toBe("Add rate limiting to the API client");
    const discrepancies = await ctx.store.telemetry.discrepanciesFor(row!.id);
    expect(discrepancies.map((d) => [d.kind, d.path])).toEqual([
      ["unreported", "docs/notes.md"],
      ["not_in_pull_request", "src/api/rateLimit.ts"],
    ]);
    expect(await telemetry.hasAccepted(FULL_NAME, PR_NUMBER, HEAD_SHA)).toBe(true);
    expect(await telemetry.hasAccepted(FULL_NAME, PR_NUMBER, "5".repeat(40))).toBe(false);

    const entries = await auditEntries(ctx);
    expect(entries.map((e) => e.kind)).toEqual(["telemetry_accepted", "telemetry_discrepancy", "telemetry_discrepancy"]);
    expect(entries.every((e) => e.repository === FULL_NAME && e.pullRequest === PR_NUMBER && e.deliveryId === `d-db-${driver}`)).toBe(true);
    expect(JSON.parse(entries[0]!.payload)).toMatchObject({ workflowRunId: RUN_ID, headSha: HEAD_SHA, checkRunId: 77, format: "native" });

    // Redelivered: recognised as recorded before anything is published or appended.
    requests.reset();
    run();
    await probot.receive({ id: `d-db-${driver}`, ...workflowRunEvent() });
    expect(requests.writes).toEqual([]);
    expect(await auditEntries(ctx)).toHaveLength(3);
    expect(await ctx.store.audit.verify()).toMatchObject({ ok: true, count: 3 });
  });

  it("a rejection that names no pull request is audited without a telemetry row; record() is idempotent per run", async () => {
    const telemetry = new DatabaseTelemetryStore(ctx.store);
    const { probot } = await createApp({ telemetry });
    const before = (await auditEntries(ctx)).length;
    nockPolicyFile(policyWithTelemetry(), { ref: "master" });
    nockListArtifacts([{ size: 30 }], RUN_ID + 1);
    nockDownload(new TextEncoder().encode("not a zip at all"));
    await probot.receive({ id: `d-db-bad-${driver}`, ...workflowRunEvent({ id: RUN_ID + 1 }) });
    const entries = (await auditEntries(ctx)).slice(before);
    expect(entries.map((e) => [e.kind, e.pullRequest])).toEqual([["telemetry_rejected", null]]);
    expect(JSON.parse(entries[0]!.payload).reasons[0]).toMatch(/not a readable zip file/);

    const outcome = {
      repository: FULL_NAME,
      pullRequest: PR_NUMBER,
      headSha: HEAD_SHA,
      workflowRunId: RUN_ID + 2,
      workflowPath: ".github/workflows/agent.yml",
      artifactId: 1,
      format: "codex",
      accepted: false,
      reasons: ["x"],
      agent: null,
      model: null,
      counts: {},
      trace: null,
      discrepancies: [],
      audit: [{ kind: "telemetry_rejected" as const, payload: { reasons: ["x"] } }],
      deliveryId: "d-direct",
    };
    expect(await telemetry.record(outcome)).toEqual({ created: true });
    expect(await telemetry.record(outcome)).toEqual({ created: false });
    expect(await telemetry.alreadyRecorded(FULL_NAME, PR_NUMBER, RUN_ID + 2)).toBe(true);
    expect((await auditEntries(ctx)).slice(before)).toHaveLength(2);
    expect(await ctx.store.audit.verify()).toMatchObject({ ok: true });
  });
});
