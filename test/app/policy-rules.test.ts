/**
 * Issue 14 through the App: conditions, named approval rules, disapproval and review-request modes, with GitHub's
 * real webhook payloads (@octokit/webhooks-examples) and every request answered by nock and counted.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nockAddLabels, requests } from "../helpers/github.js";
import { POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

function expectRequests(total: number, counted = total): void {
  expect({ total: requests.total, counted: requests.counted, requests: requests.describe() }).toEqual({ total, counted, requests: requests.describe() });
}

const CONDITIONED = `${POLICY_YML.replace("risk:\n  rules:\n", `risk:
  rules:
    - id: release-hotfix
      level: medium
      reason: a hotfix straight into a release branch
      when: { targets: ["release/**"], title: ["*hotfix*"] }
`)}`;

describe("conditions on risk rules (App)", () => {
  it("a rule for release branches and hotfix titles fires on such a PR, with no extra request", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS, { baseRef: "release/2.0" });
    event.payload.pull_request.title = "Hotfix: docs link";
    const check = nockEvaluation(event, { files: DOCS, policy: CONDITIONED });
    const labels = nockAddLabels([], { addedColor: "fbca04" });
    await probot.receive({ id: "d-cond-1", ...event });
    expect(check.body.name).toBe("Agent Gate: approval (release/2.0)");
    expect(check.body.output.summary).toContain("release-hotfix");
    expect(labels.captured.body).toEqual({ labels: ["agent-risk:medium"] });
    // The same 8 requests as any opened docs PR: conditions read nothing more.
    expectRequests(8);
  });

  it("the same PR into master is low risk", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(DOCS);
    event.payload.pull_request.title = "Hotfix: docs link";
    const check = nockEvaluation(event, { files: DOCS, policy: CONDITIONED });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-cond-2", ...event });
    expect(check.body.conclusion).toBe("success");
    expect(check.body.output.summary).not.toContain("release-hotfix");
    expectRequests(8);
  });
});
