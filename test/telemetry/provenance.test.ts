import { describe, expect, it } from "vitest";
import { checkProvenance, normalizeWorkflowPath, parseNativeBundle } from "../../src/telemetry/index.js";
import type { ProvenanceInput } from "../../src/telemetry/index.js";
import { nativeBundle } from "./helpers.js";

const { manifest } = parseNativeBundle(nativeBundle());
const SHA = manifest.headSha!;

function genuine(): ProvenanceInput {
  return {
    manifest,
    run: { repositoryFullName: "acme/widgets", headRepositoryFullName: "acme/widgets", workflowPath: ".github/workflows/agent.yml", headSha: "1111111111111111111111111111111111111111", headBranch: "main", id: 9876543210 },
    pullRequest: { number: 42, state: "open", headSha: SHA, headRef: "agent/9876543210", baseRepositoryFullName: "acme/widgets", headRepositoryFullName: "acme/widgets", baseRef: "main" },
    repositoryFullName: "acme/widgets",
    allowedWorkflows: [".github/workflows/agent.yml"],
  };
}

const rejected = (input: ProvenanceInput) => {
  const r = checkProvenance(input);
  expect(r.accepted).toBe(false);
  return r.accepted ? [] : r.reasons;
};

describe("checkProvenance", () => {
  it("invariant 7 (provenance): accepts the genuine bundle", () => {
    expect(checkProvenance(genuine())).toEqual({ accepted: true });
    // GitHub names are case-insensitive; workflow refs may carry owner/repo and @ref.
    const g = genuine();
    expect(checkProvenance({ ...g, repositoryFullName: "Acme/Widgets", allowedWorkflows: ["./.github/workflows/agent.yml"], run: { ...g.run, workflowPath: "acme/widgets/.github/workflows/agent.yml@refs/heads/main" } })).toEqual({ accepted: true });
  });

  it("invariant 7 (provenance): rejects a bundle naming another repository", () => {
    expect(rejected({ ...genuine(), manifest: { ...manifest, repository: "mallory/widgets" } }).join()).toMatch(/names repository mallory\/widgets/);
  });

  it("invariant 7 (provenance): rejects a workflow run of another repository", () => {
    const g = genuine();
    expect(rejected({ ...g, run: { ...g.run, repositoryFullName: "mallory/widgets" } }).join()).toMatch(/run belongs to mallory\/widgets/);
  });

  it("invariant 7 (provenance): rejects a bundle whose head SHA is not the PR's head", () => {
    expect(rejected({ ...genuine(), manifest: { ...manifest, headSha: "0".repeat(40) } }).join()).toMatch(/head commit 0{40}.*pull request's head is/);
    expect(rejected({ ...genuine(), manifest: { ...manifest, headSha: null } }).join()).toMatch(/names no head commit/);
  });

  it("invariant 7 (provenance): rejects a workflow that is not allowlisted, or an empty allowlist", () => {
    const g = genuine();
    expect(rejected({ ...g, run: { ...g.run, workflowPath: ".github/workflows/pwn.yml" }, manifest: { ...manifest, workflowPath: ".github/workflows/pwn.yml" } }).join()).toMatch(/pwn\.yml is not in telemetry\.workflows/);
    expect(rejected({ ...g, allowedWorkflows: [] }).join()).toMatch(/no telemetry workflow is allowlisted/);
    // A bundle claiming the allowlisted workflow but uploaded by another one.
    expect(rejected({ ...g, run: { ...g.run, workflowPath: ".github/workflows/other.yml" } }).join()).toMatch(/names workflow \.github\/workflows\/agent\.yml, but the run is of \.github\/workflows\/other\.yml/);
  });

  it("invariant 7 (provenance): rejects when the PR is not open, or no PR has that head", () => {
    const g = genuine();
    expect(rejected({ ...g, pullRequest: { ...g.pullRequest!, state: "closed" } }).join()).toMatch(/#42 is closed, not open/);
    expect(rejected({ ...g, pullRequest: null }).join()).toMatch(/no open pull request/);
  });

  it("invariant 7 (provenance): rejects a run from a fork and a PR from a fork", () => {
    const g = genuine();
    expect(rejected({ ...g, run: { ...g.run, headRepositoryFullName: "mallory/widgets" } }).join()).toMatch(/triggered from a fork \(mallory\/widgets\)/);
    expect(rejected({ ...g, pullRequest: { ...g.pullRequest!, headRepositoryFullName: "mallory/widgets" } }).join()).toMatch(/#42 comes from a fork/);
  });

  it("invariant 7 (provenance): rejects a bundle naming another PR, branch, run, or copied from another run", () => {
    const g = genuine();
    expect(rejected({ ...g, manifest: { ...manifest, pullRequest: { number: 7 } } }).join()).toMatch(/names pull request #7, not #42/);
    expect(rejected({ ...g, manifest: { ...manifest, pullRequest: null } }).join()).toMatch(/names no pull request/);
    expect(rejected({ ...g, manifest: { ...manifest, branch: "feature/x" } }).join()).toMatch(/names branch feature\/x/);
    expect(rejected({ ...g, run: { ...g.run, id: 1 } }).join()).toMatch(/names workflow run 9876543210, but it was uploaded by run 1/);
  });

  it("invariant 7 (provenance): rejects a run on another branch than the PR's base (its workflow file may be modified)", () => {
    const g = genuine();
    expect(rejected({ ...g, run: { ...g.run, headBranch: "evil-branch" } }).join()).toMatch(/ran on branch evil-branch, not on the pull request's base branch main/);
  });

  it("lists every reason at once", () => {
    const g = genuine();
    const reasons = rejected({ ...g, manifest: { ...manifest, repository: "x/y", headSha: "0".repeat(40) }, allowedWorkflows: [] });
    expect(reasons.length).toBeGreaterThanOrEqual(3);
  });

  it("a plain transcript (no manifest) must come from a run of the PR's head commit and branch", () => {
    const g = genuine();
    const plain: ProvenanceInput = { ...g, manifest: null, run: { ...g.run, headSha: SHA, headBranch: "agent/9876543210" } };
    expect(checkProvenance(plain)).toEqual({ accepted: true });
    expect(rejected({ ...plain, run: { ...plain.run, headSha: "2".repeat(40) } }).join()).toMatch(/run is of commit 2{40}/);
  });

  it("normalizes workflow paths", () => {
    expect(normalizeWorkflowPath("o/r/.github/workflows/a.yml@refs/heads/main", "o/r")).toBe(".github/workflows/a.yml");
    expect(normalizeWorkflowPath("./.github/workflows/a.yml")).toBe(".github/workflows/a.yml");
  });
});
