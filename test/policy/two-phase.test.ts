import { describe, expect, it } from "vitest";
import { evaluate, prepareEvaluation } from "../../src/policy/decision.js";
import { codeowners, file, OLD, policy, pr, review } from "./engine-helpers.js";

const CODEOWNERS = codeowners("Dockerfile @acme/platform\n");
const NO_COMMITS = { logins: [], truncated: false };
const input = (reviews: ReturnType<typeof review>[]) => ({
  policy: policy(),
  policySource: { source: "preset", ref: "base" },
  codeowners: CODEOWNERS,
  files: [file("Dockerfile")],
  pr: pr({ triggeredBy: "tess" }),
  reviews,
});

describe("two-phase engine", () => {
  it("phase one names the teams the decision needs; phase two decides with their members", () => {
    const prepared = prepareEvaluation(input([review("paula", "APPROVED")]));
    expect(prepared.needs).toEqual({ teams: ["@acme/platform"], commits: true, ownerRejections: true });
    const decision = prepared.decide({ "@acme/platform": ["paula"] }, { commits: NO_COMMITS });
    expect(decision.conclusion).toBe("success");
    expect(decision).toEqual(evaluate({ ...input([review("paula", "APPROVED")]), teams: { "@acme/platform": ["paula"] } }));
  });

  it("issue 12: GitHub's CODEOWNERS validation is needed whenever a requirement has code owners, reviews or not", () => {
    expect(prepareEvaluation(input([])).needs).toEqual({ teams: [], commits: false, ownerRejections: true });
    // A low-risk docs change has no code-owner requirement: nothing to validate.
    expect(prepareEvaluation({ ...input([]), files: [file("docs/readme.md")] }).needs).toEqual({ teams: [], commits: false, ownerRejections: false });
  });

  it("invariant 4 (nobody approves their own agent): approvals that could never count need no team lookup", () => {
    const reviews = [review("copilot-swe-agent[bot]", "APPROVED"), review("tess", "APPROVED"), review("ci[bot]", "APPROVED")];
    // GitHub's CODEOWNERS validation is read whenever a requirement has code owners (a 304 once read: issue 12).
    expect(prepareEvaluation(input(reviews)).needs).toEqual({ teams: [], commits: false, ownerRejections: true });
  });

  it("invariant 4 (nor their own push): an owner's approval needs the PR's commits; unread, it does not count", () => {
    const prepared = prepareEvaluation(input([review("paula", "APPROVED")]));
    expect(prepared.needs.commits).toBe(true);
    const unread = prepared.decide({ "@acme/platform": ["paula"] });
    expect(unread.conclusion).toBe("action_required");
    expect(unread.approvals[0]).toMatchObject({ reviewer: "paula", counted: false, reason: "approval does not count: whether paula has commits in the pull request could not be checked" });
    const authored = prepared.decide({ "@acme/platform": ["paula"] }, { commits: { logins: ["agent-bot", "Paula"], truncated: false } });
    expect(authored.conclusion).toBe("action_required");
    expect(authored.approvals[0]?.reason).toBe("approval does not count: paula has commits in the pull request (author or committer)");
    const tooMany = prepared.decide({ "@acme/platform": ["paula"] }, { commits: { logins: [], truncated: true } });
    expect(tooMany.conclusion).toBe("action_required");
    expect(prepared.decide({ "@acme/platform": ["paula"] }, { commits: { logins: ["agent-bot"], truncated: false } }).conclusion).toBe("success");
  });

  it("invariant 4 (nor their own push): a recorded pusher cannot approve, costs no lookup, and the policy can allow it", () => {
    const pushed = { ...input([review("paula", "APPROVED")]), pr: pr({ triggeredBy: "tess", pushers: ["PAULA"] }) };
    expect(prepareEvaluation(pushed).needs).toEqual({ teams: [], commits: false, ownerRejections: true });
    const decision = evaluate({ ...pushed, teams: { "@acme/platform": ["paula"] } });
    expect(decision.conclusion).toBe("failure");
    expect(decision.approvals[0]?.reason).toBe("approval does not count: paula pushed to the pull request's branch");
    const allowed = { ...pushed, policy: policy("approvals:\n  pushersCannotApprove: false\n") };
    // Invariant 4 still asks GitHub whether it counts the owner, whatever pushersCannotApprove says.
    expect(prepareEvaluation(allowed).needs).toEqual({ teams: ["@acme/platform"], commits: false, ownerRejections: true });
    expect(evaluate({ ...allowed, teams: { "@acme/platform": ["paula"] } }).conclusion).toBe("success");
  });

  it("invariant 3 (approvals bind to the diff they saw): a stale approval needs no lookup; a changes request does", () => {
    expect(prepareEvaluation(input([review("paula", "APPROVED", { commitId: OLD })])).needs.teams).toEqual([]);
    expect(prepareEvaluation(input([review("paula", "CHANGES_REQUESTED", { commitId: OLD })])).needs.teams).toEqual(["@acme/platform"]);
  });

  it("invariant 3 (approvals bind to the diff they saw): an approval given for another diff under the same head does not count", () => {
    const given = { baseRef: "main", fingerprint: "a".repeat(64) };
    const approved = [review("paula", "APPROVED", { givenFor: given })];
    const teams = { "@acme/platform": ["paula"] };
    const same = { ...input(approved), pr: pr({ triggeredBy: "tess", diff: given }) };
    expect(prepareEvaluation(same).decide(teams, { commits: NO_COMMITS }).conclusion).toBe("success");
    const retargeted = { ...input(approved), pr: pr({ triggeredBy: "tess", baseRef: "release", diff: { baseRef: "release", fingerprint: "b".repeat(64) } }) };
    const prepared = prepareEvaluation(retargeted);
    // Like a stale approval, it costs no lookup.
    expect(prepared.needs).toEqual({ teams: [], commits: false, ownerRejections: true });
    const refused = prepared.decide(teams, { commits: NO_COMMITS });
    expect(refused.conclusion).toBe("action_required");
    expect(refused.approvals[0]?.reason).toBe("approval does not count: given for the diff against main; the pull request now targets release");
    const rebased = { ...input(approved), pr: pr({ triggeredBy: "tess", diff: { baseRef: "main", fingerprint: "c".repeat(64) } }) };
    expect(evaluate({ ...rebased, teams }).approvals[0]?.reason).toMatch(/^approval does not count: the diff changed since it was given \(same head /);
    // invalidateOnPush: false keeps counting it.
    expect(evaluate({ ...retargeted, policy: policy("approvals:\n  invalidateOnPush: false\n"), teams }).conclusion).toBe("success");
  });

  it("the decision says which approvals counted and why the others did not", () => {
    const reviews = [review("paula", "APPROVED"), review("tess", "APPROVED"), review("olga", "APPROVED"), review("cy", "COMMENTED")];
    const decision = prepareEvaluation(input(reviews)).decide({ "@acme/platform": ["paula", "tess"] }, { commits: NO_COMMITS });
    expect(decision.approvals.map((a) => [a.reviewer, a.counted, a.reason])).toEqual([
      ["paula", true, expect.stringMatching(/^counts as a code owner for /)],
      ["tess", false, "approval does not count: tess triggered the agent run"],
      ["olga", false, "not an owner of any path that needs approval"],
    ]);
  });
});
