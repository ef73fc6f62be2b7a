/**
 * What the App cannot see in GitHub's pull-request files (invariant 2), end to end: a real pull_request payload
 * in, every GitHub request answered by nock, the check run and labels out. The engine's own cases are in
 * test/policy/invisible.test.ts and risk.test.ts; the CLI's, on a real git repository, in test/cli/invisible.test.ts.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RISK_LABEL_COLORS } from "../../src/policy/render.js";
import { nockAddLabels, nockRequestReviewers, requests } from "../helpers/github.js";
import type { FileSpec } from "../helpers/github.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

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

async function evaluate(files: FileSpec[], level: keyof typeof RISK_LABEL_COLORS, options: { policy?: string; reviewers?: boolean } = {}) {
  const { probot } = await createApp();
  const event = agentPullRequest(files);
  const check = nockEvaluation(event, { files, ...(options.policy ? { policy: options.policy } : {}) });
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
    const { check, labels } = await evaluate(files, "high", { reviewers: true });
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
