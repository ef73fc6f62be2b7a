import { describe, expect, it } from "vitest";
import { evaluate, prepareEvaluation } from "../../src/policy/decision.js";
import { codeowners, file, OLD, policy, pr, review } from "./engine-helpers.js";

const CODEOWNERS = codeowners("Dockerfile @acme/platform\n");
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
    expect(prepared.needs.teams).toEqual(["@acme/platform"]);
    const decision = prepared.decide({ "@acme/platform": ["paula"] });
    expect(decision.conclusion).toBe("success");
    expect(decision).toEqual(evaluate({ ...input([review("paula", "APPROVED")]), teams: { "@acme/platform": ["paula"] } }));
  });

  it("invariant 4 (nobody approves their own agent): approvals that could never count need no team lookup", () => {
    const reviews = [review("copilot-swe-agent[bot]", "APPROVED"), review("tess", "APPROVED"), review("ci[bot]", "APPROVED")];
    expect(prepareEvaluation(input(reviews)).needs.teams).toEqual([]);
  });

  it("invariant 3 (approvals bind to the diff they saw): a stale approval needs no lookup; a changes request does", () => {
    expect(prepareEvaluation(input([review("paula", "APPROVED", { commitId: OLD })])).needs.teams).toEqual([]);
    expect(prepareEvaluation(input([review("paula", "CHANGES_REQUESTED", { commitId: OLD })])).needs.teams).toEqual(["@acme/platform"]);
  });

  it("the decision says which approvals counted and why the others did not", () => {
    const reviews = [review("paula", "APPROVED"), review("tess", "APPROVED"), review("olga", "APPROVED"), review("cy", "COMMENTED")];
    const decision = prepareEvaluation(input(reviews)).decide({ "@acme/platform": ["paula", "tess"] });
    expect(decision.approvals.map((a) => [a.reviewer, a.counted, a.reason])).toEqual([
      ["paula", true, expect.stringMatching(/^counts as a code owner for /)],
      ["tess", false, "approval does not count: tess triggered the agent run"],
      ["olga", false, "not an owner of any path that needs approval"],
    ]);
  });
});
