/**
 * Each stage of the evaluation on its own (src/services/evaluation/): decide and plan are pure and take data;
 * publish takes a plan and a port.
 */
import { describe, expect, it } from "vitest";
import { parseCodeowners } from "../../src/policy/codeowners.js";
import { defaultPolicy, parsePolicy } from "../../src/policy/config.js";
import type { Decision } from "../../src/policy/types.js";
import { decide, decideInvalidPolicy, prepare } from "../../src/services/evaluation/decide.js";
import { planCouldNotEvaluate, planLabels, planPublication, planReviewRequests } from "../../src/services/evaluation/plan.js";
import { publish } from "../../src/services/evaluation/publish.js";
import type { CurrentState, EvaluableSnapshot, InvalidPolicySnapshot } from "../../src/services/evaluation/types.js";
import { TtlEnforcementCache } from "../../src/services/enforcement-cache.js";
import type { Log, ServiceDeps } from "../../src/services/types.js";
import { BASE, FakeGitHub, HEAD, pull, repo } from "../helpers/fake-github-port.js";
import { UNUSED_GATE_STORE } from "../helpers/gate-store.js";

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

function snapshot(overrides: Partial<EvaluableSnapshot> = {}): EvaluableSnapshot {
  const pr = pull();
  return {
    kind: "evaluable",
    pr,
    checkName: "Agent Gate: approval (main)",
    enforcement: { state: "enforced", via: ["ruleset"] },
    policy: defaultPolicy(),
    policySource: { source: "recommended preset", ref: BASE },
    facts: { number: 7, author: pr.author.login, authorType: "Bot", baseRef: "main", headRef: pr.headRef, headSha: HEAD, labels: [] },
    codeowners: parseCodeowners("Dockerfile @acme/platform @olga\n", { path: ".github/CODEOWNERS" }),
    files: [{ filename: "Dockerfile", status: "modified", additions: 1, deletions: 0, changes: 1, patch: "@@ -1 +1 @@\n-FROM a\n+FROM b" }],
    truncated: false,
    reviews: [],
    telemetryAccepted: false,
    gateNotes: [],
    ...overrides,
  };
}

const current = (overrides: Partial<CurrentState> = {}): CurrentState => ({ pull: pull(), askedBefore: new Set(), ...overrides });

function decided(s: EvaluableSnapshot) {
  return decide(s, prepare(s), {});
}

describe("decide (pure)", () => {
  it("the engine's decision, with the enforcement note and the proposed gate-file notes", () => {
    const d = decided(snapshot({ gateNotes: ["proposed policy is valid"] }));
    expect(d.decision.risk).toBe("high");
    expect(d.decision.conclusion).toBe("action_required");
    expect(d.notes).toEqual(["proposed policy is valid"]);
    expect(d.risk).toBe("high");
  });

  it("invariant 7 (telemetry is untrusted input): with telemetry.required, a passing decision waits until telemetry is accepted", () => {
    const r = parsePolicy("telemetry:\n  required: true\n  workflows: [.github/workflows/agent.yml]\nrisk:\n  extends: none\n");
    if (!r.ok) throw new Error("policy");
    const waiting = decided(snapshot({ policy: r.policy, files: [] }));
    expect(waiting.decision.conclusion).toBe("action_required");
    expect(waiting.notes.join("\n")).toContain("Waiting on agent telemetry");
    expect(decided(snapshot({ policy: r.policy, files: [], telemetryAccepted: true })).decision.conclusion).toBe("success");
  });

  it("invariant 5 (fail closed): an invalid policy decides failure, quoting the file and line", () => {
    const s: InvalidPolicySnapshot = {
      kind: "invalid-policy",
      pr: pull(),
      checkName: "Agent Gate: approval (main)",
      enforcement: { state: "not-required", via: [] },
      errors: [{ file: ".github/agent-gate.yml", line: 3, path: "scope", message: "expected one of agents, all" }],
      policySource: { source: ".github/agent-gate.yml", ref: BASE },
    };
    const d = decideInvalidPolicy(s);
    expect(d.decision.conclusion).toBe("failure");
    expect(d.decision.title).toContain(".github/agent-gate.yml:3");
    expect(d.risk).toBeNull();
    const plan = planPublication(repo, s, d, current());
    expect(plan).toMatchObject({ labels: null, reviews: null, check: { conclusion: "failure", headSha: HEAD } });
  });
});

describe("plan (pure: desired against current GitHub state)", () => {
  const decision = (): Decision => decided(snapshot()).decision;

  it("labels: adds the one risk label, removes stale ones with the prefix, touches no other label", () => {
    const plan = planLabels(pull({ labels: [{ name: "agent-risk:low", color: "0e8a16" }, { name: "bug", color: "d73a4a" }] }), decision(), defaultPolicy());
    expect(plan.add).toEqual(["agent-risk:high"]);
    expect(plan.remove).toEqual(["agent-risk:low"]);
    expect(planLabels(pull({ labels: [{ name: "Agent-Risk:High", color: "d93f0b" }] }), decision(), defaultPolicy())).toMatchObject({ add: [], remove: [] });
  });

  it("review requests: the owners still waited on, once; not on drafts, not those asked before or already requested", () => {
    expect(planReviewRequests(repo, current(), decision(), [])).toEqual({ users: ["olga"], teams: ["platform"], owners: ["@acme/platform", "@olga"] });
    expect(planReviewRequests(repo, current({ pull: pull({ draft: true }) }), decision(), [])).toBeNull();
    expect(planReviewRequests(repo, current({ askedBefore: new Set(["@acme/platform"]), pull: pull({ requestedReviewers: ["olga"] }) }), decision(), [])).toBeNull();
  });

  it("review requests: a team of another organisation, and the author, are never asked", () => {
    const s = snapshot({ codeowners: parseCodeowners("Dockerfile @other/team @hank\n", { path: ".github/CODEOWNERS" }) });
    expect(planReviewRequests(repo, current(), decided(s).decision, [])).toEqual({ users: ["hank"], teams: [], owners: ["@hank"] });
    expect(planReviewRequests(repo, current({ pull: pull({ author: { login: "Hank", type: "User" } }) }), decided(s).decision, [])).toBeNull();
  });

  it("could not evaluate: only a failing check, on the head, naming the delivery", () => {
    const plan = planCouldNotEvaluate(pull(), new Error("boom"), "delivery-9");
    expect(plan).toMatchObject({ labels: null, reviews: null, check: { name: "Agent Gate: approval (main)", conclusion: "failure", headSha: HEAD } });
    expect(plan.check.summary).toContain("delivery-9");
  });
});

describe("publish (one path)", () => {
  const deps = (github: FakeGitHub): ServiceDeps => ({ github, log: silent, store: UNUSED_GATE_STORE, clock: () => new Date(0), appId: 1, enforcement: new TtlEnforcementCache() });

  it("writes the check first, then labels and review requests; their failures do not undo the check", async () => {
    const github = new FakeGitHub();
    const s = snapshot();
    const d = decided(s);
    const plan = planPublication(repo, s, d, current());
    github.failOn = "requestReviewers";
    const result = await publish(deps(github), repo, plan);
    expect(github.calls).toEqual(["createCheckRun", "addLabels", "requestReviewers"]);
    expect(result).toEqual({ checkRunId: 1, labels: { added: ["agent-risk:high"], removed: [] }, reviewRequested: [] });
  });

  it("a check GitHub refuses is an error: nothing else is written", async () => {
    const github = new FakeGitHub();
    github.failOn = "createCheckRun";
    await expect(publish(deps(github), repo, planCouldNotEvaluate(pull(), new Error("x"), undefined))).rejects.toThrow("502");
    expect(github.calls).toEqual(["createCheckRun"]);
  });
});
