/**
 * Telemetry ingestion end to end (invariant 7): a real `workflow_run.completed` payload in, the artifact API
 * (302 to a blob URL) and every other GitHub request answered by nock, the rationale check and the store checked.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freshGateStore } from "../helpers/gate-store.js";
import { TestTelemetryStore } from "../helpers/telemetry-store.js";
import {
  BASE_SHA,
  HEAD_SHA,
  PR_NUMBER,
  nockAddLabels,
  nockCodeowners,
  nockCreateCheckRun,
  nockFileModes,
  nockGetPull,
  nockListFiles,
  nockPolicyFile,
  nockPullsForCommit,
  nockReviews,
  nockRulesetChecks,
  requests,
} from "../helpers/github.js";
import type { LogLine } from "../helpers/github.js";
import { CODEOWNERS, agentPullRequest, createApp } from "./scenario.js";
import {
  ARTIFACT_ID,
  FULL_NAME,
  RUN_ID,
  WORKFLOW,
  manifestFor,
  nativeZip,
  nockDownload,
  nockListArtifacts,
  nockPatchCheckRun,
  policyWithTelemetry,
  pullRequestJson,
  telemetryFixture,
  transcriptZip,
  workflowRunEvent,
} from "./telemetry-scenario.js";

/** The PR's files: client.ts is reported; docs/notes.md is not; the bundle's rateLimit.ts is not in the PR. */
const PR_FILES = [{ filename: "src/api/client.ts" }, { filename: "docs/notes.md" }];

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/** This file's database, emptied, with the gate store and the telemetry store (and its reads) on it. */
async function stores() {
  const store = await freshGateStore();
  return { store, telemetry: new TestTelemetryStore(store.store) };
}

async function app(options: { policy?: string } = {}) {
  const { store, telemetry } = await stores();
  const created = await createApp({ store, telemetry });
  return { ...created, telemetry, policy: options.policy ?? policyWithTelemetry() };
}

/** The reads up to the pull request: default-branch policy, artifacts, download. */
function nockUpToDownload(policy: string, zip: Uint8Array, artifact: { name?: string } = {}) {
  nockPolicyFile(policy, { ref: "master" });
  nockListArtifacts([{ name: artifact.name ?? "agent-gate-telemetry", size: zip.byteLength }]);
  return nockDownload(zip);
}

function rejections(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => typeof l.msg === "string" && l.msg.startsWith("rejected telemetry:"));
}

describe("workflow_run.completed: a native bundle", () => {
  it("accepted: stored, audited, and the rationale check published with the cross-check and annotations", async () => {
    const { probot, telemetry, lines, policy } = await app();
    const download = nockUpToDownload(policy, nativeZip());
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles(PR_FILES);
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-tel-ok", ...workflowRunEvent() });

    // The blob host never sees our installation token.
    expect(download.blobHeaders).toHaveLength(1);
    expect(download.blobHeaders[0]).not.toHaveProperty("authorization");

    const body = check.body;
    expect(body).toMatchObject({ name: "Agent Gate: rationale", head_sha: HEAD_SHA, status: "completed", conclusion: "neutral", external_id: `pr:${PR_NUMBER}:run:${RUN_ID}` });
    expect(body.output.title).toBe("codex: 1 decision, 3 commands (1 failed), 2 blocked connections, 1 unreported file");
    const summary: string = body.output.summary;
    expect(summary).toContain("| Agent | codex |");
    expect(summary).toContain("| Model | gpt-5-codex |");
    expect(summary).toContain("| Task | Add rate limiting to the API client |");
    expect(summary).toContain("**⚠ 1 file changed in the pull request but never reported by the agent:**\n\n- `docs/notes.md`");
    expect(summary).toContain("**⚠ 1 file reported changed by the agent but not in the pull request:**\n\n- `src/api/rateLimit.ts`");
    expect(summary).toContain("evil.example.com");
    expect(summary.length).toBeLessThanOrEqual(65_535);
    const text: string = body.output.text;
    expect(text).toContain("#### Decision 1: Use a token bucket in the client");
    expect(text).toContain("- p-limit dependency");
    expect(text).toContain("| `docs/notes.md` | **not reported** | yes |");
    expect(body.output.annotations).toEqual([
      expect.objectContaining({ path: "src/api/client.ts", start_line: 12, end_line: 14, annotation_level: "notice", title: "Agent decision: Use a token bucket in the client" }),
      expect.objectContaining({ path: "src/api/client.ts", start_line: 12, end_line: 12, annotation_level: "notice", title: "Changed by the agent" }),
      expect.objectContaining({ path: "docs/notes.md", start_line: 1, annotation_level: "warning", title: "Not reported by the agent" }),
    ]);

    // Stored: one accepted run with its discrepancies; audit: accepted + one entry per discrepancy kind.
    expect((await telemetry.runs())).toHaveLength(1);
    const run = (await telemetry.runs())[0]!;
    expect(run).toMatchObject({ repository: FULL_NAME, pullRequest: PR_NUMBER, headSha: HEAD_SHA, workflowRunId: RUN_ID, workflowPath: WORKFLOW, artifactId: ARTIFACT_ID, format: "native", accepted: true, agent: "codex", model: "gpt-5-codex" });
    expect(run.discrepancies).toEqual([
      { kind: "unreported", path: "docs/notes.md" },
      { kind: "not_in_pull_request", path: "src/api/rateLimit.ts" },
    ]);
    expect(run.counts).toMatchObject({ networkBlocked: 2, filesReported: 2, unreported: 1, notInPullRequest: 1 });
    expect(await telemetry.hasAccepted(FULL_NAME, PR_NUMBER, HEAD_SHA)).toBe(true);
    // Recorded before publishing; the check run id once GitHub took it.
    expect((await telemetry.audit()).map((a) => a.kind)).toEqual(["telemetry_accepted", "telemetry_discrepancy", "telemetry_discrepancy", "telemetry_published"]);
    expect((await telemetry.audit())[1]!.payload).toMatchObject({ kind: "unreported", count: 1, paths: ["docs/notes.md"] });
    expect((await telemetry.audit())[2]!.payload).toMatchObject({ kind: "not_in_pull_request", count: 1, paths: ["src/api/rateLimit.ts"] });
    expect((await telemetry.audit())[3]!.payload).toEqual({ workflowRunId: RUN_ID, headSha: HEAD_SHA, checkRunId: 77 });
    // The rationale check names its telemetry_accepted entry (SEQ:HASH), as every App's store now can.
    const accepted = (await telemetry.audit())[0]!;
    expect(summary).toContain(`Audit entry \`${accepted.id}:${accepted.hash}\``);
    expect(rejections(lines)).toEqual([]);
    // policy (default branch), artifacts, zip (302), PR, policy (base commit), files, check run
    expect(requests.describe()).toEqual([
      "GET /repos/Codertocat/Hello-World/contents/.github/agent-gate.yml?ref=master 200",
      `GET /repos/Codertocat/Hello-World/actions/runs/${RUN_ID}/artifacts?per_page=100 200`,
      `GET /repos/Codertocat/Hello-World/actions/artifacts/${ARTIFACT_ID}/zip 302`,
      "GET /repos/Codertocat/Hello-World/pulls/2 200",
      `GET /repos/Codertocat/Hello-World/contents/.github/agent-gate.yml?ref=${BASE_SHA} 200`,
      "GET /repos/Codertocat/Hello-World/pulls/2/files?per_page=100 200",
      "POST /repos/Codertocat/Hello-World/check-runs 201",
    ]);

    // A redelivery of the same run: already recorded, nothing published twice.
    requests.reset();
    nockUpToDownload(policy, nativeZip());
    nockGetPull(pullRequestJson());
    await probot.receive({ id: "d-tel-ok", ...workflowRunEvent() });
    expect((await telemetry.runs())).toHaveLength(1);
    expect((await telemetry.audit())).toHaveLength(4);
    expect(requests.writes).toEqual([]);
  });

  it("120 annotations go out in three requests: create with 50, then 50 and 20 more", async () => {
    const { probot, policy } = await app();
    const events = Array.from({ length: 120 }, (_, i) => JSON.stringify({ time: "2025-10-09T08:01:00Z", type: "file_change", path: "src/api/client.ts", kind: "update", line: i + 1 })).join("\n");
    nockUpToDownload(policy, nativeZip({ events, network: "" }));
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }]);
    const check = nockCreateCheckRun().captured;
    const patch1 = nockPatchCheckRun();
    const patch2 = nockPatchCheckRun();
    await probot.receive({ id: "d-tel-120", ...workflowRunEvent() });

    expect(check.body.output.annotations).toHaveLength(50);
    expect(check.body.output.annotations[0]).toMatchObject({ start_line: 1 });
    const patches = [...patch1.bodies, ...patch2.bodies];
    expect(patches.map((b) => b.output.annotations.length)).toEqual([50, 20]);
    expect(patches[0].output.annotations[0]).toMatchObject({ start_line: 51 });
    expect(patches[1].output.annotations.at(-1)).toMatchObject({ start_line: 120 });
    // GitHub requires title and summary with every output update.
    for (const p of patches) expect(p.output).toMatchObject({ title: check.body.output.title, summary: check.body.output.summary });
    expect(requests.writes.map((w) => w.method)).toEqual(["POST", "PATCH", "PATCH"]);
  });
});

describe("workflow_run.completed: rejections (audit entry, no check, a log line saying why)", () => {
  async function expectRejected(run: () => Promise<void>, telemetry: TestTelemetryStore, lines: LogLine[], reason: RegExp) {
    await run();
    expect(requests.writes).toEqual([]);
    expect((await telemetry.audit()).map((a) => a.kind)).toEqual(["telemetry_rejected"]);
    const payload = (await telemetry.audit())[0]!.payload as { reasons: string[] };
    expect(payload.reasons.join("\n")).toMatch(reason);
    const logged = rejections(lines);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.msg).toMatch(reason);
    expect(await telemetry.hasAccepted(FULL_NAME, PR_NUMBER, HEAD_SHA)).toBe(false);
  }

  it("a bundle naming another head commit than the PR's", async () => {
    const { probot, telemetry, lines, policy } = await app();
    nockUpToDownload(policy, nativeZip({ manifest: manifestFor({ headSha: "2".repeat(40) }) }));
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    await expectRejected(() => probot.receive({ id: "d-tel-sha", ...workflowRunEvent() }), telemetry, lines, /the bundle names head commit 2{40}, but the pull request's head is ec26c3e/);
    // Rejected with a PR: the run is stored as not accepted, its reasons kept.
    expect((await telemetry.runs())).toEqual([expect.objectContaining({ accepted: false, pullRequest: PR_NUMBER, format: "native" })]);
  });

  it("a closed pull request", async () => {
    const { probot, telemetry, lines, policy } = await app();
    nockUpToDownload(policy, nativeZip());
    nockGetPull(pullRequestJson({ state: "closed" }));
    nockPolicyFile(policy);
    await expectRejected(() => probot.receive({ id: "d-tel-closed", ...workflowRunEvent() }), telemetry, lines, /pull request #2 is closed, not open/);
  });

  it("another repository's run (triggered from a fork): rejected before anything is downloaded", async () => {
    const { probot, telemetry, lines, policy } = await app();
    nockPolicyFile(policy, { ref: "master" });
    await expectRejected(
      () => probot.receive({ id: "d-tel-fork", ...workflowRunEvent({ headRepository: "mallory/Hello-World" }) }),
      telemetry,
      lines,
      /the workflow run was triggered from a fork \(mallory\/Hello-World\)/,
    );
    expect(requests.requests).toHaveLength(1);
  });

  it("a run of another repository", async () => {
    const { probot, telemetry, lines, policy } = await app();
    nockPolicyFile(policy, { ref: "master" });
    await expectRejected(
      () => probot.receive({ id: "d-tel-other", ...workflowRunEvent({ repository: "octo-org/octo-repo" }) }),
      telemetry,
      lines,
      /the workflow run belongs to octo-org\/octo-repo, not Codertocat\/Hello-World/,
    );
  });

  it("an unlisted workflow that uploads a telemetry bundle: rejected without downloading it", async () => {
    const { probot, telemetry, lines, policy } = await app();
    nockPolicyFile(policy, { ref: "master" });
    nockListArtifacts([{ name: "agent-gate-telemetry" }]);
    await expectRejected(
      () => probot.receive({ id: "d-tel-unlisted", ...workflowRunEvent({ path: ".github/workflows/ci.yml" }) }),
      telemetry,
      lines,
      /workflow \.github\/workflows\/ci\.yml uploaded a telemetry bundle but is not in telemetry\.workflows \(\.github\/workflows\/agent\.yml\)/,
    );
  });

  it("the base commit's policy does not list the workflow, though the default branch does", async () => {
    const { probot, telemetry, lines, policy } = await app();
    nockUpToDownload(policy, nativeZip());
    nockGetPull(pullRequestJson());
    nockPolicyFile(policyWithTelemetry({ workflows: [".github/workflows/other.yml"] }));
    await expectRejected(() => probot.receive({ id: "d-tel-base", ...workflowRunEvent() }), telemetry, lines, /workflow \.github\/workflows\/agent\.yml is not in telemetry\.workflows/);
  });

  it("a malformed zip", async () => {
    const { probot, telemetry, lines, policy } = await app();
    nockUpToDownload(policy, new TextEncoder().encode("PK\u0003\u0004 this is not a zip"));
    await expectRejected(() => probot.receive({ id: "d-tel-zip", ...workflowRunEvent() }), telemetry, lines, /artifact "agent-gate-telemetry" \(881\): the artifact is not a readable zip file/);
    // No PR could be named: audit only, no telemetry row.
    expect((await telemetry.runs())).toEqual([]);
    expect((await telemetry.audit())[0]!.pullRequest).toBeNull();
  });

  it("an artifact over the download cap is not downloaded", async () => {
    const { store, telemetry } = await stores();
    const { probot, lines } = await createApp({ store, telemetry, telemetryLimits: { maxDownloadBytes: 1000 } });
    nockPolicyFile(policyWithTelemetry(), { ref: "master" });
    nockListArtifacts([{ name: "agent-gate-telemetry", size: 5000 }]);
    await expectRejected(() => probot.receive({ id: "d-tel-big", ...workflowRunEvent() }), telemetry, lines, /is 5000 bytes, over the 1000-byte limit/);
  });

  it("a blob larger than the cap, whatever the listing said, is cut off", async () => {
    const { store, telemetry } = await stores();
    const { probot, lines } = await createApp({ store, telemetry, telemetryLimits: { maxDownloadBytes: 200 } });
    const zip = nativeZip();
    nockPolicyFile(policyWithTelemetry(), { ref: "master" });
    nockListArtifacts([{ name: "agent-gate-telemetry", size: 100 }]);
    nockDownload(zip);
    await expectRejected(() => probot.receive({ id: "d-tel-blob", ...workflowRunEvent() }), telemetry, lines, /the artifact is larger than 200 bytes/);
  });
});

describe("workflow_run.completed: runs that are not telemetry", () => {
  it("a CI workflow without a bundle is skipped quietly: no audit, no download", async () => {
    const { probot, telemetry, policy } = await app();
    nockPolicyFile(policy, { ref: "master" });
    nockListArtifacts([{ name: "coverage" }]);
    await probot.receive({ id: "d-tel-ci", ...workflowRunEvent({ path: ".github/workflows/ci.yml" }) });
    expect((await telemetry.audit())).toEqual([]);
    expect(requests.requests).toHaveLength(2);
  });

  it("no telemetry.workflows on the default branch: one read, nothing else", async () => {
    const { probot, telemetry } = await app();
    nockPolicyFile("scope: agents\n", { ref: "master" });
    await probot.receive({ id: "d-tel-none", ...workflowRunEvent() });
    expect((await telemetry.audit())).toEqual([]);
    expect(requests.requests).toHaveLength(1);
  });

  it("workflow_run.requested is not read at all", async () => {
    const { probot, telemetry } = await app();
    await probot.receive({ id: "d-tel-req", ...workflowRunEvent({ action: "requested" }) });
    expect((await telemetry.audit())).toEqual([]);
    expect(requests.requests).toHaveLength(0);
  });
});

describe("workflow_run.completed: a plain transcript from an agent not using our action", () => {
  it("a Codex exec --json transcript is accepted for the PR whose head the run built", async () => {
    const { probot, telemetry, policy } = await app();
    const zip = transcriptZip("codex-output/codex.jsonl", telemetryFixture("codex.jsonl"));
    nockUpToDownload(policy, zip, { name: "codex-transcript" });
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }, { filename: "src/api/rateLimit.ts" }]);
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-tel-codex", ...workflowRunEvent({ headSha: HEAD_SHA, headBranch: "agent/run-1", pullRequests: [{ number: PR_NUMBER, headSha: HEAD_SHA }] }) });

    expect(check.body).toMatchObject({ name: "Agent Gate: rationale", head_sha: HEAD_SHA });
    expect(check.body.output.summary).toContain("| Agent | codex |");
    expect(check.body.output.summary).toContain("| Telemetry format | codex |");
    expect(check.body.output.text).toContain("Use a token bucket in the client");
    expect((await telemetry.runs())).toEqual([expect.objectContaining({ accepted: true, format: "codex", pullRequest: PR_NUMBER, headSha: HEAD_SHA })]);
    expect((await telemetry.audit())[0]!.kind).toBe("telemetry_accepted");
  });

  it.each([
    // file in the zip, rendered format, agent, what the rationale check must show (usage, files, commands, final message)
    ["execution/claude-execution-output.json", "claude-code-action-execution.json", "claude-code", "claude-code", ["Successfully removed debug print statement", "/path/to/sample/file.py", "$0.03"]],
    ["otel/copilot-otel.jsonl", "copilot-otel.jsonl", "otel", "github-copilot", ["49,284 in (23,287 cached)", "report_intent"]],
    ["rollout-2026-02-23T20-34-25.jsonl", "codex-rollout.jsonl", "codex", "codex", ["298,373 in", "gpt-5.3-codex", "search_workflows"]],
    ["cursor.jsonl", "cursor-stream.jsonl", "cursor", "cursor-agent", ["summary.txt", "Ich werde die README.md lesen"]],
    ["claude.json", "claude-print.json", "claude-code", "claude-code", ["I fixed the off-by-one error", "$0.04"]],
    ["gemini.jsonl", "gemini-stream.jsonl", "gemini", "gemini-cli", ["cat scripts/build.sh", "scripts/build.sh", "17,931 in"]],
    ["gemini.json", "gemini.json", "gemini", "gemini-cli", ["The capital of France is Paris."]],
    ["opencode.jsonl", "opencode.jsonl", "opencode", "opencode", ["17,913 in", "alpha"]],
    ["goose.jsonl", "goose-stream.jsonl", "goose", "goose", ["pytest -q", "src/math.py", "both tests pass now"]],
    ["trajectory.json", "openhands-trajectory.json", "openhands", "openhands", ["game_2048.py", "I've created a simple implementation"]],
  ])("ingests %s (%s) from a real zip artifact", async (entry, file, format, agent, shown) => {
    const { probot, telemetry, policy } = await app();
    const zip = transcriptZip(entry, telemetryFixture(file));
    nockUpToDownload(policy, zip, { name: `${format}-transcript` });
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }]);
    const check = nockCreateCheckRun().captured;
    await probot.receive({ id: `d-tel-${file}`, ...workflowRunEvent({ headSha: HEAD_SHA, headBranch: "agent/run-1", pullRequests: [{ number: PR_NUMBER, headSha: HEAD_SHA }] }) });
    const output = `${check.body.output.summary}\n${check.body.output.text}`;
    expect(check.body.output.summary).toContain(`| Agent | ${agent} |`);
    for (const text of shown) expect(output).toContain(text);
    expect(output).not.toContain("could not be read");
    expect((await telemetry.runs())).toEqual([expect.objectContaining({ accepted: true, format })]);
  });

  it("finds the PR by the run's head commit when the payload lists none", async () => {
    const { probot, telemetry, policy } = await app();
    const zip = transcriptZip("claude.jsonl", telemetryFixture("claude-code.jsonl"));
    nockUpToDownload(policy, zip, { name: "claude-transcript" });
    nockPullsForCommit(HEAD_SHA, [PR_NUMBER], pullRequestJson());
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }]);
    nockCreateCheckRun();
    await probot.receive({ id: "d-tel-claude", ...workflowRunEvent({ headSha: HEAD_SHA, headBranch: "agent/run-1" }) });
    expect((await telemetry.runs())).toEqual([expect.objectContaining({ accepted: true, format: "claude-code" })]);
  });

  it("a transcript from a run of another commit than the PR's head is rejected", async () => {
    const { probot, telemetry, lines, policy } = await app();
    const zip = transcriptZip("codex.jsonl", telemetryFixture("codex.jsonl"));
    nockUpToDownload(policy, zip, { name: "codex-transcript" });
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    await probot.receive({ id: "d-tel-codex-old", ...workflowRunEvent({ headSha: "3".repeat(40), headBranch: "agent/run-1", pullRequests: [{ number: PR_NUMBER, headSha: "3".repeat(40) }] }) });
    expect(requests.writes).toEqual([]);
    expect((await telemetry.audit()).map((a) => a.kind)).toEqual(["telemetry_rejected"]);
    expect(rejections(lines)[0]!.msg).toMatch(/the workflow run is of commit 3{40}, but the pull request's head is ec26c3e/);
  });

  it("invariant 7 (provenance): a transcript from a run of the PR's own head is rejected when the PR changes that workflow", async () => {
    const { probot, telemetry, lines, policy } = await app();
    const zip = transcriptZip("codex.jsonl", telemetryFixture("codex.jsonl"));
    nockUpToDownload(policy, zip, { name: "codex-transcript" });
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }, { filename: WORKFLOW, patch: "@@ -1 +1 @@\n-run: codex\n+run: cat forged.jsonl" }]);
    await probot.receive({ id: "d-tel-codex-forged", ...workflowRunEvent({ headSha: HEAD_SHA, headBranch: "agent/run-1", pullRequests: [{ number: PR_NUMBER, headSha: HEAD_SHA }] }) });
    expect(requests.writes).toEqual([]);
    expect((await telemetry.runs())).toEqual([expect.objectContaining({ accepted: false, pullRequest: PR_NUMBER })]);
    expect((await telemetry.audit()).map((a) => a.kind)).toEqual(["telemetry_rejected"]);
    expect(rejections(lines)[0]!.msg).toContain(`the pull request changes ${WORKFLOW}, which the workflow that produced this telemetry runs`);
  });

  it("invariant 7 (provenance): ... or changes a local action the workflow could run", async () => {
    const { probot, telemetry, lines, policy } = await app();
    const zip = transcriptZip("codex.jsonl", telemetryFixture("codex.jsonl"));
    nockUpToDownload(policy, zip, { name: "codex-transcript" });
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    nockListFiles([{ filename: "src/api/client.ts" }, { filename: ".github/actions/run-agent/action.yml", patch: "@@ -1 +1 @@\n-a\n+b" }]);
    await probot.receive({ id: "d-tel-codex-action", ...workflowRunEvent({ headSha: HEAD_SHA, headBranch: "agent/run-1", pullRequests: [{ number: PR_NUMBER, headSha: HEAD_SHA }] }) });
    expect(requests.writes).toEqual([]);
    expect((await telemetry.audit()).map((a) => a.kind)).toEqual(["telemetry_rejected"]);
    expect(rejections(lines)[0]!.msg).toContain("the pull request changes .github/actions/run-agent/action.yml");
  });
});

describe("telemetry.required", () => {
  it("an agent PR waits on telemetry (action_required), and passes once telemetry is accepted", async () => {
    const { probot, telemetry } = await app();
    const policy = policyWithTelemetry({ required: true });
    const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];
    const opened = agentPullRequest(DOCS);
    nockPolicyFile(policy);
    nockCodeowners(CODEOWNERS);
    nockListFiles(DOCS);
    nockFileModes();
    // The base branch's rulesets require our check from this App (remembered for the second evaluation).
    nockRulesetChecks("master", [{ context: "Agent Gate: approval (master)" }]);
    const first = nockCreateCheckRun().captured;
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-req-1", ...opened });
    expect(first.body).toMatchObject({ name: "Agent Gate: approval (master)", conclusion: "action_required" });
    expect(first.body.output.title).toMatch(/^Waiting on agent telemetry \(Low risk/);
    expect(first.body.output.summary).toContain("**Waiting on agent telemetry.** The policy requires accepted telemetry");
    expect(first.body.output.summary).toContain("`.github/workflows/agent.yml`");

    // The agent's bundle arrives: accepted, rationale published, then the approval check re-evaluated: success.
    requests.reset();
    const current = pullRequestJson({ labels: ["agent-risk:low"], changedFiles: 1 });
    const events = telemetryFixture("native-bundle/events.jsonl").replaceAll("src/api/client.ts", "docs/guide.md");
    nockUpToDownload(policy, nativeZip({ events }));
    nockGetPull(current);
    nockPolicyFile(policy);
    nockListFiles(DOCS);
    const rationale = nockCreateCheckRun().captured;
    // The re-evaluation: PR, policy, CODEOWNERS, reviews, check. The rulesets, the file listing and the
    // file modes of this head and base are remembered from the first evaluation.
    nockGetPull(current);
    nockPolicyFile(policy);
    nockCodeowners(CODEOWNERS);
    nockReviews([]);
    const second = nockCreateCheckRun().captured;
    await probot.receive({ id: "d-req-2", ...workflowRunEvent() });

    expect(rationale.body).toMatchObject({ name: "Agent Gate: rationale" });
    expect(second.body).toMatchObject({ name: "Agent Gate: approval (master)", head_sha: HEAD_SHA, conclusion: "success" });
    expect(second.body.output.summary).not.toContain("Waiting on agent telemetry");
    expect(await telemetry.hasAccepted(FULL_NAME, PR_NUMBER, HEAD_SHA)).toBe(true);
  });

  it("a rejected bundle leaves the approval check waiting: no re-evaluation", async () => {
    const { probot, telemetry } = await app();
    const policy = policyWithTelemetry({ required: true });
    nockUpToDownload(policy, nativeZip({ manifest: manifestFor({ headSha: "4".repeat(40) }) }));
    nockGetPull(pullRequestJson());
    nockPolicyFile(policy);
    await probot.receive({ id: "d-req-rej", ...workflowRunEvent() });
    expect(requests.writes).toEqual([]);
    expect(await telemetry.hasAccepted(FULL_NAME, PR_NUMBER, HEAD_SHA)).toBe(false);
  });
});
