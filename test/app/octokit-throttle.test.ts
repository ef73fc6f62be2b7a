/**
 * The write limiter of the Octokit a webhook handler gets is per installation: GitHub's "one content-creating
 * request a second" applies to each installation, not to the whole App. Probot's webhook path (`context.octokit`)
 * used to leave the throttling plugin's key at "no-id", so one installation's writes held up every other's.
 *
 * The write limiter here is a real Bottleneck group configured as the plugin's own (one at a time, spaced), with a
 * spacing of 10 minutes instead of 1 s: a write that has to wait for another one's slot would not happen during the
 * test, so "reached GitHub" versus "still waiting in the limiter" is unambiguous without measuring any time.
 */
import Bottleneck from "bottleneck";
import nock from "nock";
import { Probot } from "probot";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AgentGateOctokit } from "../../src/app/server.js";
import { API, APP_ID, captureLog, fixture, testPrivateKey } from "../helpers/github.js";

const SPACING_MS = 10 * 60 * 1000;

afterEach(() => {
  nock.cleanAll();
});

function setup() {
  const write = new Bottleneck.Group({ maxConcurrent: 1, minTime: SPACING_MS });
  // The production Octokit, with only the write limiter swapped for the one the test can inspect.
  const Octokit = AgentGateOctokit.defaults((options: Record<string, unknown>) => ({ ...options, throttle: { ...(options.throttle as object | undefined), write } }));
  const { log } = captureLog("info");
  const probot = new Probot({ appId: APP_ID, privateKey: testPrivateKey(), secret: "s", log, Octokit });
  const checkRuns: string[] = [];
  void probot.load((app) => {
    app.on("pull_request.opened", async (context) => {
      await context.octokit.request("POST /repos/{owner}/{repo}/check-runs", context.repo({ name: "Agent Gate", head_sha: context.payload.pull_request.head.sha }));
    });
  });
  nock(API)
    .persist()
    .post(/^\/app\/installations\/\d+\/access_tokens$/)
    .reply(201, { token: "ghs_test", expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {} })
    .post(/^\/repos\/[^/]+\/[^/]+\/check-runs$/)
    .reply(201, (uri) => {
      checkRuns.push(uri);
      return { id: checkRuns.length };
    });
  const deliver = (id: string, installationId: number, repo: string) => {
    const payload = fixture("pull_request.opened");
    payload.installation = { id: installationId, node_id: "x" };
    payload.repository.name = repo;
    payload.repository.full_name = `${payload.repository.owner.login}/${repo}`;
    return probot.receive({ id, name: "pull_request", payload } as Parameters<Probot["receive"]>[0]);
  };
  return { write, probot, checkRuns, deliver };
}

/** Jobs the limiter holds that have not started (received, queued, or waiting for their slot). */
function waiting(limiter: Bottleneck): number {
  const c = limiter.counts();
  return (c.RECEIVED ?? 0) + (c.QUEUED ?? 0) + (c.RUNNING ?? 0);
}

describe("the write limiter of a webhook handler's Octokit", () => {
  it("does not make one installation's write wait for another installation's", async () => {
    const { write, checkRuns, deliver } = setup();
    const handled = Promise.all([deliver("d1", 101, "repo-a"), deliver("d2", 202, "repo-b"), deliver("d3", 303, "repo-c")]);
    // Serialised, the second and third writes would wait 10 minutes for their slot.
    await vi.waitFor(() => expect(checkRuns).toHaveLength(3), { timeout: 10_000, interval: 20 });
    await handled;
    expect(checkRuns.sort()).toEqual(["/repos/Codertocat/repo-a/check-runs", "/repos/Codertocat/repo-b/check-runs", "/repos/Codertocat/repo-c/check-runs"]);
    // One limiter per installation, keyed as Probot's app.auth(id) keys them (the same installation shares one).
    expect(write.keys().sort()).toEqual(["101", "202", "303"]);
  });

  it("still spaces one installation's writes", async () => {
    const { write, checkRuns, deliver } = setup();
    const first = deliver("d1", 7, "repo-a");
    const second = deliver("d2", 7, "repo-b").catch((error: unknown) => error);
    await first;
    expect(write.keys()).toEqual(["7"]);
    const limiter = write.key("7");
    await vi.waitFor(() => expect(waiting(limiter)).toBe(1), { interval: 20 });
    expect(checkRuns).toHaveLength(1);
    // Release the held write: it is dropped, so the second delivery fails instead of reaching GitHub.
    await limiter.stop({ dropWaitingJobs: true });
    expect(String(await second)).toMatch(/stopped/i);
    expect(checkRuns).toHaveLength(1);
  });
});
