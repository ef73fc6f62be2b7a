/**
 * Review requests without noise (issue 14): each requirement's `requests` mode through the plan stage, with the
 * engine's real decision for a snapshot.
 */
import { describe, expect, it } from "vitest";
import { parseCodeowners } from "../../src/policy/codeowners.js";
import { parsePolicy } from "../../src/policy/config.js";
import { fnv1a, ownersToAsk } from "../../src/policy/requests.js";
import type { RequirementStatus, Review } from "../../src/policy/types.js";
import { decide, prepare } from "../../src/services/evaluation/decide.js";
import { planReviewRequests } from "../../src/services/evaluation/plan.js";
import type { CurrentState, EvaluableSnapshot } from "../../src/services/evaluation/types.js";
import { BASE, HEAD, pull, repo } from "../helpers/fake-github-port.js";

function snapshot(policyYaml: string, reviews: Review[] = [], number = 7): EvaluableSnapshot {
  const parsed = parsePolicy(policyYaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const pr = { ...pull(), number };
  return {
    kind: "evaluable",
    pr,
    checkName: "Agent Gate: approval (main)",
    enforcement: { state: "enforced", via: ["ruleset"] },
    policy: parsed.policy,
    policySource: { source: "test", ref: BASE },
    facts: { number, author: pr.author.login, authorType: "Bot", baseRef: "main", headRef: pr.headRef, headSha: HEAD, labels: [] },
    codeowners: parseCodeowners("Dockerfile @acme/platform @olga @pete\n", { path: ".github/CODEOWNERS" }),
    files: [{ filename: "Dockerfile", status: "modified", additions: 1, deletions: 0, changes: 1, patch: "@@ -1 +1 @@\n-FROM a\n+FROM b" }],
    truncated: false,
    reviews,
    telemetryAccepted: false,
    gateNotes: [],
  };
}

function plan(policyYaml: string, opts: { reviews?: Review[]; current?: Partial<CurrentState>; number?: number } = {}) {
  const s = snapshot(policyYaml, opts.reviews, opts.number);
  const d = decide(s, prepare(s), {});
  const current: CurrentState = { pull: s.pr, askedBefore: new Set(), ...opts.current };
  return planReviewRequests(repo, current, d.decision, s.reviews);
}

const mode = (m: string) => `approvals:\n  codeowners: { from: high, requests: ${m} }\n`;

describe("review-request modes", () => {
  it("all (the default): every owner it waits on, as before", () => {
    expect(plan(mode("all"))).toEqual({ users: ["olga", "pete"], teams: ["platform"], owners: ["@acme/platform", "@olga", "@pete"] });
  });

  it("team: only the team", () => {
    expect(plan(mode("team"))).toEqual({ users: [], teams: ["platform"], owners: ["@acme/platform"] });
  });

  it("none: nobody", () => {
    expect(plan(mode("none"))).toBeNull();
  });

  it("one: a single owner, the same one on every event of the PR, and nobody once one is asked", () => {
    const first = plan(mode("one"));
    expect(first?.owners).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect(plan(mode("one"))).toEqual(first);
    const asked = first?.owners[0] ?? "";
    expect(plan(mode("one"), { current: { askedBefore: new Set([asked.toLowerCase()]) } })).toBeNull();
  });

  it("one: different pull requests spread over the owners (a hash of PR and rule, not always the first)", () => {
    const picks = new Set<string>();
    for (let n = 1; n <= 30; n++) picks.add(plan(mode("one"), { number: n })?.owners[0] ?? "");
    expect(picks.size).toBeGreaterThan(1);
  });

  it("never re-requests someone who already reviewed this head (a comment counts as reviewing)", () => {
    const commented: Review = { reviewer: "olga", state: "COMMENTED", commitId: HEAD, submittedAt: "2026-01-01T10:00:00Z" };
    expect(plan(mode("all"), { reviews: [commented] })?.users).toEqual(["pete"]);
  });

  it("a disapproval asks nobody; an anyOf asks only its first viable alternative", () => {
    const yaml = `risk:\n  extends: none\napprovals:\n  rules:\n    - name: either\n      anyOf:\n        - { from: { users: [ann] } }\n        - { from: { users: [bob] } }\n  disapproval:\n    from: { users: [vic] }\n`;
    const vic: Review = { reviewer: "vic", state: "CHANGES_REQUESTED", commitId: HEAD, submittedAt: "2026-01-01T10:00:00Z" };
    expect(plan(yaml, { reviews: [vic] })).toEqual({ users: ["ann"], teams: [], owners: ["@ann"] });
  });
});

describe("ownersToAsk (pure)", () => {
  const req = (extra: Partial<RequirementStatus>): RequirementStatus => ({
    id: "r1",
    paths: ["a"],
    level: "high",
    rules: ["x"],
    owners: [],
    count: 1,
    source: "rule",
    satisfiable: true,
    approvedBy: [],
    waitingOn: ["@b", "@a", "@org/t"],
    blockedBy: [],
    met: false,
    name: "x",
    requests: "one",
    ...extra,
  });
  it("one picks by the hash of PR number and rule name over the sorted owners", () => {
    const sorted = ["@a", "@b", "@org/t"];
    expect(ownersToAsk(req({}), 42, () => true, () => false)).toEqual([sorted[fnv1a("42:x") % 3]]);
    expect(ownersToAsk(req({}), 42, (o) => o !== "@a", () => false)).toHaveLength(1);
    expect(ownersToAsk(req({}), 42, () => false, () => false)).toEqual([]);
  });
});
