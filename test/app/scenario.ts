/**
 * Shared set-up for the App scenarios: a Probot instance with the App loaded, the policy and CODEOWNERS of the
 * base branch, and a helper that answers the reads every in-scope evaluation makes.
 */
import { Probot } from "probot";
import { createAgentGate } from "../../src/app/index.js";
import type { AgentGateOptions } from "../../src/app/index.js";
import type { GateStore } from "../../src/services/types.js";
import {
  APP_ID,
  HEAD_SHA,
  TestOctokit,
  captureLog,
  nockAccessToken,
  nockCodeowners,
  nockCodeownersErrors,
  nockCreateCheckRun,
  nockFileModes,
  nockListFiles,
  nockPolicyFile,
  nockReviews,
  nockRulesetChecks,
  pullRequestEvent,
  testPrivateKey,
} from "../helpers/github.js";
import type { CodeownersErrorSpec } from "../helpers/github.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import type { TelemetryStore } from "../../src/services/telemetry-types.js";
import { freshGateStore } from "../helpers/gate-store.js";
import { TestTelemetryStore } from "../helpers/telemetry-store.js";
import type { TestGateStore } from "../helpers/gate-store.js";
import type { Captured, FileModesAnswer, FileSpec, LogLine, PullRequestScenario, ReviewSpec } from "../helpers/github.js";

export const POLICY_YML = `# Agent Gate policy of the test repository
agents:
  authors: ["agent-gate-runner[bot]", "codex-agent"]
  branches: ["agent/**"]
  labels: ["agent"]
scope: agents
risk:
  rules:
    - id: payments
      paths: ["services/payments/**"]
      level: high
      reason: money moves here
approvals:
  codeowners: { from: high }
`;

export const CODEOWNERS = `# base branch CODEOWNERS
*                     @Codertocat/maintainers
/docs/                @Codertocat/docs
/db/                  @Codertocat/db-team
/services/payments/   @Codertocat/payments
/.github/             @Codertocat/security
`;

export interface TestApp<S extends GateStore = GateStore> {
  probot: Probot;
  store: S;
  lines: LogLine[];
}

function telemetryOn(store: GateStore): TestTelemetryStore {
  if (store instanceof DatabaseGateStore) return new TestTelemetryStore(store.store);
  throw new Error("createApp: pass `telemetry` with a store that is not a DatabaseGateStore");
}

/** The App on `options.store` (and telemetry on its database), or on this test file's database, emptied (test/helpers/gate-store.ts). */
export async function createApp<S extends GateStore = TestGateStore>(options: Omit<AgentGateOptions, "store" | "telemetry"> & { store?: S; telemetry?: TelemetryStore } = {}): Promise<TestApp<S>> {
  const { log, lines } = captureLog();
  const probot = new Probot({ appId: APP_ID, privateKey: testPrivateKey(), log, Octokit: TestOctokit });
  // Without a store the default type parameter applies: the caller reads what was recorded through TestGateStore.
  const store = options.store ?? ((await freshGateStore()) as GateStore as S);
  // Telemetry on the gate store's database, as the server builds it (one database, one audit chain).
  const telemetry = options.telemetry ?? telemetryOn(store);
  await probot.load(createAgentGate({ appId: APP_ID, ...options, store, telemetry }));
  nockAccessToken();
  return { probot, store, lines };
}

export interface ReadsOptions {
  files: FileSpec[];
  reviews?: ReviewSpec[];
  policy?: string | null;
  codeowners?: string | null;
  /** Checks the base branch's rulesets require; default: our check, pinned to this App. null: not asked (cached). */
  rulesetRequires?: Array<{ context: string; integrationId?: number | null }> | null;
  baseRef?: string;
  etags?: boolean;
  /** The git modes GitHub answers (default: every path a plain file). null: the files' modes are not asked (all removed, or remembered). */
  modes?: FileModesAnswer | null;
  /**
   * Whether the reviews are read. Default: yes, except for `pull_request.opened` without `reviews` (the PR's first
   * evaluation attempt reads none: src/services/evaluation/load.ts).
   */
  readsReviews?: boolean;
  /**
   * GitHub's validation of the base CODEOWNERS (`GET codeowners/errors?ref=<base>`), read whenever a requirement has
   * code owners (issue 12). Absent: not nocked (no such requirement, or the test nocks it itself).
   */
  codeownersErrors?: CodeownersErrorSpec[];
}

/** Answers the reads of one in-scope evaluation and its check run; returns the captured check run. */
export function nockEvaluation(event: { payload: any }, options: ReadsOptions): Captured {
  const pr = event.payload.pull_request;
  const baseRef = options.baseRef ?? pr.base.ref;
  nockPolicyFile(options.policy === undefined ? POLICY_YML : options.policy, options.etags ? { etag: '"policy-v1"' } : {});
  nockCodeowners(options.codeowners === undefined ? CODEOWNERS : options.codeowners, options.etags ? { etag: '"codeowners-v1"' } : {});
  nockListFiles(options.files);
  // Modes are asked whenever the pull request keeps a file (one GraphQL query, src/github/file-modes.ts).
  if (options.modes !== null && options.files.some((f) => f.status !== "removed")) nockFileModes(options.modes ?? {});
  if (options.readsReviews ?? !(event.payload.action === "opened" && options.reviews === undefined)) nockReviews(options.reviews ?? []);
  if (options.codeownersErrors) nockCodeownersErrors(pr.base.sha, options.codeownersErrors);
  if (options.rulesetRequires !== null) nockRulesetChecks(baseRef, options.rulesetRequires ?? [{ context: `Agent Gate: approval (${baseRef})` }]);
  return nockCreateCheckRun().captured;
}

/** A pull_request event whose `changed_files` matches the files the test lists. */
export function agentPullRequest(files: FileSpec[], s: PullRequestScenario = {}): { name: "pull_request"; payload: any } {
  return pullRequestEvent({ changedFiles: files.length, ...s });
}

export { HEAD_SHA };
