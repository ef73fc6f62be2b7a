/**
 * Publishing a check run exactly once, against the fake GitHub over HTTP with Octokit's retry plugin ON (as the
 * App runs it): a POST whose response is lost after GitHub applied it, a replayed job, a later decision.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ProbotOctokit } from "probot";
import { FakeGitHub } from "../../bench/fake-github.js";
import { publishCheckRun } from "../../src/github/check-runs.js";
import type { CheckRunMemory, CheckRunOctokit } from "../../src/github/check-runs.js";
import { completedCheckRun } from "../../src/github/octokit-github.js";

const APP = 4242;
const repo = { owner: "acme", repo: "service" };
const HEAD = "a".repeat(40);
let fake: FakeGitHub | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function setup() {
  fake = new FakeGitHub({ files: {}, requiredChecks: [] }, APP);
  const host = await fake.start();
  // Probot's Octokit with its retry plugin: a lost response (a network error) is retried by default.
  const RetryingOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, retry: { retries: 2, retryAfterBaseValue: 10 }, throttle: { ...(options.throttle as object | undefined), enabled: false } }));
  const octokit = new RetryingOctokit({ auth: { token: "ghs_test" }, baseUrl: `http://${host}` }) as unknown as CheckRunOctokit;
  return { fake, octokit };
}

const body = (conclusion: "success" | "failure" | "action_required" = "action_required") =>
  completedCheckRun(repo, { name: "Agent Gate: approval (main)", headSha: HEAD, conclusion, title: "t", summary: "s", externalId: "pr:7" });

function memory(): CheckRunMemory & { ids: Map<string, number> } {
  const ids = new Map<string, number>();
  return {
    ids,
    find: async (_r, sha, name) => ids.get(`${sha}|${name}`) ?? null,
    remember: async (_r, sha, name, id) => void ids.set(`${sha}|${name}`, id),
  };
}

describe("publishing a check run exactly once", () => {
  it("control: a plain POST whose response is lost is retried by Octokit and leaves two check runs", async () => {
    const { fake, octokit } = await setup();
    let lost = 0;
    fake.loseResponse = () => lost++ === 0;
    await octokit.request("POST /repos/{owner}/{repo}/check-runs", body());
    expect(fake.checkRuns).toHaveLength(2);
  });

  it("the response to a check-run POST is lost after GitHub applied it: still one check run", async () => {
    const { fake, octokit } = await setup();
    let lost = 0;
    fake.loseResponse = () => lost++ === 0;
    const mem = memory();
    const ref = await publishCheckRun(octokit, body(), { memory: mem, appId: APP });
    expect(fake.checkRuns).toHaveLength(1);
    expect(ref.id).toBe(fake.checkRuns[0]!.id);
    expect(fake.checkRuns[0]!.updates).toBe(1);
    expect(mem.ids.get(`${HEAD}|Agent Gate: approval (main)`)).toBe(ref.id);
  });

  it("a later decision on the same head updates the check run it remembers", async () => {
    const { fake, octokit } = await setup();
    const mem = memory();
    const first = await publishCheckRun(octokit, body("action_required"), { memory: mem, appId: APP });
    const second = await publishCheckRun(octokit, body("success"), { memory: mem, appId: APP });
    expect(second.id).toBe(first.id);
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.checkRuns[0]).toMatchObject({ conclusion: "success", updates: 1 });
  });

  it("a replayed job whose earlier attempt died before remembering the id finds the check run on GitHub", async () => {
    const { fake, octokit } = await setup();
    await octokit.request("POST /repos/{owner}/{repo}/check-runs", body());
    const ref = await publishCheckRun(octokit, body("success"), { memory: memory(), appId: APP, lookFirst: true });
    expect(fake.checkRuns).toHaveLength(1);
    expect(ref.id).toBe(fake.checkRuns[0]!.id);
    expect(fake.checkRuns[0]!.conclusion).toBe("success");
  });

  it("a remembered check run deleted on GitHub is created again", async () => {
    const { fake, octokit } = await setup();
    const mem = memory();
    await mem.remember(repo, HEAD, "Agent Gate: approval (main)", 999);
    const ref = await publishCheckRun(octokit, body(), { memory: mem, appId: APP });
    expect(fake.checkRuns).toHaveLength(1);
    expect(mem.ids.get(`${HEAD}|Agent Gate: approval (main)`)).toBe(ref.id);
  });

  it("130 annotations: the create carries 50, two PATCHes carry 50 and 30, in order; a later decision on the head sends none", async () => {
    const { fake, octokit } = await setup();
    const annotations = Array.from({ length: 130 }, (_, i) => ({ path: "src/a.ts", start_line: i + 1, end_line: i + 1, annotation_level: "warning" as const, message: `line ${i + 1}` }));
    const mem = memory();
    await publishCheckRun(octokit, body(), { memory: mem, appId: APP }, annotations);
    const run = fake.checkRuns[0]!;
    expect(run.annotationBatches.map((b) => b.length)).toEqual([50, 50, 30]);
    expect(run.annotationBatches.flat()).toEqual(annotations);
    await publishCheckRun(octokit, body("success"), { memory: mem, appId: APP }, annotations);
    expect(fake.checkRuns).toHaveLength(1);
    expect(run.annotationBatches.flat()).toHaveLength(130);
  });
});
