/**
 * DatabaseGateStore, the services' GateStore on Postgres and PGlite: what the in-memory store remembers, kept in
 * the database (deliveries, heads, review requests, triggered-by), and what a published decision leaves behind
 * (evaluation row, approvals counted and refused, audit entries).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/types.js";
import type { DecisionRecord, PublishedRecord, PullRequestKey, CommittedDecision } from "../../src/services/types.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { openStore, type AuditAppend, type AuditEntry, type Store, type StoreTx } from "../../src/store/index.js";
import { TEST_DRIVERS, openTestStore, tempDataDir, type TestStoreContext } from "../helpers/db.js";

const HEAD_A = "a".repeat(40);
const HEAD_B = "b".repeat(40);
const BASE = "c".repeat(40);

async function auditOf(store: Store, pullRequest?: number): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const entry of store.audit.export()) if (pullRequest === undefined || entry.pullRequest === pullRequest) out.push(entry);
  return out;
}

function decisionFor(headSha: string): Decision {
  return {
    risk: "high",
    labels: ["agent-risk:high"],
    findings: [{ path: "db/migrations/1.sql", level: "high", rule: "migrations", reason: "schema change" }] as unknown as Decision["findings"],
    approval: {
      required: true,
      satisfied: true,
      requirements: [
        {
          id: "r1",
          paths: ["db/migrations/1.sql"],
          level: "high",
          rules: ["migrations"],
          owners: ["@dba"],
          count: 1,
          source: "codeowners",
          satisfiable: true,
          approvedBy: ["dba"],
          waitingOn: [],
          blockedBy: [],
          met: true,
        },
      ],
    },
    conclusion: "success",
    title: "High risk: approved by @dba",
    policy: { source: ".github/agent-gate.yml", ref: BASE },
    ignoredReviews: [{ reviewer: "alice", reason: "approval does not count: alice triggered the agent run" }],
    // What the engine made of the record's reviews (the store records it; it no longer re-derives it).
    approvals: [
      { reviewer: "dba", state: "APPROVED", commitId: headSha, counted: true, reason: "counts as a code owner for r1 (db/migrations/1.sql)" },
      { reviewer: "alice", state: "APPROVED", commitId: headSha, counted: false, reason: "approval does not count: alice triggered the agent run" },
      { reviewer: "bob", state: "APPROVED", commitId: headSha, counted: false, reason: "not an owner of any path that needs approval" },
    ],
    scope: { inScope: true, isAgent: true, reason: "agent author" },
    headSha,
    codeowners: { path: ".github/CODEOWNERS", tooLarge: false, errors: [] },
  };
}

function record(key: PullRequestKey, headSha: string, deliveryId: string): DecisionRecord {
  const decision = decisionFor(headSha);
  return {
    key,
    deliveryId,
    event: "pull_request.synchronize",
    headSha,
    baseRef: "main",
    baseSha: BASE,
    checkName: "Agent Gate: approval (main)",
    conclusion: "success",
    risk: "high",
    decision,
    reason: decision.title,
    policy: decision.policy,
    evaluatedAt: new Date("2026-01-01T12:00:00Z"),
    inputsDigest: "d".repeat(64),
    reviews: [
      { reviewer: "dba", state: "APPROVED", commitId: headSha, submittedAt: "2026-01-01T11:00:00Z" },
      { reviewer: "alice", state: "APPROVED", commitId: headSha, submittedAt: "2026-01-01T11:01:00Z" },
      { reviewer: "bob", state: "APPROVED", commitId: headSha, submittedAt: "2026-01-01T11:02:00Z" },
      { reviewer: "carol", state: "COMMENTED", commitId: headSha, submittedAt: "2026-01-01T11:03:00Z" },
    ],
  };
}

/** The check run GitHub took for a recorded decision. */
function published(decided: CommittedDecision, r: DecisionRecord, checkRunId = 77): PublishedRecord {
  return { decided, deliveryId: r.deliveryId, headSha: r.headSha, checkName: r.checkName, checkRunId, conclusion: r.conclusion, title: r.reason, labels: { added: ["agent-risk:high"], removed: ["agent-risk:low"] } };
}

describe.each(TEST_DRIVERS)("DatabaseGateStore on %s", (driver) => {
  let ctx: TestStoreContext;
  let gate: DatabaseGateStore;
  let nextPr = 1;
  const pr = (): PullRequestKey => ({ owner: "Octo", repo: "Repo", number: nextPr++, installationId: 7 });

  beforeAll(async () => {
    ctx = await openTestStore(driver);
    gate = new DatabaseGateStore(ctx.store);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("a delivery handled to the end is a duplicate afterwards: audited, not begun twice", async () => {
    const key = pr();
    expect(await gate.withPullRequestLock(key, (s) => s.isDeliveryDone("guid-1", "pull_request.opened"))).toBe(false);
    await gate.withPullRequestLock(key, (s) => s.markDeliveryDone("guid-1", "published"));
    expect(await ctx.store.deliveries.get("guid-1", 7)).toMatchObject({ event: "pull_request", action: "opened", outcome: "processed", attempts: 1 });

    expect(await gate.withPullRequestLock(key, (s) => s.isDeliveryDone("guid-1", "pull_request.opened"))).toBe(true);
    const audit = await auditOf(ctx.store, key.number);
    expect(audit.map((e) => e.kind)).toEqual(["delivery_duplicate"]);
    expect(audit[0]).toMatchObject({ repository: "Octo/Repo", deliveryId: "guid-1" });
    expect(JSON.parse(audit[0]?.payload ?? "{}")).toMatchObject({ event: "pull_request", action: "opened", previousOutcome: "processed" });
    // Per installation: the same GUID from another installation is another delivery.
    expect(await gate.withPullRequestLock({ ...key, installationId: 8 }, (s) => s.isDeliveryDone("guid-1", "pull_request.opened"))).toBe(false);
  });

  it("a failed evaluation rolls back, records the delivery as failed with the reason, and a redelivery runs again", async () => {
    const key = pr();
    await expect(
      gate.withPullRequestLock(key, async (s) => {
        expect(await s.isDeliveryDone("guid-f", "pull_request.synchronize")).toBe(false);
        await s.recordReviewRequests(["@Octo/DBA"]);
        // The "could not evaluate" check that did reach GitHub before the error: recorded before, published after.
        const failing: DecisionRecord = { ...record(key, HEAD_A, "guid-f"), decision: null, risk: null, conclusion: "failure", reason: "Could not evaluate: GitHub answered 502", reviews: undefined, inputsDigest: undefined };
        const decided = await s.recordDecision(failing);
        await s.recordPublished({ ...published(decided, failing, 78), labels: undefined });
        throw new Error("GitHub answered 502\nstack...");
      }),
    ).rejects.toThrow("GitHub answered 502");
    expect(await ctx.store.deliveries.get("guid-f", 7)).toMatchObject({ outcome: "failed", error: "GitHub answered 502" });
    // Rolled back: the review request of the failed attempt is not remembered...
    expect(await gate.withPullRequestLock(key, (s) => s.requestedOwners())).toEqual(new Set());
    // ...but the failing check GitHub did get is in the audit log.
    const audit = await auditOf(ctx.store, key.number);
    expect(audit.map((e) => e.kind)).toEqual(["evaluation_decided", "check_published"]);
    expect(JSON.parse(audit[0]?.payload ?? "{}")).toMatchObject({ conclusion: "failure", title: "Could not evaluate: GitHub answered 502", evaluationId: null });
    expect(JSON.parse(audit[1]?.payload ?? "{}")).toMatchObject({ conclusion: "failure", checkRunId: 78, evaluationId: null, decidedIn: audit[0]?.id });

    expect(await gate.withPullRequestLock(key, (s) => s.isDeliveryDone("guid-f", "pull_request.synchronize"))).toBe(false);
    expect(await ctx.store.deliveries.get("guid-f", 7)).toMatchObject({ outcome: "pending", attempts: 2 });
  });

  it("commitWith commits with the evaluation's last transaction, its audit entries appended with the evaluation's, or not at all", async () => {
    const key = pr();
    const r = record(key, HEAD_A, "guid-cw");
    const settle = (work: string) => async (tx: StoreTx): Promise<AuditAppend[]> => {
      await tx.deliveries.begin({ guid: work, installationId: 7, event: "pull_request_review", action: "submitted" });
      return [{ kind: "delivery_coalesced", repository: "Octo/Repo", pullRequest: key.number, deliveryId: work, payload: { coveredBy: "guid-cw" } }];
    };
    await gate.withPullRequestLock(
      key,
      async (s) => {
        await s.isDeliveryDone("guid-cw", "pull_request.opened");
        await s.recordPublished(published(await s.recordDecision(r), r));
        await s.markDeliveryDone("guid-cw", "published");
      },
      { commitWith: settle("guid-cw-folded") },
    );
    expect(await ctx.store.deliveries.get("guid-cw-folded", 7)).toMatchObject({ outcome: "pending" });
    const audit = await auditOf(ctx.store, key.number);
    // The folded entry is the transaction's last, right after the entries the evaluation queued.
    expect(audit.map((e) => e.kind)).toEqual(["evaluation_decided", "approval_counted", "approval_refused", "approval_refused", "check_published", "label_set", "delivery_coalesced"]);

    // The evaluation fails: what it queued and what commitWith would write both stay out.
    await expect(
      gate.withPullRequestLock(
        key,
        async (s) => {
          await s.recordReviewRequests(["@octo/dba"]);
          throw new Error("GitHub answered 502");
        },
        { commitWith: settle("guid-cw-never") },
      ),
    ).rejects.toThrow("GitHub answered 502");
    // commitWith fails: the evaluation's queued writes roll back with it.
    await expect(
      gate.withPullRequestLock(
        key,
        async (s) => {
          await s.recordReviewRequests(["@octo/dba"]);
        },
        { commitWith: () => Promise.reject(new Error("settle failed")) },
      ),
    ).rejects.toThrow("settle failed");
    expect(await ctx.store.deliveries.get("guid-cw-never", 7)).toBeNull();
    expect(await gate.withPullRequestLock(key, (s) => s.requestedOwners())).toEqual(new Set());
    expect((await auditOf(ctx.store, key.number)).map((e) => e.kind).slice(7)).toEqual([]);
  });

  it("lastDecision after activeOverride is the PR's newest decision, read with it, and a decision recorded since is seen", async () => {
    const key = pr();
    const onA = record(key, HEAD_A, "guid-la");
    const onB = record(key, HEAD_B, "guid-lb");
    await gate.withPullRequestLock(key, async (s) => s.recordPublished(published(await s.recordDecision(onA), onA)));
    await gate.withPullRequestLock(key, async (s) => s.recordPublished(published(await s.recordDecision(onB), onB)));
    await gate.withPullRequestLock(key, async (s) => {
      // Head A's override (none) and the PR's newest decision (head B's), one read for both.
      expect(await s.activeOverride(HEAD_A, "main")).toBeNull();
      const before = await s.lastDecision();
      expect(before?.headSha).toBe(HEAD_B);
      const again = await s.recordDecision(record(key, HEAD_A, "guid-la2"));
      expect((await s.lastDecision())?.evaluationId).toBe(again.evaluationId);
      expect(again.evaluationId).toBeGreaterThan(before?.evaluationId ?? Number.POSITIVE_INFINITY);
    });
  });

  it("the edge's fresh pending delivery is taken as it is; a failed one is begun again", async () => {
    const key = pr();
    await ctx.store.deliveries.begin({ guid: "guid-edge", installationId: 7, event: "pull_request", action: "opened" });
    expect(await gate.withPullRequestLock(key, (s) => s.isDeliveryDone("guid-edge", "pull_request.opened"))).toBe(false);
    // Not begun a second time: still the edge's first attempt.
    expect(await ctx.store.deliveries.get("guid-edge", 7)).toMatchObject({ outcome: "pending", attempts: 1 });
    await ctx.store.deliveries.finish("guid-edge", 7, "failed", "boom");
    expect(await gate.withPullRequestLock(key, (s) => s.isDeliveryDone("guid-edge", "pull_request.opened"))).toBe(false);
    expect(await ctx.store.deliveries.get("guid-edge", 7)).toMatchObject({ outcome: "pending", attempts: 2, error: null });
  });

  it("heads only move forward; on an equal updated_at the fresh read wins, as in the memory store", async () => {
    const key = pr();
    const t1 = new Date("2026-01-01T10:00:00Z");
    const t2 = new Date("2026-01-01T11:00:00Z");
    const stale = (head: string, at?: Date) => gate.withPullRequestLock(key, (s) => s.isStale(head, at));
    expect(await stale(HEAD_A, t1)).toBe(false);
    expect(await stale(HEAD_B, t2)).toBe(false);
    // An older observation neither moves the head back nor may publish.
    expect(await stale(HEAD_A, t1)).toBe(true);
    expect(await stale(HEAD_A)).toBe(true);
    // Same updated_at, different head (e.g. a force-push within the second): the caller's fresh read wins.
    expect(await stale(HEAD_A, t2)).toBe(false);
    expect(await stale(HEAD_B)).toBe(true);
    expect(await ctx.store.evaluations.currentHead("Octo/Repo", key.number)).toEqual({ headSha: HEAD_A, headUpdatedAt: t2 });
  });

  it("review requests are remembered in lower case, once each, with an audit entry for the new ones", async () => {
    const key = pr();
    await gate.withPullRequestLock(key, async (s) => {
      await s.isStale(HEAD_A, new Date("2026-01-01T10:00:00Z"));
      await s.recordReviewRequests(["@Octo/DBA", "@Carol"]);
    });
    await gate.withPullRequestLock(key, (s) => s.recordReviewRequests(["@carol"]));
    expect(await gate.withPullRequestLock(key, (s) => s.requestedOwners())).toEqual(new Set(["@octo/dba", "@carol"]));
    const audit = await auditOf(ctx.store, key.number);
    expect(audit.map((e) => [e.kind, JSON.parse(e.payload)])).toEqual([["review_requested", { owners: ["@Octo/DBA", "@Carol"], headSha: HEAD_A }]]);
  });

  it("a published decision leaves an evaluation row, approvals counted and refused with the reason, and audit entries in one chain", async () => {
    const key = pr();
    const r = record(key, HEAD_B, "guid-d");
    let decided: CommittedDecision | undefined;
    await gate.withPullRequestLock(key, async (s) => {
      decided = await s.recordDecision(r);
      // Committed before the check is published: another connection sees it, with no check run yet.
      expect(await ctx.store.evaluations.latestFor("Octo/Repo", key.number)).toMatchObject({ headSha: HEAD_B, checkRunId: null });
      expect((await auditOf(ctx.store, key.number)).map((e) => e.kind)).toEqual(["evaluation_decided", "approval_counted", "approval_refused", "approval_refused"]);
      await s.recordPublished(published(decided, r));
    });
    const evaluation = await ctx.store.evaluations.latestFor("Octo/Repo", key.number);
    expect(evaluation).toMatchObject({
      headSha: HEAD_B,
      baseSha: BASE,
      policySource: ".github/agent-gate.yml",
      policyCommit: BASE,
      codeownersPath: ".github/CODEOWNERS",
      codeownersCommit: BASE,
      inputsDigest: "d".repeat(64),
      risk: "high",
      decision: "High risk: approved by @dba",
      conclusion: "success",
      checkRunId: 77,
      deliveryId: "guid-d",
    });
    expect(evaluation?.requirements).toMatchObject([{ id: "r1", approvedBy: ["dba"], met: true }]);
    const approvals = await ctx.store.evaluations.approvalsFor(evaluation?.id ?? -1);
    expect(approvals.map((a) => [a.reviewer, a.counted, a.reason])).toEqual([
      ["dba", true, "counts as a code owner for r1 (db/migrations/1.sql)"],
      ["alice", false, "approval does not count: alice triggered the agent run"],
      ["bob", false, "not an owner of any path that needs approval"],
    ]);
    const audit = await auditOf(ctx.store, key.number);
    expect(audit.map((e) => e.kind)).toEqual(["evaluation_decided", "approval_counted", "approval_refused", "approval_refused", "check_published", "label_set"]);
    expect(audit.every((e) => e.deliveryId === "guid-d")).toBe(true);
    expect(JSON.parse(audit[0]?.payload ?? "{}")).toMatchObject({ evaluationId: evaluation?.id, risk: "high", conclusion: "success", inputsDigest: "d".repeat(64) });
    // The witness the check run names is the decision's entry, as the chain holds it.
    expect(decided?.audit).toEqual({ id: audit[0]?.id, hash: audit[0]?.hash });
    expect(JSON.parse(audit[4]?.payload ?? "{}")).toMatchObject({ evaluationId: evaluation?.id, checkRunId: 77, decidedIn: audit[0]?.id });
    expect(JSON.parse(audit[5]?.payload ?? "{}")).toMatchObject({ added: ["agent-risk:high"], removed: ["agent-risk:low"] });
    expect(await ctx.store.audit.verify()).toMatchObject({ ok: true });
  });

  it("an invalid policy is audited as policy_invalid with its errors", async () => {
    const key = pr();
    const base = record(key, HEAD_A, "guid-p");
    const decision: Decision = { ...decisionFor(HEAD_A), risk: "critical", conclusion: "failure", title: "Invalid policy", policyErrors: [".github/agent-gate.yml:3: unknown key"], approvals: [], codeowners: { path: null, tooLarge: false, errors: [] } };
    const invalid: DecisionRecord = { ...base, decision, risk: null, conclusion: "failure", reason: decision.title, inputsDigest: undefined, reviews: undefined };
    await gate.withPullRequestLock(key, async (s) => s.recordPublished({ ...published(await s.recordDecision(invalid), invalid), labels: undefined }));
    const audit = await auditOf(ctx.store, key.number);
    expect(audit.map((e) => e.kind)).toEqual(["policy_invalid", "evaluation_decided", "check_published"]);
    expect(JSON.parse(audit[0]?.payload ?? "{}")).toMatchObject({ errors: [".github/agent-gate.yml:3: unknown key"] });
    const evaluation = await ctx.store.evaluations.latestFor("Octo/Repo", key.number);
    expect(evaluation).toMatchObject({ risk: "critical", conclusion: "failure", codeownersPath: null });
    expect(evaluation?.inputsDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("the first triggering user is kept: a later PR body cannot replace or remove it", async () => {
    const key = pr();
    expect(await gate.withPullRequestLock(key, (s) => s.firstTriggeredBy(undefined))).toBeUndefined();
    expect(await gate.withPullRequestLock(key, (s) => s.firstTriggeredBy("alice"))).toBe("alice");
    expect(await gate.withPullRequestLock(key, (s) => s.firstTriggeredBy("mallory"))).toBe("alice");
    expect(await gate.withPullRequestLock(key, (s) => s.firstTriggeredBy(undefined))).toBe("alice");
    if (driver === "postgres") {
      // Another App process on the same database knows it too.
      const other = new DatabaseGateStore(await ctx.openAnother());
      expect(await other.withPullRequestLock(key, (s) => s.firstTriggeredBy("mallory"))).toBe("alice");
    }
  });

  it("invariant 4: the triggering user and the pushers are written on first sight, outside the evaluation's transaction", async () => {
    const key = pr();
    const failing = gate.withPullRequestLock(key, async (s) => {
      expect(await s.firstTriggeredBy("carol")).toBe("carol");
      expect(await s.recordPushers(["Dave"], HEAD_A)).toEqual(["dave"]);
      throw new Error("GitHub answered 500");
    });
    await expect(failing).rejects.toThrow(/500/);
    // The evaluation rolled back; the first sightings did not.
    expect(await gate.withPullRequestLock(key, (s) => s.firstTriggeredBy(undefined))).toBe("carol");
    expect(await gate.withPullRequestLock(key, (s) => s.recordPushers([], HEAD_B))).toEqual(["dave"]);
    expect(await gate.withPullRequestLock(key, (s) => s.recordPushers(["erin", "DAVE"], HEAD_B))).toEqual(["dave", "erin"]);
    expect(await ctx.store.pushers.record("Octo/Repo", key.number + 1, [], null)).toEqual([]);
  });

  it("invariant 3: what a review was given against is kept from its first observation, even when the evaluation fails", async () => {
    const key = pr();
    const first = { reviewId: 501, reviewer: "paula", commitId: HEAD_A, baseRef: "main", baseSha: "1".repeat(40), diffFingerprint: "f".repeat(64) };
    const failing = gate.withPullRequestLock(key, async (s) => {
      expect((await s.observeReviews([first])).get(501)).toEqual(first);
      throw new Error("GitHub answered 500");
    });
    await expect(failing).rejects.toThrow(/500/);
    // After a retarget the same review is observed again: the first observation wins.
    const later = { ...first, baseRef: "release", diffFingerprint: "e".repeat(64) };
    const other = { ...first, reviewId: 502, reviewer: "olga", baseRef: "release", diffFingerprint: "e".repeat(64) };
    const seen = await gate.withPullRequestLock(key, (s) => s.observeReviews([later, other]));
    expect(seen.get(501)).toEqual(first);
    expect(seen.get(502)).toEqual(other);
  });
});

describe("DatabaseGateStore on a PGlite data directory", () => {
  it("remembers the triggering user, review requests and handled deliveries across a restart", async () => {
    const tmp = tempDataDir();
    const key: PullRequestKey = { owner: "Octo", repo: "Repo", number: 5, installationId: 1 };
    try {
      const first = await openStore({ dataDir: tmp.dir, migrate: true });
      await new DatabaseGateStore(first).withPullRequestLock(key, async (s) => {
        expect(await s.isDeliveryDone("guid-r", "pull_request.opened")).toBe(false);
        expect(await s.firstTriggeredBy("alice")).toBe("alice");
        await s.recordReviewRequests(["@dba"]);
        await s.markDeliveryDone("guid-r", "published");
      });
      await first.close();

      const second = await openStore({ dataDir: tmp.dir, migrate: true });
      try {
        await new DatabaseGateStore(second).withPullRequestLock(key, async (s) => {
          expect(await s.isDeliveryDone("guid-r", "pull_request.opened")).toBe(true);
          expect(await s.firstTriggeredBy(undefined)).toBe("alice");
          expect(await s.requestedOwners()).toEqual(new Set(["@dba"]));
        });
      } finally {
        await second.close();
      }
    } finally {
      tmp.remove();
    }
  });
});
