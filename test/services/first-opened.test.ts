/**
 * Issue 12: the first evaluation of a PR just opened reads no reviews (there are none yet), and only that one: any
 * earlier attempt on the PR (failed or not), or any other event folded into the job, makes it read them.
 */
import { describe, expect, it } from "vitest";
import { foldWork, routeEvent } from "../../src/app/routes.js";
import type { Work } from "../../src/app/routes.js";
import { evaluatePullRequest } from "../../src/services/evaluate-pull-request.js";
import type { EvaluationTarget } from "../../src/services/evaluate-pull-request.js";
import { TtlEnforcementCache } from "../../src/services/enforcement-cache.js";
import type { GateStore, Log, ServiceDeps } from "../../src/services/types.js";
import { FakeGitHub, HEAD, pull, repo } from "../helpers/fake-github-port.js";
import { freshGateStore } from "../helpers/gate-store.js";
import { pullRequestEvent, reviewEvent } from "../helpers/github.js";

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };
const UPDATED_AT = "2026-01-01T00:00:00Z";

function deps(github: FakeGitHub, store: GateStore): ServiceDeps {
  return { github, log: silent, store, clock: () => new Date(UPDATED_AT), appId: 1, enforcement: new TtlEnforcementCache() };
}

/** What the edge routes a webhook to (real payloads: @octokit/webhooks-examples, test/helpers/github.ts). */
function routed(event: { name: string; payload: unknown }, id: string): Work {
  const route = routeEvent({ id, ...event }, { appId: null });
  if (!("works" in route)) throw new Error(route.skip);
  return route.works[0]!.work;
}

function targetOf(work: Work): EvaluationTarget {
  if (work.kind !== "evaluate") throw new Error(`not an evaluation: ${work.kind}`);
  return work.target;
}

/** A target of the fake GitHub's PR, with what the edge's routing decided about reading reviews. */
function target(deliveryId: string, event: string, opened: true | undefined): EvaluationTarget {
  return { repo, number: 7, pull: pull({ updatedAt: UPDATED_AT }), deliveryId, event, opened };
}

const reviewsRead = (github: FakeGitHub) => github.calls.filter((c) => c === "listReviews").length;

describe("issue 12: a PR's first evaluation of its opening reads no reviews", () => {
  it("the edge marks only an opened PR, and folding keeps the mark only if every folded event is that opened", () => {
    const opened = routed(pullRequestEvent({ action: "opened" }), "d-opened");
    const review = routed(reviewEvent({ reviewer: "dba-alice" }), "d-review");
    expect(targetOf(opened).opened).toBe(true);
    expect(targetOf(review).opened).toBeUndefined();
    expect(targetOf(routed(pullRequestEvent({ action: "reopened" }), "d-reopened")).opened).toBeUndefined();
    expect(targetOf(routed(pullRequestEvent({ action: "synchronize" }), "d-push")).opened).toBeUndefined();
    // A review folded into the opened PR's pending job, in either order (deliveries can arrive out of order).
    expect(targetOf(foldWork(opened, review)).opened).toBeUndefined();
    expect(targetOf(foldWork(review, opened)).opened).toBeUndefined();
    // A redelivery of the opened event folded into its own pending job keeps it.
    expect(targetOf(foldWork(opened, routed(pullRequestEvent({ action: "opened" }), "d-opened-again"))).opened).toBe(true);
  });

  it("the first opened evaluation skips the reviews read; a review event coalesced with opened reads them", async () => {
    const github = new FakeGitHub();
    await evaluatePullRequest(deps(github, await freshGateStore()), target("d1", "pull_request.opened", true));
    expect(reviewsRead(github)).toBe(0);
    expect(github.checks.map((c) => c.conclusion)).toEqual(["success"]);

    // The same first evaluation, but a review was folded into the job: the folded work is what the job runs.
    const folded = foldWork(routed(pullRequestEvent({ action: "opened" }), "d-o"), routed(reviewEvent({ reviewer: "dba-alice" }), "d-r"));
    const coalesced = new FakeGitHub();
    coalesced.reviews = [{ reviewer: "dba-alice", reviewerType: "User", state: "APPROVED", commitId: HEAD, submittedAt: UPDATED_AT }];
    await evaluatePullRequest(deps(coalesced, await freshGateStore()), target("d-r", targetOf(folded).event, targetOf(folded).opened));
    expect(reviewsRead(coalesced)).toBe(1);
  });

  it("a second opened-like evaluation reads them: a reopened PR, or an opened one already attempted", async () => {
    const github = new FakeGitHub();
    const store = await freshGateStore();
    await evaluatePullRequest(deps(github, store), target("d1", "pull_request.opened", true));
    await evaluatePullRequest(deps(github, store), target("d2", "pull_request.reopened", undefined));
    expect(reviewsRead(github)).toBe(1);
    // Another opened delivery of the same PR (e.g. a manual redelivery after the first was handled).
    await evaluatePullRequest(deps(github, store), target("d3", "pull_request.opened", true));
    expect(reviewsRead(github)).toBe(2);
  });

  it("after a failed first attempt (no decision recorded) the retried opened evaluation reads them", async () => {
    const github = new FakeGitHub();
    const store = await freshGateStore();
    github.failOn = "listPullRequestFiles";
    await expect(evaluatePullRequest(deps(github, store), { ...target("d1", "pull_request.opened", true), publishFailure: false })).rejects.toThrow(/502/);
    expect(reviewsRead(github)).toBe(0);
    expect(await store.decisions()).toHaveLength(0);
    github.failOn = null;
    await evaluatePullRequest(deps(github, store), target("d1", "pull_request.opened", true));
    expect(reviewsRead(github)).toBe(1);
  });

  it("without the PR's updated_at nothing marks the attempt, so the reviews are read", async () => {
    const github = new FakeGitHub();
    await evaluatePullRequest(deps(github, await freshGateStore()), { ...target("d1", "pull_request.opened", true), pull: pull() });
    expect(reviewsRead(github)).toBe(1);
  });
});
