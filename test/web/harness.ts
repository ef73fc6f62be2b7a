/**
 * The App server as `npm start` runs it (real Probot server, embedded PGlite, real migrations), with the
 * compliance pages pointed at a fake GitHub, Debian's Chromium driven by playwright-core, and a store seeded with
 * evaluations, approvals, telemetry and audit entries through the store's own repositories.
 */
import { existsSync, readFileSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { start, type RunningServer } from "../../src/app/server.js";
import type { Store } from "../../src/store/index.js";
import { parseNativeBundle, redactTrace, type Trace } from "../../src/telemetry/index.js";
import { APP_ID, captureLog, testPrivateKey } from "../helpers/github.js";
import { CLIENT_ID, CLIENT_SECRET, startFakeGitHub, type FakeGitHub, type FakeUser } from "./fake-github.js";

export const CHROMIUM = process.env.AGENT_GATE_CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium that stays off the network on its own (no updates, sync or QUIC probes). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does) or set AGENT_GATE_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

export interface WebApp {
  base: string;
  store: Store;
  github: FakeGitHub;
  running: RunningServer;
  stop(): Promise<void>;
}

export async function startWebApp(users: FakeUser[], env: Record<string, string> = {}): Promise<WebApp> {
  const github = await startFakeGitHub(users);
  const { log } = captureLog("info");
  const running = await start({
    env: {
      APP_ID: String(APP_ID),
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: "test-webhook-secret",
      GITHUB_CLIENT_ID: CLIENT_ID,
      GITHUB_CLIENT_SECRET: CLIENT_SECRET,
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      ...env,
    },
    port: 0,
    host: "127.0.0.1",
    log,
    storage: { dataDir: "memory://" },
  });
  const store = running.store;
  if (!store) throw new Error("the App opened no store");
  return {
    base: `http://127.0.0.1:${running.port}`,
    store,
    github,
    running,
    async stop() {
      await running.stop();
      await github.close();
    },
  };
}

const FIXTURE = new URL("../fixtures/telemetry/native-bundle/", import.meta.url);

/** The real native bundle fixture as a redacted trace, with extra event lines appended (e.g. hostile text). */
export function nativeTrace(extraEvents: unknown[] = []): Trace {
  const events = readFileSync(new URL("events.jsonl", FIXTURE), "utf8").trimEnd() + "\n" + extraEvents.map((e) => JSON.stringify(e)).join("\n");
  const { trace } = parseNativeBundle({
    manifest: readFileSync(new URL("manifest.json", FIXTURE), "utf8"),
    events,
    network: readFileSync(new URL("network.jsonl", FIXTURE), "utf8"),
  });
  return redactTrace(trace);
}

export interface SeedPullRequest {
  repository: string;
  number: number;
  title: string;
  author?: string;
  openedAt: Date;
  risk: "low" | "medium" | "high" | "critical";
  conclusion: "success" | "action_required" | "failure";
  headSha: string;
  approvals?: Array<{ reviewer: string; counted: boolean; reason: string }>;
  telemetry?: { trace: Trace; accepted: boolean; reasons?: string[] };
  checkRunId?: number;
}

const sha = (seed: string) => seed.repeat(40).slice(0, 40);

/** One agent PR as the App records it: its metadata, one evaluation with approvals, telemetry, audit entries. */
export async function seedPullRequest(store: Store, pr: SeedPullRequest): Promise<{ evaluationId: number }> {
  const baseSha = sha("b");
  const findings = [{ rule: pr.risk === "low" ? "default" : "payments", level: pr.risk, paths: ["services/payments/charge.ts"], message: `changes a ${pr.risk}-risk path` }];
  const met = pr.conclusion === "success";
  const requirements =
    pr.risk === "low"
      ? []
      : [{ id: "r1", paths: ["services/payments/charge.ts"], level: pr.risk, rules: ["payments"], owners: ["@acme/payments"], count: 1, source: "codeowners", satisfiable: true, approvedBy: met ? ["carol"] : [], waitingOn: met ? [] : ["@acme/payments"], blockedBy: [], met }];
  await store.pullRequests.upsert({ repository: pr.repository, pullRequest: pr.number, title: pr.title, author: pr.author ?? "github-actions[bot]", openedAt: pr.openedAt });
  const evaluation = await store.evaluations.record({
    repository: pr.repository,
    pullRequest: pr.number,
    headSha: pr.headSha,
    baseRef: "main",
    baseSha,
    policySource: ".github/agent-gate.yml",
    policyCommit: baseSha,
    codeownersPath: ".github/CODEOWNERS",
    codeownersCommit: baseSha,
    inputsDigest: "d".repeat(64),
    risk: pr.risk,
    findings,
    requirements,
    decision: met ? "All required approvals are in" : pr.conclusion === "failure" ? "Cannot be evaluated" : "Waiting for a code owner",
    conclusion: pr.conclusion,
    checkRunId: pr.checkRunId ?? 5000 + pr.number,
    deliveryId: `delivery-${pr.repository}-${pr.number}`,
    approvals: (pr.approvals ?? []).map((a) => ({ reviewer: a.reviewer, state: "APPROVED", commitId: pr.headSha, counted: a.counted, reason: a.reason })),
  });
  const common = { repository: pr.repository, pullRequest: pr.number, deliveryId: `delivery-${pr.repository}-${pr.number}` };
  await store.audit.append({ ...common, kind: "evaluation_decided", payload: { evaluationId: evaluation.id, headSha: pr.headSha, risk: pr.risk, conclusion: pr.conclusion, title: pr.title } });
  await store.audit.append({ ...common, kind: "check_published", payload: { evaluationId: evaluation.id, checkRunId: pr.checkRunId ?? 5000 + pr.number, conclusion: pr.conclusion } });
  for (const a of pr.approvals ?? []) {
    await store.audit.append({ ...common, kind: a.counted ? "approval_counted" : "approval_refused", payload: { evaluationId: evaluation.id, reviewer: a.reviewer, reason: a.reason } });
  }
  if (pr.telemetry) {
    const t = pr.telemetry;
    await store.telemetry.record({
      repository: pr.repository,
      pullRequest: pr.number,
      headSha: pr.headSha,
      workflowRunId: 9_000_000 + pr.number,
      workflowPath: ".github/workflows/agent.yml",
      format: "native",
      accepted: t.accepted,
      reasons: t.reasons ?? [],
      agent: t.trace.run.agent,
      model: t.trace.run.model,
      trace: t.trace,
    });
    await store.audit.append({ ...common, kind: t.accepted ? "telemetry_accepted" : "telemetry_rejected", payload: { agent: t.trace.run.agent, reasons: t.reasons ?? [] } });
  }
  return { evaluationId: evaluation.id };
}
