/**
 * What the App cannot see in GitHub's pull-request files (invariant 2), end to end: a real pull_request payload
 * in, every GitHub request answered by nock, the check run and labels out. The engine's own cases are in
 * test/policy/invisible.test.ts and risk.test.ts; the CLI's, on a real git repository, in test/cli/invisible.test.ts.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RISK_LABEL_COLORS } from "../../src/policy/render.js";
import {
  nockAddLabels,
  nockCodeowners,
  nockCreateCheckRun,
  nockFileModes,
  nockListFiles,
  nockPolicyFile,
  nockRequestReviewers,
  requests,
} from "../helpers/github.js";
import type { FileModesAnswer, FileSpec } from "../helpers/github.js";
import { CODEOWNERS, POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const DOCS_ONLY = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const BARE_POLICY = `agents:
  branches: ["agent/**"]
risk:
  extends: none
`;

async function evaluate(files: FileSpec[], level: keyof typeof RISK_LABEL_COLORS, options: { policy?: string; reviewers?: boolean; modes?: FileModesAnswer } = {}) {
  const { probot } = await createApp();
  const event = agentPullRequest(files);
// High and critical risk need a code owner (the policy): GitHub's CODEOWNERS validation is read too.
  const owned = level === "high" || level === "critical";
  const check = nockEvaluation(event, { files, ...(owned ? { codeownersErrors: [] } : {}), ...(options.policy ? { policy: options.policy } : {}), ...(options.modes ? { modes: options.modes } : {}) });
  const labels = nockAddLabels([], { addedColor: RISK_LABEL_COLORS[level] });
  if (options.reviewers) nockRequestReviewers();
  await probot.receive({ id: `d-${Math.random()}`, ...event });
  return { check: check.body, labels: labels.captured.body };
}

/** The summary as a reader sees it: whatever escaping keeps links and mentions inert (zero-width joiners, backslashes) removed. */
const seen = (summary: string) => summary.replace(/[\u200b-\u200d\\]/g, "");

describe("invariant 2: a missing patch fails closed whatever the preset (App)", () => {
  it("invariant 2: with risk.extends: none, a text file GitHub sent without its patch fails the check", async () => {
    const files = [{ filename: "src/generated/client.ts", additions: 4_000, deletions: 12, patch: null }];
    const { check, labels } = await evaluate(files, "critical", { policy: BARE_POLICY });
    expect(labels).toEqual({ labels: ["agent-risk:critical"] });
    expect(check.conclusion).toBe("failure");
    expect(check.output.title).toMatch(/cannot be fully evaluated/);
    expect(check.output.summary).toContain("src/generated/client.ts");
  });
});

describe("invariant 2: submodules (App)", () => {
  const OLD = "f21291a3b3440182699ef5ef5d228046f08dd66c";
  const NEW = "65374641cdedb0664879196b62127f76a106185a";

  it("invariant 2: a gitlink bump, as GitHub's files API lists it, is high and the check names both commits", async () => {
    // GitHub lists a submodule bump as a one-line modification of the gitlink's path.
    const files = [{ filename: "vendor/lib", additions: 1, deletions: 1, patch: `@@ -1 +1 @@\n-Subproject commit ${OLD}\n+Subproject commit ${NEW}` }];
    const gitlink = { "vendor/lib": "160000" };
    const { check, labels } = await evaluate(files, "high", { reviewers: true, modes: { base: gitlink, head: gitlink } });
    expect(labels).toEqual({ labels: ["agent-risk:high"] });
    expect(check.conclusion).toBe("action_required");
    expect(check.output.summary).toContain("submodule");
    expect(seen(check.output.summary)).toContain(`${OLD} to ${NEW}`);
    // A gitlink has no lines to annotate: an annotation on it could make GitHub refuse the whole check run.
    expect((check.output.annotations ?? []).some((a: { path: string }) => a.path === "vendor/lib")).toBe(false);
  });

  it("invariant 2: a .gitmodules URL change is high and the check names the old and the new URL", async () => {
    const patch = ['@@ -1,3 +1,3 @@', ' [submodule "lib"]', " \tpath = vendor/lib", "-\turl = https://github.com/Codertocat/lib.git", "+\turl = https://evil.example/lib.git"].join("\n");
    const { check, labels } = await evaluate([{ filename: ".gitmodules", additions: 1, deletions: 1, patch }], "high", { reviewers: true });
    expect(labels).toEqual({ labels: ["agent-risk:high"] });
    expect(check.conclusion).toBe("action_required");
    expect(seen(check.output.summary)).toContain("from https://github.com/Codertocat/lib.git to https://evil.example/lib.git");
  });
});

describe("invariant 2: file modes, which GitHub's files API does not carry (App)", () => {
  it("invariant 2: a new symlink pointing outside the repository is high, and the check says where it points", async () => {
    // GitHub lists a new link as an added one-line file: its blob is the target path, without a newline.
    const files = [{ filename: "docs/passwd", status: "added", additions: 1, patch: "@@ -0,0 +1 @@\n+../../../etc/passwd\n\\ No newline at end of file" }];
    const { check, labels } = await evaluate(files, "high", { reviewers: true, modes: { head: { "docs/passwd": "120000" } } });
    expect(labels).toEqual({ labels: ["agent-risk:high"] });
    expect(check.conclusion).toBe("action_required");
    expect(seen(check.output.summary)).toContain("a new symbolic link to ../../../etc/passwd (outside the repository)");
  });

  it("invariant 2: a symlink at a harmless path pointing at a workflow is judged as the workflow (critical)", async () => {
    const files = [{ filename: "docs/ci.yml", status: "added", additions: 1, patch: "@@ -0,0 +1 @@\n+../.github/workflows/ci.yml\n\\ No newline at end of file" }];
    const { check, labels } = await evaluate(files, "critical", { reviewers: true, modes: { head: { "docs/ci.yml": "120000" } } });
    expect(labels).toEqual({ labels: ["agent-risk:critical"] });
    expect(check.conclusion).toBe("action_required");
    const summary = seen(check.output.summary);
    expect(summary).toContain("gate-control");
    expect(summary).toContain(".github/workflows/ci.yml");
    // Its owners (CODEOWNERS: /.github/ @Codertocat/security) are asked, not only the docs owners.
    expect(check.output.title).toContain("@Codertocat/security");
  });

  it("invariant 2: chmod +x alone is a new executable (medium), not a binary file", async () => {
    // A mode-only change: GitHub lists the file with no patch and no changed lines.
    const files = [{ filename: "scripts/deploy.sh", status: "changed", additions: 0, deletions: 0, patch: null }];
    const { check, labels } = await evaluate(files, "medium", { modes: { base: { "scripts/deploy.sh": "100644" }, head: { "scripts/deploy.sh": "100755" } } });
    expect(labels).toEqual({ labels: ["agent-risk:medium"] });
    expect(check.output.summary).toContain("new-executable");
    expect(check.output.summary).not.toContain("binary-file");
  });

  it("invariant 2: an edited file that also becomes executable is found (the listing shows only its lines)", async () => {
    const files = [{ filename: "tools/gen.py", additions: 1, patch: "@@ -1 +1,2 @@\n print('x')\n+print('y')" }];
    const { check } = await evaluate(files, "medium", { modes: { base: { "tools/gen.py": "100644" }, head: { "tools/gen.py": "100755" } } });
    expect(check.output.summary).toContain("new-executable");
  });

  it("invariant 2 / 5: when GitHub cannot answer the modes, the check fails, never success", async () => {
    const { probot } = await createApp();
    const files = DOCS_ONLY;
    const event = agentPullRequest(files);
    nockPolicyFile(POLICY_YML);
    nockCodeowners(CODEOWNERS);
    nockListFiles(files);
    nockFileModes({ fail: "errors" });
    const check = nockCreateCheckRun().captured;
    await expect(probot.receive({ id: "d-modes-fail", ...event })).rejects.toThrow(/file modes/);
    expect(check.body.conclusion).toBe("failure");
  });

  it("invariant 2: a pull request that only deletes files asks GitHub for no modes", async () => {
    const files = [{ filename: "docs/old.md", status: "removed", additions: 0, deletions: 3, patch: "@@ -1,3 +0,0 @@\n-a\n-b\n-c" }];
    await evaluate(files, "medium");
    expect(requests.describe().some((r) => r.includes("/graphql"))).toBe(false);
  });
});
