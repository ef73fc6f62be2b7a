import { describe, expect, it } from "vitest";
import { buildRequirements, evaluateApprovals, latestReviews, teamsToResolve } from "../../src/policy/approvals.js";
import { classifyPullRequest } from "../../src/policy/agents.js";
import { evaluate } from "../../src/policy/decision.js";
import type { Codeowners } from "../../src/policy/codeowners.js";
import type { ResolvedPolicy } from "../../src/policy/config.js";
import type { Decision, Review, TeamMembership } from "../../src/policy/types.js";
import { HEAD, OLD, codeowners, file, policy, pr, review } from "./engine-helpers.js";

/** One high-risk file (Dockerfile) owned by `owners`, evaluated with `reviews`. */
function decide(opts: {
  reviews?: Review[];
  owners?: string;
  co?: Codeowners;
  p?: ResolvedPolicy;
  teams?: TeamMembership;
  triggeredBy?: string;
  author?: string;
  files?: ReturnType<typeof file>[];
}): Decision {
  return evaluate({
    policy: opts.p ?? policy(),
    policySource: { source: "test", ref: "base" },
    codeowners: opts.co ?? codeowners(`/Dockerfile ${opts.owners ?? "@alice"}\n`),
    files: opts.files ?? [file("Dockerfile")],
    pr: pr({ triggeredBy: opts.triggeredBy, ...(opts.author ? { author: opts.author, authorType: "User" as const } : {}) }),
    reviews: opts.reviews ?? [],
    teams: opts.teams ?? {},
  });
}

describe("requirements", () => {
  it("a sensitive file needs its code owner (last matching line); a low-risk one needs nobody", () => {
    const reqs = buildRequirements({
      policy: policy(),
      findings: [
        { rule: "infrastructure", level: "high", paths: ["Dockerfile"], message: "" },
        { rule: "renamed-file", level: "medium", paths: ["src/a.ts"], message: "" },
      ],
      codeowners: codeowners("* @everyone\nDockerfile @ops\n"),
    });
    expect(reqs).toEqual([
      { id: "r1", paths: ["Dockerfile"], level: "high", rules: ["infrastructure"], owners: ["@ops"], count: 1, source: "codeowners", codeownersLine: 2, satisfiable: true },
    ]);
  });

  it("paths under one CODEOWNERS line group by level, take the highest level per path, keep rules in order", () => {
    const reqs = buildRequirements({
      policy: policy("approvals:\n  codeowners: { from: medium }\n"),
      findings: [
        { rule: "many-files", level: "medium", paths: ["a/1", "a/2", "a/3"], message: "" },
        { rule: "infrastructure", level: "high", paths: ["a/2"], message: "" },
        { rule: "secret-file", level: "critical", paths: ["a/3", "b/1"], message: "" },
        { rule: "large-change", level: "medium", paths: ["a/3"], message: "" },
      ],
      codeowners: codeowners("a/ @Ann @bob @ann\nb/ @ann @BOB\n"),
    });
    expect(reqs.map((r) => [r.level, r.paths, r.rules, r.owners, r.codeownersLine])).toEqual([
      ["critical", ["a/3", "b/1"], ["many-files", "secret-file", "large-change"], ["@Ann", "@bob"], undefined],
      ["high", ["a/2"], ["many-files", "infrastructure"], ["@Ann", "@bob"], 1],
      ["medium", ["a/1"], ["many-files"], ["@Ann", "@bob"], 1],
    ]);
    // Requirements from the same line do not share one owners array.
    reqs[1]!.owners.push("@eve");
    expect(reqs[2]!.owners).toEqual(["@Ann", "@bob"]);
  });

  it("count per level comes from the policy", () => {
    const d = decide({ p: policy("approvals:\n  count: { high: 2 }\n"), owners: "@alice @bob", reviews: [review("alice", "APPROVED")] });
    expect(d.approval.requirements[0]).toMatchObject({ count: 2, approvedBy: ["alice"], met: false, waitingOn: ["@bob"] });
    const both = decide({ p: policy("approvals:\n  count: { high: 2 }\n"), owners: "@alice @bob", reviews: [review("alice", "APPROVED"), review("Bob", "APPROVED")] });
    expect(both.conclusion).toBe("success");
  });

  it("codeowners.from: critical leaves high-risk files without a requirement", () => {
    const d = decide({ p: policy("approvals:\n  codeowners: { from: critical }\n") });
    expect(d.approval.required).toBe(false);
    expect(d.conclusion).toBe("success");
    expect(d.title).toBe("High risk: no code-owner approval needed");
  });

  it("fallback owners cover files CODEOWNERS does not, and files whose ownership a line clears", () => {
    const p = policy('approvals:\n  fallback: ["@acme/security"]\n');
    const none = decide({ p, co: codeowners("src/ @dev\n") });
    expect(none.approval.requirements[0]).toMatchObject({ source: "fallback", owners: ["@acme/security"], satisfiable: true });
    const cleared = decide({ p, co: codeowners("* @dev\n/Dockerfile\n") });
    expect(cleared.approval.requirements[0]).toMatchObject({ source: "fallback" });
  });

  it("no owner and no fallback: unsatisfiable, a failure that says why", () => {
    const d = decide({ co: codeowners("src/ @dev\n") });
    expect(d.approval.requirements[0]).toMatchObject({ source: "unowned", satisfiable: false, met: false });
    expect(d.approval.requirements[0]!.reason).toContain("gives these paths no owner and approvals.fallback is empty");
    expect(d.conclusion).toBe("failure");
    expect(d.title).toBe("High risk: nobody can approve 1 sensitive path");
  });

  it("no CODEOWNERS file, or one of 3 MB or more, is unsatisfiable without a fallback", () => {
    const missing = decide({ co: codeowners("", null as unknown as string) });
    expect(missing.approval.requirements[0]!.reason).toContain("there is no CODEOWNERS file");
    const huge = decide({ co: { ...codeowners("* @a\n"), tooLarge: true } });
    expect(huge.approval.requirements[0]!.reason).toContain("3 MB or larger");
    expect(huge.conclusion).toBe("failure");
  });

  it("owners that are only email addresses cannot approve", () => {
    const d = decide({ owners: "ops@example.com" });
    expect(d.approval.requirements[0]!.satisfiable).toBe(false);
    expect(d.approval.requirements[0]!.reason).toContain("email addresses");
  });

  it("more approvals needed than user owners listed is unsatisfiable", () => {
    const d = decide({ p: policy("approvals:\n  count: { high: 2 }\n"), owners: "@alice" });
    expect(d.approval.requirements[0]!.satisfiable).toBe(false);
    expect(d.conclusion).toBe("failure");
  });

  it("paths with the same owners and level share one requirement", () => {
    const d = decide({ files: [file("Dockerfile"), file("infra/main.tf"), file("src/auth/x.ts")], co: codeowners("* @ops\n/src/auth/ @sec\n") });
    expect(d.approval.requirements.map((r) => [r.paths, r.owners])).toEqual([
      [["Dockerfile", "infra/main.tf"], ["@ops"]],
      [["src/auth/x.ts"], ["@sec"]],
    ]);
  });
});

describe("invariant 3 (approvals bind to a commit)", () => {
  it("invariant 3 (head SHA): an approval on an earlier commit does not count, and says so", () => {
    const d = decide({ reviews: [review("alice", "APPROVED", { commitId: OLD })] });
    expect(d.conclusion).toBe("action_required");
    expect(d.approval.requirements[0]!.approvedBy).toEqual([]);
    expect(d.ignoredReviews).toEqual([{ reviewer: "alice", reason: `approval does not count: given on ${OLD.slice(0, 7)}, not on the head ${HEAD.slice(0, 7)}` }]);
  });

  it("invariant 3 (head SHA): with invalidateOnPush: false an earlier approval counts", () => {
    const d = decide({ p: policy("approvals:\n  invalidateOnPush: false\n"), reviews: [review("alice", "APPROVED", { commitId: OLD })] });
    expect(d.conclusion).toBe("success");
  });

  it("invariant 3 (latest review): the latest review counts; a comment does not override an approval", () => {
    const t = (m: number) => `2025-01-01T10:0${m}:00Z`;
    const approvedThenCommented = decide({ reviews: [review("alice", "APPROVED", { submittedAt: t(1) }), review("alice", "COMMENTED", { submittedAt: t(2) })] });
    expect(approvedThenCommented.conclusion).toBe("success");
    const approvedThenChanges = decide({ reviews: [review("alice", "APPROVED", { submittedAt: t(1) }), review("alice", "CHANGES_REQUESTED", { submittedAt: t(2) })] });
    expect(approvedThenChanges.conclusion).toBe("action_required");
    expect(approvedThenChanges.approval.requirements[0]!.blockedBy).toEqual(["alice"]);
    // Listed out of order: time decides, not position.
    const changesThenApproved = decide({ reviews: [review("alice", "APPROVED", { submittedAt: t(3) }), review("alice", "CHANGES_REQUESTED", { submittedAt: t(2) })] });
    expect(changesThenApproved.conclusion).toBe("success");
  });

  it("a dismissed review counts for nothing; pending reviews are ignored", () => {
    const d = decide({ reviews: [review("alice", "DISMISSED"), review("alice", "PENDING", { submittedAt: "2025-01-02T00:00:00Z" })] });
    expect(latestReviews([review("alice", "DISMISSED")])).toEqual([]);
    expect(d.conclusion).toBe("action_required");
  });
});

describe("invariant 4 (nobody approves their own agent)", () => {
  it("invariant 4 (author): the PR author's approval never counts", () => {
    const d = decide({ author: "mallory", owners: "@mallory @alice", reviews: [review("Mallory", "APPROVED")] });
    expect(d.conclusion).toBe("action_required");
    expect(d.ignoredReviews[0]!.reason).toContain("is the pull request's author");
  });

  it("invariant 4 (agent identity): an identity in agents.authors never counts", () => {
    const p = policy('agents:\n  authors: ["robo-coder"]\n');
    const d = decide({ p, owners: "@robo-coder @alice", reviews: [review("robo-coder", "APPROVED")] });
    expect(d.conclusion).toBe("action_required");
    expect(d.ignoredReviews[0]!.reason).toContain("agent identity");
  });

  it("invariant 4 (bots): a bot never counts, by type or by [bot] suffix", () => {
    const byType = decide({ owners: "@helper @alice", reviews: [review("helper", "APPROVED", { reviewerType: "Bot" })] });
    expect(byType.conclusion).toBe("action_required");
    const bySuffix = decide({ owners: "@acme/ops", teams: { "@acme/ops": ["renovate[bot]", "alice"] }, reviews: [review("renovate[bot]", "APPROVED")] });
    expect(bySuffix.conclusion).toBe("action_required");
    expect(bySuffix.ignoredReviews[0]!.reason).toContain("is a bot");
  });

  it("invariant 4 (trigger): the human who triggered the agent run never counts", () => {
    const d = decide({ owners: "@alice @bob", triggeredBy: "Alice", reviews: [review("alice", "APPROVED")] });
    expect(d.conclusion).toBe("action_required");
    expect(d.ignoredReviews[0]!.reason).toContain("triggered the agent run");
    expect(d.approval.requirements[0]!.waitingOn).toEqual(["@bob"]);
  });

  it("invariant 4 (trigger): when the only owner triggered the run, nobody can approve (failure)", () => {
    const d = decide({ owners: "@alice", triggeredBy: "alice" });
    expect(d.approval.requirements[0]!.satisfiable).toBe(false);
    expect(d.conclusion).toBe("failure");
  });

  it("invariant 4 (changes requested): a code owner's outstanding CHANGES_REQUESTED blocks other approvals", () => {
    const d = decide({ owners: "@alice @bob", reviews: [review("alice", "APPROVED"), review("bob", "CHANGES_REQUESTED", { commitId: OLD })] });
    expect(d.conclusion).toBe("action_required");
    expect(d.approval.requirements[0]).toMatchObject({ approvedBy: ["alice"], blockedBy: ["bob"], met: false });
    expect(d.title).toBe("High risk: changes requested by @bob");
  });

  it("invariant 4 (changes requested): a non-owner's CHANGES_REQUESTED does not block", () => {
    const d = decide({ owners: "@alice", reviews: [review("alice", "APPROVED"), review("mallory", "CHANGES_REQUESTED")] });
    expect(d.conclusion).toBe("success");
  });
});

describe("team owners", () => {
  const teams = { "@acme/Ops": ["Carol", "dave"] };

  it("any approving member satisfies a team owner (case-insensitive); a non-member does not", () => {
    expect(decide({ owners: "@acme/ops", teams, reviews: [review("carol", "APPROVED")] }).conclusion).toBe("success");
    expect(decide({ owners: "@acme/ops", teams, reviews: [review("erin", "APPROVED")] }).conclusion).toBe("action_required");
  });

  it("a team member's changes request blocks", () => {
    const d = decide({ owners: "@acme/ops", teams, reviews: [review("carol", "APPROVED"), review("dave", "CHANGES_REQUESTED")] });
    expect(d.approval.requirements[0]!.blockedBy).toEqual(["dave"]);
  });

  it("teamsToResolve names only team owners of satisfiable requirements, and none when nobody reviewed", () => {
    const p = policy();
    const reqs = buildRequirements({
      policy: p,
      findings: [{ rule: "x", level: "critical", paths: ["a", "b", "c"], message: "" }],
      codeowners: codeowners("a @acme/ops @solo\nb @ACME/ops\nc nobody@example.com\n"),
    });
    expect(teamsToResolve(reqs)).toEqual(["@acme/ops"]);
    expect(teamsToResolve(reqs, [review("x", "COMMENTED")])).toEqual([]);
    expect(teamsToResolve(reqs, [review("x", "APPROVED")])).toEqual(["@acme/ops"]);
  });

  it("with the team's members known, a team of only ineligible people cannot approve", () => {
    const d = decide({ owners: "@acme/bots", teams: { "@acme/bots": ["copilot-swe-agent[bot]", "deploy[bot]"] } });
    expect(d.conclusion).toBe("failure");
  });
});

describe("conclusion and classification", () => {
  it("success when every requirement is met, and the title names the approvers", () => {
    const d = decide({ reviews: [review("alice", "APPROVED")] });
    expect(d).toMatchObject({ conclusion: "success", risk: "high", labels: ["agent-risk:high"], title: "High risk: approved by @alice" });
  });

  it("action_required while waiting names who can approve", () => {
    expect(decide({}).title).toBe("High risk: waiting on @alice");
  });

  it("evaluateApprovals with no requirements is satisfied and not required", () => {
    const r = evaluateApprovals({ policy: policy(), requirements: [], reviews: [], headSha: HEAD, pr: pr(), teams: {} });
    expect(r).toEqual({ required: false, satisfied: true, requirements: [], ignoredReviews: [] });
  });

  it("classifies agent pull requests by author, branch or label, and scope", () => {
    const p = policy();
    expect(classifyPullRequest(p, pr())).toMatchObject({ inScope: true, isAgent: true });
    expect(classifyPullRequest(p, pr({ author: "alice", headRef: "agent/run-1" }))).toMatchObject({ isAgent: true });
    expect(classifyPullRequest(p, pr({ author: "alice", headRef: "fix", labels: ["Agent"] }))).toMatchObject({ isAgent: true });
    expect(classifyPullRequest(p, pr({ author: "alice", headRef: "fix" }))).toMatchObject({ inScope: false, isAgent: false });
    expect(classifyPullRequest(policy("scope: all\n"), pr({ author: "alice", headRef: "fix" }))).toMatchObject({ inScope: true, isAgent: false });
  });
});
