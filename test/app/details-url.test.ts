/**
 * The approval check's details link leads to the PR's trail on the compliance pages (issue 15), when the App knows
 * where they are served (AGENT_GATE_PUBLIC_URL, which `npm start` passes when it serves the pages): through probot.receive.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nockAddLabels, requests } from "../helpers/github.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

async function publishedCheck(publicUrl?: string) {
  const { probot } = await createApp(publicUrl === undefined ? {} : { publicUrl });
  const event = agentPullRequest(DOCS);
  const check = nockEvaluation(event, { files: DOCS });
  nockAddLabels([], { addedColor: "0e8a16" });
  await probot.receive({ id: `d-${Math.random()}`, ...event });
  return check.body;
}

describe("the approval check's details link", () => {
  it("points at the PR's trail page under the public URL", async () => {
    const body = await publishedCheck("https://gate.example.com");
    expect(body.details_url).toBe("https://gate.example.com/audit/pr/Codertocat/Hello-World/2");
  });

  it("is absent when the App does not know where its pages are", async () => {
    const body = await publishedCheck();
    expect(body).not.toHaveProperty("details_url");
  });
});
