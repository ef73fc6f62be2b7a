/** The production Octokit keeps Probot's retry and throttling plugins on, tuned for webhook work. */
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { AgentGateOctokit, githubApiBaseUrl } from "../../src/app/server.js";
import { API, captureLog } from "../helpers/github.js";

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

function octokit() {
  const { log } = captureLog();
  return new AgentGateOctokit({
    auth: { token: "ghs_test" },
    log,
    // 1 ms instead of 1 s per backoff step keeps the test fast; how many retries is the product's choice.
    retry: { retryAfterBaseValue: 1 },
    // What Probot passes on construction: log the secondary rate limit and give up. Ours must win.
    throttle: { retryAfterBaseValue: 1, onSecondaryRateLimit: () => false },
  });
}

describe("AgentGateOctokit", () => {
  it("retries a 5xx with backoff and then succeeds", async () => {
    nock(API).get("/repos/o/r").reply(502, { message: "Bad Gateway" }).get("/repos/o/r").reply(200, { name: "r" });
    const response = await octokit().request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
    expect(response.data).toMatchObject({ name: "r" });
  });

  it("gives up after two retries", async () => {
    nock(API).get("/repos/o/r").times(3).reply(500, { message: "boom" });
    await expect(octokit().request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" })).rejects.toMatchObject({ status: 500 });
  });

  it("retries once after a secondary rate limit instead of giving up", async () => {
    nock(API)
      .get("/repos/o/r")
      .reply(403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "1" })
      .get("/repos/o/r")
      .reply(200, { name: "r" });
    const response = await octokit().request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
    expect(response.status).toBe(200);
  });

  it("does not retry a second secondary rate limit in a row", async () => {
    nock(API)
      .get("/repos/o/r")
      .times(2)
      .reply(403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "1" });
    await expect(octokit().request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" })).rejects.toMatchObject({ status: 403 });
  });

  it("takes the API base URL from Probot's GHE settings", () => {
    expect(githubApiBaseUrl({ GHE_HOST: "github.example.com" })).toBe("https://github.example.com/api/v3");
    expect(githubApiBaseUrl({ GHE_HOST: "ghe.local", GHE_PROTOCOL: "http" })).toBe("http://ghe.local/api/v3");
    expect(githubApiBaseUrl({})).toBeUndefined();
  });
});
