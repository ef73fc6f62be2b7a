/**
 * Shared set-up for the telemetry scenarios: the real `workflow_run.completed` example moved into the test
 * repository, artifact zips built with fflate, and named nock helpers for the artifact endpoints.
 */
import { readFileSync } from "node:fs";
import { zipSync, strToU8 } from "fflate";
import nock from "nock";
import {
  APP_ID,
  BASE_SHA,
  HEAD_SHA,
  INSTALLATION_ID,
  OWNER,
  PR_NUMBER,
  REPO,
  REPO_PATH,
  api,
  fixture,
  shapePullRequest,
} from "../helpers/github.js";
import type { PullRequestScenario } from "../helpers/github.js";
import { POLICY_YML } from "./scenario.js";

export const RUN_ID = 30433642;
export const ARTIFACT_ID = 881;
export const WORKFLOW = ".github/workflows/agent.yml";
export const BLOB_HOST = "https://pipelines.actions.githubusercontent.com";
export const FULL_NAME = `${OWNER}/${REPO}`;

const INGEST = new URL("../fixtures/telemetry-ingest/", import.meta.url);
const TELEMETRY = new URL("../fixtures/telemetry/", import.meta.url);
export const telemetryFixture = (name: string): string => readFileSync(new URL(name, TELEMETRY), "utf8");

export function policyWithTelemetry(options: { required?: boolean; workflows?: string[] } = {}): string {
  const workflows = options.workflows ?? [WORKFLOW];
  return `${POLICY_YML}telemetry:\n  workflows: [${workflows.map((w) => JSON.stringify(w)).join(", ")}]\n  required: ${options.required ?? false}\n`;
}

export interface RunScenario {
  id?: number;
  path?: string;
  headSha?: string;
  headBranch?: string;
  /** `owner/name` of workflow_run.repository (default: the test repository). */
  repository?: string;
  /** `owner/name` of workflow_run.head_repository (default: the test repository). */
  headRepository?: string;
  pullRequests?: Array<{ number: number; headSha: string; headRef?: string }>;
  action?: string;
}

/** A `workflow_run.<action>` delivery built from the real example, in the test repository. */
export function workflowRunEvent(s: RunScenario = {}): { name: "workflow_run"; payload: any } {
  const payload = JSON.parse(readFileSync(new URL("workflow_run.completed.json", INGEST), "utf8"));
  const ourRepo = fixture("pull_request.opened").repository;
  ourRepo.owner.type = "Organization";
  payload.action = s.action ?? "completed";
  payload.repository = ourRepo;
  payload.organization = { ...payload.organization, login: OWNER };
  payload.installation = { id: INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  const run = payload.workflow_run;
  run.id = s.id ?? RUN_ID;
  run.path = s.path ?? WORKFLOW;
  run.name = "Agent";
  run.event = "workflow_dispatch";
  run.head_sha = s.headSha ?? BASE_SHA;
  run.head_branch = s.headBranch ?? "master";
  run.head_commit.id = run.head_sha;
  const repoObject = (fullName: string) => {
    const [owner, name] = fullName.split("/");
    return { ...run.repository, id: fullName === FULL_NAME ? ourRepo.id : 999, name, full_name: fullName, owner: { ...run.repository.owner, login: owner } };
  };
  run.repository = repoObject(s.repository ?? FULL_NAME);
  run.head_repository = repoObject(s.headRepository ?? s.repository ?? FULL_NAME);
  const template = run.pull_requests[0];
  run.pull_requests = (s.pullRequests ?? []).map((p) => ({ ...template, number: p.number, head: { ...template.head, sha: p.headSha, ref: p.headRef ?? "agent/run-1" } }));
  return { name: "workflow_run", payload };
}

/** The native bundle's manifest for the test repository (overrides per scenario). */
export function manifestFor(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = JSON.parse(telemetryFixture("native-bundle/manifest.json")) as Record<string, unknown>;
  return {
    ...base,
    repository: FULL_NAME,
    runId: RUN_ID,
    workflowPath: WORKFLOW,
    pullRequest: { number: PR_NUMBER, url: `https://github.com/${FULL_NAME}/pull/${PR_NUMBER}` },
    branch: "agent/run-1",
    headSha: HEAD_SHA,
    baseRef: "master",
    ...overrides,
  };
}

/** An artifact zip of the native bundle (a folder, as actions/upload-artifact stores it). */
export function nativeZip(options: { manifest?: Record<string, unknown>; events?: string; network?: string } = {}): Uint8Array {
  return zipSync({
    "manifest.json": strToU8(JSON.stringify(options.manifest ?? manifestFor())),
    "events.jsonl": strToU8(options.events ?? telemetryFixture("native-bundle/events.jsonl")),
    "network.jsonl": strToU8(options.network ?? telemetryFixture("native-bundle/network.jsonl")),
  });
}

export function transcriptZip(name: string, text: string): Uint8Array {
  return zipSync({ [name]: strToU8(text) });
}

export interface ArtifactSpec {
  id?: number;
  name?: string;
  size?: number;
  expired?: boolean;
  runId?: number;
}

/** `GET actions/runs/{id}/artifacts`. */
export function nockListArtifacts(artifacts: ArtifactSpec[], runId = RUN_ID): nock.Scope {
  return api()
    .get(`${REPO_PATH}/actions/runs/${runId}/artifacts`)
    .query({ per_page: "100" })
    .reply(200, {
      total_count: artifacts.length,
      artifacts: artifacts.map((a) => {
        const id = a.id ?? ARTIFACT_ID;
        return {
          id,
          node_id: `MDg6QXJ0aWZhY3Q${id}`,
          name: a.name ?? "agent-gate-telemetry",
          size_in_bytes: a.size ?? 1024,
          url: `https://api.github.com${REPO_PATH}/actions/artifacts/${id}`,
          archive_download_url: `https://api.github.com${REPO_PATH}/actions/artifacts/${id}/zip`,
          expired: a.expired ?? false,
          created_at: "2026-01-01T10:00:00Z",
          expires_at: "2026-04-01T10:00:00Z",
          updated_at: "2026-01-01T10:00:00Z",
          workflow_run: { id: a.runId ?? runId, repository_id: 1296269, head_repository_id: 1296269, head_branch: "master", head_sha: BASE_SHA },
        };
      }),
    });
}

/**
 * `GET actions/artifacts/{id}/zip` answering 302 to a signed blob URL, and the blob itself (not an API request,
 * so not counted). The API request must carry our token; the blob request must not.
 */
export function nockDownload(zip: Uint8Array, id = ARTIFACT_ID): { blob: nock.Scope; apiScope: nock.Scope; blobHeaders: Array<Record<string, unknown>> } {
  const location = `${BLOB_HOST}/artifacts/${id}/download?sig=test-signature`;
  const apiScope = api().get(`${REPO_PATH}/actions/artifacts/${id}/zip`).matchHeader("authorization", /^token ghs_test$/).reply(302, "", { location });
  const blobHeaders: Array<Record<string, unknown>> = [];
  const blob = nock(BLOB_HOST)
    .get(`/artifacts/${id}/download`)
    .query({ sig: "test-signature" })
    .reply(function () {
      blobHeaders.push({ ...this.req.headers });
      return [200, Buffer.from(zip), { "content-type": "application/zip", "content-length": String(zip.byteLength) }];
    });
  return { blob, apiScope, blobHeaders };
}

/** The PR as `GET pulls/{n}` answers it. */
export function pullRequestJson(s: PullRequestScenario & { state?: "open" | "closed"; headRepo?: string } = {}): any {
  const pr = shapePullRequest(fixture("pull_request.opened").pull_request, { changedFiles: 2, ...s });
  if (s.state) pr.state = s.state;
  if (s.headRepo) pr.head.repo = { ...pr.head.repo, full_name: s.headRepo };
  else pr.head.repo = { ...pr.head.repo, full_name: FULL_NAME };
  pr.base.repo = { ...pr.base.repo, full_name: FULL_NAME };
  return pr;
}

export function nockPatchCheckRun(id = 77): { scope: nock.Scope; bodies: any[] } {
  const bodies: any[] = [];
  const scope = api()
    .patch(`${REPO_PATH}/check-runs/${id}`, (body: any) => {
      bodies.push(body);
      return true;
    })
    .reply(200, { id });
  return { scope, bodies };
}

/**
 * `GET commits/{sha}/check-runs?check_name=Agent Gate: rationale…` as GitHub answers it: what a retried ingestion
 * looks for before creating the rationale check (ours are matched by `external_id`).
 */
export function nockRationaleChecksOn(sha: string, runs: Array<{ id: number; externalId: string }>): nock.Scope {
  return api()
    .get(`${REPO_PATH}/commits/${sha}/check-runs`)
    .query((q) => q.check_name === "Agent Gate: rationale" && q.filter === "all")
    .reply(200, {
      total_count: runs.length,
      check_runs: runs.map((r) => ({
        id: r.id,
        name: "Agent Gate: rationale",
        head_sha: sha,
        external_id: r.externalId,
        status: "completed",
        conclusion: "neutral",
        html_url: `https://github.com/${FULL_NAME}/runs/${r.id}`,
        app: { id: APP_ID, slug: "agent-gate" },
      })),
    });
}
