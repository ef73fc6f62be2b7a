/**
 * Telemetry ingestion stored in a real database (Postgres on 127.0.0.1:5432, a fresh database per run, and PGlite):
 * the telemetry row, its discrepancies and the audit entries land together; a redelivery writes nothing twice;
 * the hash chain verifies afterwards.
 */
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DatabaseTelemetryStore } from "../../src/store/telemetry-store.js";
import type { TelemetryPublishedInput } from "../../src/store/telemetry-store.js";
import type { TelemetryOutcomeRecord } from "../../src/services/telemetry-types.js";
import type { AuditEntry } from "../../src/store/index.js";
import { HEAD_SHA, PR_NUMBER, REPO_PATH, api, nockCreateCheckRun, nockGetPull, nockListFiles, nockPolicyFile, requests } from "../helpers/github.js";
import { openTestStore, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";
import { createApp } from "./scenario.js";
import {
  FULL_NAME,
  RUN_ID,
  manifestFor,
  nativeZip,
  nockDownload,
  nockListArtifacts,
  nockPatchCheckRun,
  nockRationaleChecksOn,
  policyWithTelemetry,
  pullRequestJson,
  workflowRunEvent,
} from "./telemetry-scenario.js";

async function auditEntries(ctx: TestStoreContext): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const e of ctx.store.audit.export()) out.push(e);
  return out;
}

/**
 * A process that dies (the error stands in for the kill) right after `record` commits, or after GitHub took the
 * rationale check but before `recordPublished` could commit: once, then it works.
 */
class DyingTelemetryStore extends DatabaseTelemetryStore {
  dies: "after record" | "before recordPublished" | null = null;
  /** The next `recorded` answers as if it read before another attempt recorded the run (a race the per-key lock rules out). */
  readsTooEarly = false;

  override async recorded(repository: string, pullRequest: number, workflowRunId: number) {
    if (!this.readsTooEarly) return super.recorded(repository, pullRequest, workflowRunId);
    this.readsTooEarly = false;
    return null;
  }

  override async record(outcome: TelemetryOutcomeRecord) {
    const recorded = await super.record(outcome);
    this.#die("after record");
    return recorded;
  }

  override async recordPublished(published: TelemetryPublishedInput) {
    this.#die("before recordPublished");
    await super.recordPublished(published);
  }

  #die(moment: "after record" | "before recordPublished"): void {
    if (this.dies !== moment) return;
    this.dies = null;
    throw new Error(`killed ${moment}`);
  }
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
    const check = nockCreateCheckRun().captured;
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

    // Recorded before it was published; the check run id follows once GitHub took it.
    const entries = await auditEntries(ctx);
    expect(entries.map((e) => e.kind)).toEqual(["telemetry_accepted", "telemetry_discrepancy", "telemetry_discrepancy", "telemetry_published"]);
    expect(entries.every((e) => e.repository === FULL_NAME && e.pullRequest === PR_NUMBER && e.deliveryId === `d-db-${driver}`)).toBe(true);
    expect(JSON.parse(entries[0]!.payload)).toMatchObject({ workflowRunId: RUN_ID, headSha: HEAD_SHA, format: "native" });
    expect(JSON.parse(entries[3]!.payload)).toEqual({ workflowRunId: RUN_ID, headSha: HEAD_SHA, checkRunId: 77 });
    // The rationale check names its accepted entry, as the approval check names its decision's.
    const ref = `${entries[0]!.id}:${entries[0]!.hash}`;
    expect(check.body.output.summary.endsWith(`\n\n---\nAudit entry \`${ref}\` · \`agent-gate audit verify --head ${ref}\` fails if the audit log no longer holds this entry unchanged.`)).toBe(true);
    expect(await ctx.store.audit.verify({ witnesses: [{ id: entries[0]!.id, hash: entries[0]!.hash }] })).toMatchObject({ ok: true });

    // Redelivered: recognised as recorded before anything is published or appended.
    requests.reset();
    run();
    await probot.receive({ id: `d-db-${driver}`, ...workflowRunEvent() });
    expect(requests.writes).toEqual([]);
    expect(await auditEntries(ctx)).toHaveLength(4);
    expect(await ctx.store.audit.verify()).toMatchObject({ ok: true, count: 4 });
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
    // A rejection has no accepted entry to name.
    expect(await telemetry.record(outcome)).toEqual({ created: true, entry: null });
    expect(await telemetry.record(outcome)).toEqual({ created: false, entry: null });
    expect(await telemetry.recorded(FULL_NAME, PR_NUMBER, RUN_ID + 2)).toEqual({ accepted: false, headSha: HEAD_SHA, entry: null, checkRunId: null });
    expect(await telemetry.recorded(FULL_NAME, PR_NUMBER, RUN_ID + 3)).toBeNull();
    expect((await auditEntries(ctx)).slice(before)).toHaveLength(2);
    expect(await ctx.store.audit.verify()).toMatchObject({ ok: true });
  });

  /** One workflow run's reads, up to the PR's files (no writes): what every attempt of its job reads again. */
  function nockRunReads(runId: number) {
    const policy = policyWithTelemetry();
    const zip = nativeZip({ manifest: manifestFor({ runId }) });
    nockPolicyFile(policy, { ref: "master" });
    nockListArtifacts([{ size: zip.byteLength }], runId);
    nockDownload(zip);
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }, { filename: "docs/notes.md" }]);
  }

  async function entriesSince(before: number): Promise<AuditEntry[]> {
    return (await auditEntries(ctx)).slice(before);
  }

  /** An App whose first attempt at workflow run `runId` dies at `moment`; the reads of that attempt are mocked. */
  async function dyingApp(runId: number, moment: DyingTelemetryStore["dies"]) {
    const telemetry = new DyingTelemetryStore(ctx.store);
    const { probot } = await createApp({ telemetry });
    const before = (await auditEntries(ctx)).length;
    telemetry.dies = moment;
    nockRunReads(runId);
    const receive = () => probot.receive({ id: `d-die-${runId}-${driver}`, ...workflowRunEvent({ id: runId }) });
    return { telemetry, before, receive };
  }

  it("invariant 9: the job dies between recording and publishing: its next run publishes the recorded telemetry, naming the first attempt's entry", async () => {
    const runId = RUN_ID + 10;
    const { telemetry, before, receive } = await dyingApp(runId, "after record");
    await expect(receive()).rejects.toThrow(/killed after record/);
    // Recorded, nothing published: no rationale check exists without its entry.
    expect(requests.writes).toEqual([]);
    const recorded = await entriesSince(before);
    expect(recorded.map((e) => e.kind)).toEqual(["telemetry_accepted", "telemetry_discrepancy", "telemetry_discrepancy"]);
    const accepted = recorded[0]!;
    expect(await telemetry.recorded(FULL_NAME, PR_NUMBER, runId)).toEqual({ accepted: true, headSha: HEAD_SHA, entry: { id: accepted.id, hash: accepted.hash }, checkRunId: null });

    // The job's next run (a retry, or after a restart): the same reads, then it looks for a check the first
    // attempt may have created (none), creates it naming the first attempt's entry, and records it published.
    requests.reset();
    nockRunReads(runId);
    nockRationaleChecksOn(HEAD_SHA, []);
    const check = nockCreateCheckRun().captured;
    await receive();
    expect(requests.writes.map((w) => w.method)).toEqual(["POST"]);
    expect(check.body).toMatchObject({ name: "Agent Gate: rationale", head_sha: HEAD_SHA, external_id: `pr:${PR_NUMBER}:run:${runId}` });
    expect(check.body.output.summary).toContain(`Audit entry \`${accepted.id}:${accepted.hash}\``);
    const after = await entriesSince(before);
    expect(after.map((e) => e.kind)).toEqual(["telemetry_accepted", "telemetry_discrepancy", "telemetry_discrepancy", "telemetry_published"]);
    expect(JSON.parse(after[3]!.payload)).toEqual({ workflowRunId: runId, headSha: HEAD_SHA, checkRunId: 77 });
    expect(await ctx.store.audit.verify({ witnesses: [{ id: accepted.id, hash: accepted.hash }] })).toMatchObject({ ok: true });
  });

  it("invariant 9: GitHub took the rationale check and the job died before recording that: its next run updates that check, never a second one", async () => {
    const runId = RUN_ID + 20;
    const { telemetry, before, receive } = await dyingApp(runId, "before recordPublished");
    const first = nockCreateCheckRun().captured;
    await expect(receive()).rejects.toThrow(/killed before recordPublished/);
    // On GitHub (check run 77), naming its entry; the App never recorded that.
    expect(first.bodies).toHaveLength(1);
    const [accepted] = await entriesSince(before);
    expect(first.body.output.summary).toContain(`Audit entry \`${accepted!.id}:${accepted!.hash}\``);
    expect((await telemetry.recorded(FULL_NAME, PR_NUMBER, runId))?.checkRunId).toBeNull();

    // The next run finds ours on the head (by name, our App and external_id) and updates it: no second POST.
    requests.reset();
    nockRunReads(runId);
    nockRationaleChecksOn(HEAD_SHA, [
      { id: 76, externalId: `pr:${PR_NUMBER}:run:${RUN_ID}` },
      { id: 77, externalId: `pr:${PR_NUMBER}:run:${runId}` },
    ]);
    const patch = nockPatchCheckRun(77);
    await receive();
    expect(requests.writes.map((w) => w.method)).toEqual(["PATCH"]);
    expect(patch.bodies[0].output.summary).toContain(`Audit entry \`${accepted!.id}:${accepted!.hash}\``);
    const after = await entriesSince(before);
    expect(after.map((e) => e.kind)).toEqual(["telemetry_accepted", "telemetry_discrepancy", "telemetry_discrepancy", "telemetry_published"]);
    expect(JSON.parse(after[3]!.payload)).toEqual({ workflowRunId: runId, headSha: HEAD_SHA, checkRunId: 77 });
    expect(await telemetry.recorded(FULL_NAME, PR_NUMBER, runId)).toMatchObject({ checkRunId: 77 });
  });


  it("invariant 9: a record found only when writing it (another attempt got there first) still looks for that attempt's check before creating one", async () => {
    const runId = RUN_ID + 30;
    const { telemetry, before, receive } = await dyingApp(runId, "before recordPublished");
    nockCreateCheckRun();
    await expect(receive()).rejects.toThrow(/killed before recordPublished/);
    const [accepted] = await entriesSince(before);

    requests.reset();
    telemetry.readsTooEarly = true;
    nockRunReads(runId);
    nockRationaleChecksOn(HEAD_SHA, [{ id: 77, externalId: `pr:${PR_NUMBER}:run:${runId}` }]);
    const patch = nockPatchCheckRun(77);
    // What GitHub would answer a second create: a second check run. It must not be asked.
    api().post(`${REPO_PATH}/check-runs`).optionally().reply(201, { id: 78 });
    await receive();
    expect(requests.writes.map((w) => w.method)).toEqual(["PATCH"]);
    expect(patch.bodies[0].output.summary).toContain(`Audit entry \`${accepted!.id}:${accepted!.hash}\``);
    expect((await entriesSince(before)).filter((e) => e.kind === "telemetry_accepted")).toHaveLength(1);
  });
});
