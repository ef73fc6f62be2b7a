import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/policy/decision.js";
import { withoutRejectedOwners } from "../../src/policy/owner-rejections.js";
import { buildRequirements } from "../../src/policy/approvals.js";
import { codeowners, file, policy, pr, review } from "./engine-helpers.js";

// The error GitHub's codeowners/errors endpoint returns for an unknown owner (as recorded by hub4j/github-api's
// GHCodeownersError test: kind, suggestion and message shapes), moved to our line.
const UNKNOWN_USER = {
  line: 1,
  kind: "Unknown owner",
  suggestion: "make sure @nonexistent-user exists and has write access to the repository",
  message: "Unknown owner on line 1: make sure @nonexistent-user exists and has write access to the repository\n\n  Dockerfile @nonexistent-user\n    ^",
};

describe("owners GitHub rejects (engine only; the App does not read codeowners/errors yet)", () => {
  it("invariant 4: an owner line GitHub rejects cannot make a PR approvable", () => {
    const input = {
      policy: policy(),
      policySource: { source: "preset", ref: "base" },
      codeowners: codeowners("Dockerfile @nonexistent-user @paula\n"),
      files: [file("Dockerfile")],
      pr: pr(),
      reviews: [review("nonexistent-user", "APPROVED")],
      teams: {},
    };
    const requirements = buildRequirements({ policy: input.policy, findings: [{ rule: "infra", level: "high", paths: ["Dockerfile"], message: "" }], codeowners: input.codeowners });
    const [kept] = withoutRejectedOwners(requirements, [UNKNOWN_USER]);
    expect(kept?.owners).toEqual(["@paula"]);
    const [gone] = withoutRejectedOwners(buildRequirements({ policy: input.policy, findings: [{ rule: "infra", level: "high", paths: ["Dockerfile"], message: "" }], codeowners: codeowners("Dockerfile @nonexistent-user\n") }), [UNKNOWN_USER]);
    expect(gone).toMatchObject({ satisfiable: false, owners: [] });
    expect(gone?.reason).toContain("GitHub rejects the owners of CODEOWNERS line 1: Unknown owner");
    // An error that names no owner takes the whole line off.
    const [line] = withoutRejectedOwners(requirements, [{ line: 1, kind: "Invalid pattern", message: "Invalid pattern on line 1" }]);
    expect(line?.satisfiable).toBe(false);
    // Without answers the engine keeps today's behaviour; with them the rejected owner's approval cannot count.
    expect(evaluate(input).approvals[0]?.counted).toBe(true);
  });
});
