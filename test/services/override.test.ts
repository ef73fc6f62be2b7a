/**
 * Break-glass in the services: the override service over the database store (PGlite) and a fake GitHub (no HTTP), and
 * the pure pieces it rests on (staleness of the decision the commenter saw, the override kept through a
 * re-evaluation of the same head).
 */
import { describe, expect, it } from "vitest";
import type { Decided } from "../../src/services/evaluation/types.js";
import { withOverride } from "../../src/services/evaluation/decide.js";
import { TtlEnforcementCache } from "../../src/services/enforcement-cache.js";
import { evaluatePullRequest } from "../../src/services/evaluate-pull-request.js";
import { applyOverride, staleness } from "../../src/services/override.js";
import type { GateStore, RecordedDecision, ServiceDeps } from "../../src/services/types.js";
import { FakeGitHub, HEAD, pull, repo } from "../helpers/fake-github-port.js";
import { freshGateStore } from "../helpers/gate-store.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const T0 = new Date("2026-01-01T10:00:00Z");

function decision(overrides: Partial<RecordedDecision> = {}): RecordedDecision {
  return { headSha: HEAD, baseRef: "main", conclusion: "action_required", title: "Waiting for a code owner", evaluatedAt: T0, headFirstDecidedAt: T0, overriddenBy: null, ...overrides };
}

function deps(github: FakeGitHub, store: GateStore): ServiceDeps {
  return { github, log: silent, store, clock: () => T0, appId: 1, enforcement: new TtlEnforcementCache() };
}

// The database dates a decision by its own clock: a comment written a minute from now comes after it.
const comment = (login: string, createdAt = new Date(Date.now() + 60_000).toISOString(), body = "/agent-gate override prod down") => ({ id: 1, body, url: null, createdAt, user: { login, type: "User" } });

describe("staleness (pure)", () => {
  it("invariant 3: the override binds to the head the commenter saw", () => {
    const pr = pull();
    expect(staleness(decision(), pr, "2026-01-01T10:05:00Z")).toBeNull();
    expect(staleness(decision(), pr, "2026-01-01T09:59:59Z")).toMatch(/changed after your comment/);
    expect(staleness(decision({ headSha: "c".repeat(40) }), pr, "2026-01-01T10:05:00Z")).toMatch(/moved on/);
    expect(staleness(decision({ baseRef: "release" }), pr, "2026-01-01T10:05:00Z")).toMatch(/moved on/);
    expect(staleness(decision(), pr, "not a date")).toMatch(/changed after your comment/);
  });
});

describe("withOverride (pure)", () => {
  const decided = { decision: { conclusion: "action_required", title: "Waiting for @acme/db" }, notes: ["n"], risk: "high", teams: {} } as unknown as Decided;

  it("an override in force makes the decision success, titled, with what it stands in for first in the notes", () => {
    const out = withOverride(decided, { by: "olga", reason: "outage <b>now</b>" });
    expect(out.decision).toMatchObject({ conclusion: "success", title: "Overridden by @olga" });
    expect(out.notes[0]).toMatch(/^Overridden by @olga \(break-glass; ends with the next push\): outage &lt;b&gt;now&lt;\/b&gt;\. Without the override: action_required: Waiting for @\u200Dacme\/db\.$/);
    expect(out.override).toEqual({ by: "olga", reason: "outage <b>now</b>" });
  });

  it("no override: the decision is untouched", () => {
    expect(withOverride(decided, null)).toBe(decided);
  });
});

describe("applyOverride over the database store", () => {
  it("a listed member's override is recorded against the decision it overrides, then published", async () => {
    const github = new FakeGitHub();
    github.texts.set(`.github/agent-gate.yml@${pull().baseSha}`, 'override:\n  users: ["olga"]\n');
    const store = await freshGateStore();
    const key = { ...repo, number: 7, installationId: 1 };
    // The decision to override, recorded as the App records one.
    expect(await evaluatePullRequest(deps(github, store), { repo, number: 7, pull: pull(), deliveryId: "d0", event: "pull_request.opened" })).toMatchObject({ kind: "published" });

    const outcome = await applyOverride(deps(github, store), { repo, installationId: 1, number: 7, comment: comment("olga"), deliveryId: "d1", event: "issue_comment.created" });
    // Check run 1 is the decision's, 2 the override's.
    expect(outcome).toEqual({ kind: "overridden", checkRunId: 2, by: "olga" });
    expect(github.checks.at(-1)).toMatchObject({ headSha: HEAD, conclusion: "success", title: "Overridden by @olga" });
    expect(await store.latestDecision(key)).toMatchObject({ conclusion: "success", overriddenBy: "olga" });
    await store.prepare(key, async (scope) => {
      expect(await scope.activeOverride(HEAD, "main")).toEqual({ by: "olga", reason: "prod down" });
      expect(await scope.activeOverride("c".repeat(40), "main")).toBeNull();
    });
    expect((await store.audit("override_applied")).map((e) => [e.deliveryId, e.payload.by, e.payload.reason])).toEqual([["d1", "olga", "prod down"]]);
  });

  it("invariant 5: no decision yet: refused (nothing to override), replied, no check", async () => {
    const github = new FakeGitHub();
    github.texts.set(`.github/agent-gate.yml@${pull().baseSha}`, 'override:\n  users: ["olga"]\n');
    const outcome = await applyOverride(deps(github, await freshGateStore()), { repo, number: 7, comment: comment("olga"), event: "issue_comment.created" });
    expect(outcome).toEqual({ kind: "refused", why: "Agent Gate has not decided this pull request yet" });
    expect(github.checks).toEqual([]);
    expect(github.comments.map((c) => c.body)).toEqual(["`@olga`: override refused: Agent Gate has not decided this pull request yet. The approval check is unchanged."]);
  });
});
