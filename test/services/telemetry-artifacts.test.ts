/**
 * The artifact adapter's edges (download paths and caps) and the telemetry.required gate on its own.
 */
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { ArtifactTooLargeError } from "../../src/github/errors.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { GitHubApiError } from "../../src/github/errors.js";
import type { Octokit } from "../../src/github/octokit-github.js";
import type { PullRequestInfo } from "../../src/github/port.js";
import { defaultPolicy } from "../../src/policy/config.js";
import type { Decision } from "../../src/policy/types.js";
import { TtlEnforcementCache } from "../../src/services/enforcement-cache.js";
import { applyTelemetryRequirement } from "../../src/services/telemetry-gate.js";
import type { TelemetryStore } from "../../src/services/telemetry-types.js";
import { DatabaseTelemetryStore } from "../../src/store/telemetry-store.js";
import type { ServiceDeps } from "../../src/services/types.js";
import { API, TestOctokit } from "../helpers/github.js";
import { UNUSED_GATE_STORE, freshGateStore } from "../helpers/gate-store.js";

const repo = { owner: "acme", repo: "widgets" };
const octokit = () => new TestOctokit({ auth: { token: "ghs_test" } }) as Octokit;

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("OctokitGitHub.downloadArtifact", () => {
  it("follows the 302 to the blob host without the token", async () => {
    const seen: Array<Record<string, unknown>> = [];
    nock(API).get("/repos/acme/widgets/actions/artifacts/5/zip").reply(302, "", { location: "https://blob.example.net/a.zip?sig=1" });
    nock("https://blob.example.net")
      .get("/a.zip")
      .query({ sig: "1" })
      .reply(function () {
        seen.push({ ...this.req.headers });
        return [200, Buffer.from([1, 2, 3]), { "content-type": "application/zip" }];
      });
    const bytes = await new OctokitGitHub(octokit()).downloadArtifact(repo, 5, 100);
    expect([...bytes]).toEqual([1, 2, 3]);
    expect(seen[0]).not.toHaveProperty("authorization");
  });

  it("takes the zip when the server answers 200 directly, still within the cap", async () => {
    nock(API).get("/repos/acme/widgets/actions/artifacts/6/zip").reply(200, Buffer.from([9, 9]), { "content-type": "application/zip" });
    expect([...(await new OctokitGitHub(octokit()).downloadArtifact(repo, 6, 100))]).toEqual([9, 9]);
    nock(API).get("/repos/acme/widgets/actions/artifacts/6/zip").reply(200, Buffer.alloc(50), { "content-type": "application/zip", "content-length": "50" });
    await expect(new OctokitGitHub(octokit()).downloadArtifact(repo, 6, 10)).rejects.toBeInstanceOf(ArtifactTooLargeError);
  });

  it("refuses a redirect to plain http, and turns API errors into GitHubApiError", async () => {
    nock(API).get("/repos/acme/widgets/actions/artifacts/7/zip").reply(302, "", { location: "http://blob.example.net/a.zip" });
    await expect(new OctokitGitHub(octokit()).downloadArtifact(repo, 7, 100)).rejects.toThrow(/non-https/);
    nock(API).get("/repos/acme/widgets/actions/artifacts/8/zip").reply(410, { message: "Artifact has expired" });
    const error = await new OctokitGitHub(octokit()).downloadArtifact(repo, 8, 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(410);
  });

  it("a blob answering an error status is a GitHubApiError naming the blob request", async () => {
    nock(API).get("/repos/acme/widgets/actions/artifacts/9/zip").reply(302, "", { location: "https://blob.example.net/b.zip" });
    nock("https://blob.example.net").get("/b.zip").reply(403, "AuthenticationFailed");
    await expect(new OctokitGitHub(octokit()).downloadArtifact(repo, 9, 100)).rejects.toThrow(/GET https:\/\/blob\.example\.net\/b\.zip answered 403/);
  });
});

describe("applyTelemetryRequirement", () => {
  const pr = { number: 3, headSha: "a".repeat(40) } as PullRequestInfo;
  const decision = (conclusion: Decision["conclusion"], isAgent = true) => ({ conclusion, title: "Low risk", scope: { inScope: true, isAgent, reason: "" } }) as unknown as Decision;
  const policy = (required: boolean) => {
    const p = defaultPolicy();
    return { ...p, telemetry: { workflows: [".github/workflows/agent.yml"], required } };
  };
  const deps = (telemetry?: TelemetryStore): ServiceDeps => ({
    github: {} as ServiceDeps["github"],
    log: { debug() {}, info() {}, warn() {}, error() {} },
    store: UNUSED_GATE_STORE,
    clock: () => new Date(),
    appId: null,
    enforcement: new TtlEnforcementCache(),
    telemetry,
  });

  it("not required, or not an agent PR: the decision stands", async () => {
    expect(await applyTelemetryRequirement(deps(), repo, pr, policy(false), decision("success"))).toEqual({ decision: decision("success"), note: null });
    expect((await applyTelemetryRequirement(deps(), repo, pr, policy(true), decision("success", false))).decision.conclusion).toBe("success");
  });

  it("required without a telemetry store fails closed; a failure stays a failure, with the note", async () => {
    expect((await applyTelemetryRequirement(deps(), repo, pr, policy(true), decision("success"))).decision.conclusion).toBe("action_required");
    const failed = await applyTelemetryRequirement(deps(), repo, pr, policy(true), decision("failure"));
    expect(failed.decision.conclusion).toBe("failure");
    expect(failed.note).toMatch(/Waiting on agent telemetry/);
  });

  it("accepted telemetry for another head does not count", async () => {
    const store = new DatabaseTelemetryStore((await freshGateStore()).store);
    await store.record({
      repository: "acme/widgets",
      pullRequest: 3,
      headSha: "b".repeat(40),
      workflowRunId: 1,
      workflowPath: ".github/workflows/agent.yml",
      artifactId: 1,
      format: "native",
      accepted: true,
      reasons: [],
      agent: null,
      model: null,
      counts: {},
      trace: null,
      discrepancies: [],
      audit: [],
      deliveryId: undefined,
    });
    expect((await applyTelemetryRequirement(deps(store), repo, pr, policy(true), decision("success"))).decision.conclusion).toBe("action_required");
    expect((await applyTelemetryRequirement(deps(store), repo, { ...pr, headSha: "b".repeat(40) }, policy(true), decision("success"))).decision.conclusion).toBe("success");
  });
});
