/**
 * Bottleneck's in-memory datastore (bottleneck/light.js, the build Octokit's throttling and retry plugins import)
 * yields with `setTimeout(resolve, 0)`: a 1 ms timer each time once Node clamps it. The App swaps those yields for
 * `setImmediate` (src/github/bottleneck-yield.ts); these tests count the zero-delay timers a limiter arms.
 * Each test file runs in its own process (vitest `pool: "forks"`), so the first test sees Bottleneck unpatched.
 */
import { createRequire } from "node:module";
import nock from "nock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { yieldBottleneckWithSetImmediate } from "../../src/github/bottleneck-yield.js";
import { API } from "../helpers/github.js";

interface Limiter {
  schedule<T>(fn: () => Promise<T>): Promise<T>;
}
const Bottleneck = createRequire(import.meta.url)("bottleneck/light.js") as new (options?: object) => Limiter;

/** Runs `fn` and counts its `setTimeout(…, 0)` calls (timers with a real delay are not counted) and `setImmediate` calls. */
async function yields(fn: () => Promise<void>): Promise<{ zeroTimers: number; immediates: number }> {
  const timeout = vi.spyOn(globalThis, "setTimeout");
  const immediate = vi.spyOn(globalThis, "setImmediate");
  try {
    await fn();
    return { zeroTimers: timeout.mock.calls.filter(([, delay]) => !delay).length, immediates: immediate.mock.calls.length };
  } finally {
    timeout.mockRestore();
    immediate.mockRestore();
  }
}

async function scheduleAll(limiter: Limiter, n: number): Promise<number[]> {
  const done: number[] = [];
  await Promise.all(Array.from({ length: n }, (_, i) => limiter.schedule(async () => void done.push(i))));
  return done;
}

afterEach(() => {
  nock.cleanAll();
});

describe("Bottleneck's yields", () => {
  it("become setImmediate once patched (only the job's own start stays a timer), and jobs still run in order", async () => {
    let before: number[] = [];
    const unpatched = await yields(async () => void (before = await scheduleAll(new Bottleneck({ maxConcurrent: 1 }), 20)));
    // Bottleneck 2.19: three datastore yields and one start timer a job.
    expect(unpatched.zeroTimers).toBeGreaterThanOrEqual(4 * 20);
    expect(before).toEqual([...Array(20).keys()]);

    expect(yieldBottleneckWithSetImmediate()).toBe(true);
    let after: number[] = [];
    const patched = await yields(async () => void (after = await scheduleAll(new Bottleneck({ maxConcurrent: 1 }), 20)));
    expect(patched.zeroTimers).toBeLessThanOrEqual(unpatched.zeroTimers - 3 * 20);
    expect(patched.immediates).toBeGreaterThanOrEqual(3 * 20);
    expect(after).toEqual([...Array(20).keys()]);
  });

  it("keep a limiter's real spacing (minTime) as timers", async () => {
    yieldBottleneckWithSetImmediate();
    const spy = vi.spyOn(globalThis, "setTimeout");
    try {
      const limiter = new Bottleneck({ maxConcurrent: 1, minTime: 50 });
      const started: number[] = [];
      await Promise.all([0, 1, 2].map(() => limiter.schedule(async () => void started.push(performance.now()))));
      expect(spy.mock.calls.some(([, delay]) => typeof delay === "number" && delay > 0)).toBe(true);
      // Three starts spaced minTime apart (Bottleneck keeps its own clock: allow it a few milliseconds).
      expect(started[2]! - started[0]!).toBeGreaterThanOrEqual(95);
    } finally {
      spy.mockRestore();
    }
  });

  it("are patched for the App's Octokit: a request through both plugins yields with setImmediate", async () => {
    const { AgentGateOctokit } = await import("../../src/app/server.js");
    const octokit = new AgentGateOctokit({ auth: { token: "ghs_test" } });
    nock(API).get("/repos/o/r").times(2).reply(200, { name: "r" });
    await octokit.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
    const counted = await yields(async () => {
      const response = await octokit.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
      expect(response.data).toMatchObject({ name: "r" });
    });
    // Unpatched, the same request through Probot's Octokit armed 12 zero-delay timers and no setImmediate; the 3 left
    // start its jobs in Bottleneck's limiters.
    expect(counted.immediates).toBeGreaterThanOrEqual(8);
    expect(counted.zeroTimers).toBeLessThanOrEqual(3);
  });
});
