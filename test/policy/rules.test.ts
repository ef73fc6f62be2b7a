import { describe, expect, it } from "vitest";
import { usesAgentCondition } from "../../src/policy/conditions.js";
import { formatPolicyError, parsePolicy } from "../../src/policy/config.js";
import { evaluate, prepareEvaluation } from "../../src/policy/decision.js";
import { renderDecisionMarkdown, renderDecisionText } from "../../src/policy/render.js";
import type { ChangedFile, PullRequestFacts, Review, TeamMembership } from "../../src/policy/types.js";
import { OLD, codeowners, file, policy, pr, review } from "./engine-helpers.js";

const CODEOWNERS = codeowners("db/** @acme/dba\nsrc/billing/** @bea @carl\n");

function decide(yaml: string, opts: { files?: ChangedFile[]; reviews?: Review[]; teams?: TeamMembership; pr?: Partial<PullRequestFacts> } = {}) {
  return evaluate({
    policy: policy(yaml),
    policySource: { source: "test", ref: "base" },
    codeowners: CODEOWNERS,
    files: opts.files ?? [file("src/app.ts")],
    pr: pr(opts.pr),
    reviews: opts.reviews ?? [],
    teams: opts.teams ?? {},
  });
}
const named = (d: ReturnType<typeof decide>) => d.approval.requirements.filter((r) => r.name !== undefined);

// extends: none: only gate-control makes risk, so these rules are the only requirements.
const DBA_RULE = `risk:
  extends: none
approvals:
  rules:
    - name: dba
      if: { paths: ["db/**"] }
      requires: { count: 1, from: { teams: [acme/dba] } }
`;

describe("named approval rules", () => {
  it("a rule that applies must pass: a low-risk migration still waits for the DBA team", () => {
    const d = decide(DBA_RULE, { files: [file("db/seed.sql")] });
    expect(d.risk).toBe("low");
    expect(d.conclusion).toBe("action_required");
    expect(named(d).map((r) => [r.name, r.owners, r.paths, r.met])).toEqual([["dba", ["@acme/dba"], ["db/seed.sql"], false]]);
    expect(d.title).toBe("Low risk: waiting on @acme/dba");
  });

  it("a rule that does not apply adds nothing", () => {
    const d = decide(DBA_RULE, { files: [file("src/app.ts")] });
    expect(d.approval.requirements).toEqual([]);
    expect(d.conclusion).toBe("success");
  });

  it("an approval from a team member on the head passes it; a stale one does not (invariant 3 applies to rules)", () => {
    const teams = { "@acme/dba": ["dana"] };
    expect(decide(DBA_RULE, { files: [file("db/seed.sql")], reviews: [review("dana", "APPROVED")], teams }).conclusion).toBe("success");
    expect(decide(DBA_RULE, { files: [file("db/seed.sql")], reviews: [review("dana", "APPROVED", { commitId: OLD })], teams }).conclusion).toBe("action_required");
  });

  it("invariant 4 applies to rules: the author and the triggering user cannot satisfy a rule naming them", () => {
    const yaml = "approvals:\n  rules:\n    - name: leads\n      requires: { count: 1, from: { users: [tess, lee] } }\n";
    const d = decide(yaml, { reviews: [review("tess", "APPROVED")], pr: { triggeredBy: "tess" } });
    expect(d.conclusion).toBe("action_required");
    expect(named(d)[0]?.waitingOn).toEqual(["@lee"]);
    expect(decide(yaml, { reviews: [review("lee", "APPROVED")], pr: { triggeredBy: "tess" } }).conclusion).toBe("success");
  });

  it("the audit trail says which rule an approval counted for", () => {
    const yaml = "approvals:\n  rules:\n    - name: leads\n      requires: { from: { users: [lee] } }\n";
    const d = decide(yaml, { reviews: [review("lee", "APPROVED"), review("olga", "APPROVED")] });
    expect(d.approvals.map((a) => [a.reviewer, a.counted, a.reason])).toEqual([
      ["lee", true, "counts for rule leads"],
      ["olga", false, "not an owner of any path that needs approval"],
    ]);
  });

  it("every applicable rule must pass, each on its own", () => {
    const yaml = `${DBA_RULE}    - name: two-leads\n      if: { level: low }\n      requires: { count: 2, from: { users: [lee, max, ned] } }\n`;
    const teams = { "@acme/dba": ["dana"] };
    const files = [file("db/seed.sql")];
    expect(decide(yaml, { files, reviews: [review("dana", "APPROVED"), review("lee", "APPROVED")], teams }).conclusion).toBe("action_required");
    const all = decide(yaml, { files, reviews: [review("dana", "APPROVED"), review("lee", "APPROVED"), review("max", "APPROVED")], teams });
    expect(all.conclusion).toBe("success");
    expect(named(all).map((r) => [r.name, r.approvedBy])).toEqual([
      ["dba", ["dana"]],
      ["two-leads", ["lee", "max"]],
    ]);
  });

  it("conditions gate a rule: release branches only", () => {
    const yaml = "approvals:\n  rules:\n    - name: release-managers\n      if: { targets: ['release/**'] }\n      requires: { from: { users: [rita] } }\n";
    expect(decide(yaml, { pr: { baseRef: "release/3" } }).conclusion).toBe("action_required");
    expect(decide(yaml, { pr: { baseRef: "main" } }).conclusion).toBe("success");
  });

  it("if.level: the rule applies at or above the PR's risk, and codeowners: true means the owners of the files that reached it", () => {
    const yaml = "approvals:\n  codeowners: { from: critical }\n  rules:\n    - name: owners-on-high\n      if: { level: high }\n      requires: { count: 1, from: { codeowners: true } }\n";
    const files = [file("db/migrations/001.sql", { status: "added" }), file("src/billing/pay.ts")];
    const d = decide(yaml, { files });
    expect(d.risk).toBe("high");
    expect(named(d).map((r) => [r.paths, r.owners, r.codeownersLine])).toEqual([[["db/migrations/001.sql"], ["@acme/dba"], 1]]);
    expect(decide(yaml, { files: [file("src/billing/pay.ts")] }).approval.requirements).toEqual([]);
  });

  it("codeowners: true needs each owner group; listed users count for every group", () => {
    const yaml = "risk:\n  extends: none\napprovals:\n  rules:\n    - name: owners\n      requires: { count: 1, from: { codeowners: true, users: [sam] } }\n";
    const files = [file("db/a.sql"), file("src/billing/pay.ts")];
    const d = decide(yaml, { files, reviews: [review("bea", "APPROVED")] });
    expect(named(d).map((r) => [r.owners, r.met])).toEqual([
      [["@acme/dba", "@sam"], false],
      [["@bea", "@carl", "@sam"], true],
    ]);
    expect(decide(yaml, { files, reviews: [review("sam", "APPROVED")] }).conclusion).toBe("success");
  });

  it("codeowners: true on a file nobody owns, without fallback or users, fails closed", () => {
    const yaml = "approvals:\n  rules:\n    - name: owners\n      if: { paths: ['docs/**'] }\n      requires: { from: { codeowners: true } }\n";
    const d = decide(yaml, { files: [file("docs/x.md")] });
    expect(d.conclusion).toBe("failure");
    expect(named(d)[0]?.reason).toMatch(/^nobody can approve: rule "owners" needs code owners/);
  });

  it("a rule needing more users than it names can never pass: failure, naming the rule", () => {
    const d = decide("approvals:\n  rules:\n    - name: pair\n      requires: { count: 2, from: { users: [lee] } }\n");
    expect(d.conclusion).toBe("failure");
    expect(d.title).toBe("Low risk: nobody can satisfy rule pair");
  });
});

describe("agent condition on approval rules", () => {
  const yaml = "approvals:\n  rules:\n    - name: agents-need-lead\n      if: { agent: true }\n      requires: { from: { users: [lee] } }\n";
  const human = { author: "alice", authorType: "User" as const, headRef: "feature/x" };

  it("applies to an agent PR, and to a human-looking PR once telemetry for its head was accepted", () => {
    expect(decide(yaml).conclusion).toBe("action_required");
    expect(decide(yaml, { pr: human }).conclusion).toBe("success");
    expect(decide(yaml, { pr: { ...human, telemetryAccepted: true } }).conclusion).toBe("action_required");
  });

  it("the load stage reads telemetry when an approval rule (not only a risk rule) uses agent:", () => {
    expect(usesAgentCondition(policy(yaml))).toBe(true);
    expect(usesAgentCondition(policy(DBA_RULE))).toBe(false);
  });
});

describe("anyOf", () => {
  const yaml = `approvals:
  rules:
    - name: security-or-two
      anyOf:
        - { count: 1, from: { teams: [acme/security] } }
        - { count: 2, from: { users: [lee, max, ned] } }
`;
  const teams = { "@acme/security": ["sec"] };

  it("one alternative passing passes the rule; the others show as met by it and ask nobody", () => {
    const d = decide(yaml, { reviews: [review("sec", "APPROVED")], teams });
    expect(d.conclusion).toBe("success");
    expect(named(d).map((r) => [r.alternative?.index, r.met, r.metByAlternative, r.requests])).toEqual([
      [1, true, undefined, "all"],
      [2, true, 1, "none"],
    ]);
    expect(renderDecisionMarkdown(d)).toContain("✅ met by alternative 1");
  });

  it("two of the users pass it too; one is not enough", () => {
    expect(decide(yaml, { reviews: [review("lee", "APPROVED"), review("max", "APPROVED")], teams }).conclusion).toBe("success");
    const waiting = decide(yaml, { reviews: [review("lee", "APPROVED")], teams });
    expect(waiting.conclusion).toBe("action_required");
    // Only the first alternative asks for reviews: one rule does not ping two groups.
    expect(named(waiting).map((r) => r.requests)).toEqual(["all", "none"]);
  });

  it("an unsatisfiable alternative does not fail the rule while another can still pass", () => {
    const broken = yaml.replace("count: 2, from: { users: [lee, max, ned] }", "count: 4, from: { users: [lee, max, ned] }");
    const d = decide(broken, { teams });
    expect(d.conclusion).toBe("action_required");
    const allBroken = broken.replace("teams: [acme/security]", "users: [only]").replace("count: 1,", "count: 2,");
    expect(decide(allBroken).conclusion).toBe("failure");
  });
});

describe("disapproval", () => {
  const yaml = "approvals:\n  disapproval:\n    from: { users: [vic], teams: [acme/security] }\n";

  it("a member's changes requested blocks the whole PR, even a low-risk one with no other requirement", () => {
    const d = decide(yaml, { reviews: [review("vic", "CHANGES_REQUESTED")] });
    expect(d.conclusion).toBe("action_required");
    expect(d.title).toBe("Low risk: changes requested by @vic");
    expect(d.approval.requirements.map((r) => [r.name, r.disapproval, r.blockedBy, r.waitingOn])).toEqual([["disapproval", true, ["vic"], ["@vic"]]]);
  });

  it("it stands on an older commit and after a comment; it ends when the same person approves or it is dismissed", () => {
    const blocked = [review("vic", "CHANGES_REQUESTED", { commitId: OLD }), review("vic", "COMMENTED", { submittedAt: "2025-01-01T11:00:00Z" })];
    expect(decide(yaml, { reviews: blocked }).conclusion).toBe("action_required");
    const approved = [review("vic", "CHANGES_REQUESTED", { commitId: OLD }), review("vic", "APPROVED", { submittedAt: "2025-01-01T11:00:00Z" })];
    expect(decide(yaml, { reviews: approved }).conclusion).toBe("success");
    const dismissed = [review("vic", "DISMISSED")];
    expect(decide(yaml, { reviews: dismissed }).conclusion).toBe("success");
  });

  it("another person's approval does not lift it", () => {
    const reviews = [review("vic", "CHANGES_REQUESTED"), review("lee", "APPROVED", { submittedAt: "2025-01-01T11:00:00Z" })];
    expect(decide(yaml, { reviews }).conclusion).toBe("action_required");
  });

  it("a team member's changes requested blocks once the team is known: the team is in needs.teams", () => {
    const input = { policy: policy(yaml), policySource: { source: "t", ref: "b" }, codeowners: CODEOWNERS, files: [file("src/a.ts")], pr: pr(), reviews: [review("sec", "CHANGES_REQUESTED")] };
    const prepared = prepareEvaluation(input);
    expect(prepared.needs.teams).toEqual(["@acme/security"]);
    expect(prepared.decide({ "@acme/security": ["sec"] }).conclusion).toBe("action_required");
    expect(prepared.decide({ "@acme/security": ["other"] }).conclusion).toBe("success");
  });

  it("a non-member's changes requested does not block (outside any rule they own)", () => {
    expect(decide(yaml, { reviews: [review("random", "CHANGES_REQUESTED")] }).conclusion).toBe("success");
  });
});

describe("needs.teams and rendering", () => {
  it("teams a rule names feed needs.teams only when a review could use them", () => {
    const input = (reviews: Review[]) => ({ policy: policy(DBA_RULE), policySource: { source: "t", ref: "b" }, codeowners: CODEOWNERS, files: [file("db/a.sql")], pr: pr(), reviews });
    expect(prepareEvaluation(input([])).needs.teams).toEqual([]);
    expect(prepareEvaluation(input([review("dana", "APPROVED")])).needs.teams).toEqual(["@acme/dba"]);
  });

  it("each rule shows in the table with who can satisfy it; whole-PR rules get one row", () => {
    const yaml = "approvals:\n  rules:\n    - name: leads\n      requires: { from: { users: [lee], teams: [acme/leads] } }\n";
    const md = renderDecisionMarkdown(decide(yaml));
    expect(md).toContain("| _whole pull request_ | approval rule <code>leads</code> | @lee, @acme/leads | — | ⏳ 0 of 1; waiting on @lee, @acme/leads |");
    expect(renderDecisionText(decide(yaml))).toContain("[waiting] low: 1 approval from @lee, @acme/leads; approval rule leads");
  });
});

describe("approval rule errors name the line", () => {
  const errorsOf = (text: string) => {
    const r = parsePolicy(text);
    if (r.ok) throw new Error("expected errors");
    return r.errors.map(formatPolicyError);
  };

  it("unknown keys, missing requires, duplicate names, empty from", () => {
    const text = [
      "approvals:",
      "  rules:",
      "    - name: a",
      "      if: { branch: main }",
      "      requires: { from: { users: [x] } }",
      "    - name: b",
      "    - name: a",
      "      requires: { from: {} }",
      "  disapproval:",
      "    from: { codeowners: true }",
      "",
    ].join("\n");
    expect(errorsOf(text)).toEqual([
      '.github/agent-gate.yml:4: approvals.rules[0].if.branch: unknown key "branch" (did you mean "branches"?)',
      ".github/agent-gate.yml:6: approvals.rules[1]: an approval rule needs exactly one of requires or anyOf",
      '.github/agent-gate.yml:7: approvals.rules[2].name: duplicate rule name "a" (approvals.rules[0] has it too)',
      ".github/agent-gate.yml:8: approvals.rules[2].requires.from: say who can approve: users, teams or codeowners: true",
      '.github/agent-gate.yml:10: approvals.disapproval.from.codeowners: unknown key "codeowners"',
      ".github/agent-gate.yml:10: approvals.disapproval.from: say who is in the group: users, teams or both",
    ]);
  });
});
