/**
 * The services against a fake GitHubPort: the seams the store will plug into (dedup, lock, memory), and the
 * pieces of logic that do not need HTTP to be tested.
 */
import { describe, expect, it } from "vitest";
import { BASE, FakeGitHub, HEAD, pull, repo } from "../helpers/fake-github-port.js";
import { evaluatePullRequest, triggeredByFromBody } from "../../src/services/evaluate-pull-request.js";
import { classifyRequiredChecks, enforcementNote } from "../../src/services/enforcement.js";
import { TtlEnforcementCache } from "../../src/services/enforcement-cache.js";
import { fence } from "../../src/services/render.js";
import type { GateStore, Log, ServiceDeps } from "../../src/services/types.js";
import { freshGateStore } from "../helpers/gate-store.js";

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

function deps(github: FakeGitHub, store: GateStore): ServiceDeps {
  return { github, log: silent, store, clock: () => new Date("2026-01-01T00:00:00Z"), appId: 1, enforcement: new TtlEnforcementCache() };
}

describe("evaluatePullRequest (services with a fake GitHub)", () => {
  it("publishes a decision and records it for the audit log", async () => {
    const github = new FakeGitHub();
    const store = await freshGateStore();
    const outcome = await evaluatePullRequest(deps(github, store), { repo, number: 7, pull: pull(), deliveryId: "d1", event: "pull_request.opened" });
    expect(outcome).toMatchObject({ kind: "published", conclusion: "success", risk: "low", enforcement: "enforced" });
    const decisions = await store.decisions();
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ deliveryId: "d1", headSha: HEAD, baseSha: BASE, conclusion: "success", checkName: "Agent Gate: approval (main)" });
  });

  it("invariant 9 (idempotent): a failed delivery is not marked done, so its redelivery runs again", async () => {
    const github = new FakeGitHub();
    const store = await freshGateStore();
    github.failOn = "listReviews";
    await expect(evaluatePullRequest(deps(github, store), { repo, number: 7, pull: pull(), deliveryId: "d2", event: "e" })).rejects.toThrow(/502/);
    // The failing check was still published: never success (invariant 5).
    expect(github.checks.map((c) => c.conclusion)).toEqual(["failure"]);
    github.failOn = null;
    const again = await evaluatePullRequest(deps(github, store), { repo, number: 7, pull: pull(), deliveryId: "d2", event: "e" });
    expect(again.kind).toBe("published");
    const third = await evaluatePullRequest(deps(github, store), { repo, number: 7, pull: pull(), deliveryId: "d2", event: "e" });
    expect(third).toEqual({ kind: "skipped", reason: "delivery already handled" });
  });

  it("invariant 9: a decision the store cannot record is not published, nor is a failing check in its place", async () => {
    const github = new FakeGitHub();
    const store = await freshGateStore();
    // The database is gone when the decision is to be committed (e.g. an outage mid-evaluation).
    const down = (): never => {
      throw new Error("connection refused (database)");
    };
    const broken: GateStore = {
      latestDecision: (key) => store.latestDecision(key),
      recordMergeGroup: (record) => store.recordMergeGroup(record),
      withPullRequestLock: (key, fn) => store.withPullRequestLock(key, (scope) => fn({ ...scope, recordDecision: async () => down() })),
    };
    await expect(evaluatePullRequest(deps(github, broken), { repo, number: 7, pull: pull(), deliveryId: "d9", event: "e" })).rejects.toThrow(/database/);
    expect(github.checks).toEqual([]);
  });

  it("invariant 9 (idempotent): two copies of one delivery arriving together publish once", async () => {
    const github = new FakeGitHub();
    const d = deps(github, await freshGateStore());
    const target = { repo, number: 7, pull: pull(), deliveryId: "d3", event: "e" };
    const [a, b] = await Promise.all([evaluatePullRequest(d, target), evaluatePullRequest(d, target)]);
    expect([a.kind, b.kind].sort()).toEqual(["published", "skipped"]);
    expect(github.checks).toHaveLength(1);
  });

  it("invariant 9 (idempotent): evaluations of one PR do not interleave, so the later event publishes last", async () => {
    const github = new FakeGitHub();
    const d = deps(github, await freshGateStore());
    let release!: () => void;
    github.gate = new Promise((resolve) => (release = resolve));
    const first = evaluatePullRequest(d, { repo, number: 7, pull: pull(), deliveryId: "e1", event: "first" });
    await new Promise((r) => setTimeout(r, 10));
    const second = evaluatePullRequest(d, { repo, number: 7, pull: pull(), deliveryId: "e2", event: "second" });
    await new Promise((r) => setTimeout(r, 10));
    // The second evaluation has not started reading while the first holds the lock.
    expect(github.calls.filter((c) => c === "listPullRequestFiles")).toHaveLength(1);
    release();
    await Promise.all([first, second]);
    expect(github.calls.filter((c) => c === "listPullRequestFiles")).toHaveLength(2);
    expect(github.checks).toHaveLength(2);
  });

  it("issue 12: publishes for the event's head without re-reading the PR (a newer head's event has its own job after this one)", async () => {
    const github = new FakeGitHub();
    // GitHub has moved on; the App does not ask, and the check it publishes is bound to the head it evaluated.
    github.current = pull({ headSha: "c".repeat(40) });
    const outcome = await evaluatePullRequest(deps(github, await freshGateStore()), { repo, number: 7, pull: pull(), event: "e" });
    expect(outcome.kind).toBe("published");
    expect(github.calls).not.toContain("getPullRequest");
    expect(github.checks.map((c) => c.headSha)).toEqual([pull().headSha]);
  });

  it("invariant 4: the triggering user named in the body is remembered; editing the body later cannot drop it", async () => {
    const store = await freshGateStore();
    const key = { ...repo, number: 7, installationId: undefined };
    await store.prepare(key, async (scope) => expect(await scope.firstTriggeredBy(triggeredByFromBody("<!-- agent-gate: triggered-by=@carol -->"))).toBe("carol"));
    // Later deliveries, each under the lock as the App takes it.
    await store.prepare(key, async (scope) => expect(await scope.firstTriggeredBy(undefined)).toBe("carol"));
    await store.prepare(key, async (scope) => expect(await scope.firstTriggeredBy("mallory")).toBe("carol"));
  });

  it("invariant 9 (idempotent): a head older than one already seen is not published, even if GitHub still lists it", async () => {
    const github = new FakeGitHub();
    const store = await freshGateStore();
    // An event for a newer head was seen (say by another replica) before this evaluation re-read the PR.
    await store.prepare({ ...repo, number: 7, installationId: undefined }, async (scope) => expect(await scope.isStale("c".repeat(40), new Date("2026-01-01T12:00:00Z"))).toBe(false));
    github.current = pull({ updatedAt: "2026-01-01T11:00:00Z" });
    const outcome = await evaluatePullRequest(deps(github, store), { repo, number: 7, pull: pull({ updatedAt: "2026-01-01T11:00:00Z" }), event: "e" });
    expect(outcome.kind).toBe("superseded");
    expect(github.checks).toEqual([]);
  });

  it("does not publish for a closed pull request, and reads no policy", async () => {
    const github = new FakeGitHub();
    const outcome = await evaluatePullRequest(deps(github, await freshGateStore()), { repo, number: 7, pull: pull({ state: "closed" }), event: "e" });
    expect(outcome).toEqual({ kind: "skipped", reason: "the pull request is closed" });
    expect(github.calls).toEqual([]);
  });
});

describe("triggeredByFromBody", () => {
  it.each([
    ["<!-- agent-gate: triggered-by=@carol run=17 -->", "carol"],
    ["<!--agent-gate: run=3 triggered-by: dave-x -->", "dave-x"],
    ["Task done.\n\nTriggered-by: @erin\n", "erin"],
    ["mentions @carol but no marker", undefined],
    ["<!-- someone-else: triggered-by=@carol -->", undefined],
  ])("%j -> %j", (body, login) => {
    expect(triggeredByFromBody(body)).toBe(login);
  });
});

describe("branch enforcement (invariant 10)", () => {
  const name = "Agent Gate: approval (main)";
  it("is enforced only when the required check is pinned to this App", () => {
    expect(classifyRequiredChecks([{ context: name, appId: 1, source: "ruleset" }], name, 1).state).toBe("enforced");
    expect(classifyRequiredChecks([{ context: name, appId: null, source: "branch-protection" }], name, 1).state).toBe("any-source");
    expect(classifyRequiredChecks([{ context: name, appId: 99, source: "ruleset" }], name, 1).state).toBe("other-source");
    expect(classifyRequiredChecks([{ context: "Agent Gate: approval (release)", appId: 1, source: "ruleset" }], name, 1).state).toBe("not-required");
  });

  it("says nothing when enforced and says plainly when not", () => {
    expect(enforcementNote({ state: "enforced", via: ["ruleset"] }, name, "main")).toBeNull();
    expect(enforcementNote({ state: "not-required", via: [] }, name, "main")).toMatch(/not enforced until an admin requires this check/);
  });

  it("remembers an answer for its time to live only", () => {
    const cache = new TtlEnforcementCache(1_000);
    cache.set("k", { state: "enforced", via: [] }, 0);
    expect(cache.get("k", 999)?.state).toBe("enforced");
    expect(cache.get("k", 1_001)).toBeUndefined();
  });
});

describe("fence", () => {
  it("cannot be closed early by backticks in the text", () => {
    const text = "evil ```\n# heading";
    const block = fence(text);
    expect(block.startsWith("````text\n")).toBe(true);
    expect(block.endsWith("\n````")).toBe(true);
  });
});
