/**
 * What the compliance pages show of a PR besides its evaluations (title, author, opened time) is recorded by the
 * App from the real pull_request webhook payload (@octokit/webhooks-examples), on both databases.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { pullRequests } from "../../src/store/schema.js";
import { nockAddLabels, requests } from "../helpers/github.js";
import { TEST_DRIVERS } from "../helpers/db.js";
import { useTestStore } from "../helpers/use-test-store.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

const DOCS = [{ filename: "docs/guide.md", patch: "@@ -1 +1 @@\n-old\n+new words" }];

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe.each(TEST_DRIVERS)("pull request metadata on %s", (driver) => {
  const ctx = useTestStore(driver);

  it("an evaluation records the PR's title, author and opened time for the compliance pages", async () => {
    const { probot } = await createApp({ store: new DatabaseGateStore(ctx.store) });
    const event = agentPullRequest(DOCS);
    nockEvaluation(event, { files: DOCS });
    nockAddLabels([], { addedColor: "0e8a16" });
    await probot.receive({ id: "d-metadata", ...event });
    const pr = event.payload.pull_request;
    const rows = await ctx.store.db.select().from(pullRequests);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ repository: event.payload.repository.full_name, pullRequest: pr.number, title: pr.title, author: pr.user.login, openedAt: new Date(pr.created_at) });
    expect(typeof pr.title).toBe("string");
  });
});
