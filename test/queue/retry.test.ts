/**
 * How long GitHub asked us to wait, and how a failure is named: a database error is never blamed on GitHub.
 */
import { describe, expect, it } from "vitest";
import { GitHubApiError } from "../../src/github/errors.js";
import { retryAfterSeconds } from "../../src/github/retry-after.js";
import { couldNotEvaluateSummary } from "../../src/services/render.js";

const octokitError = (status: number, headers: Record<string, string>) => Object.assign(new Error("rate limited"), { status, response: { headers } });

describe("retryAfterSeconds", () => {
  it("reads Retry-After, also through a wrapping GitHubApiError", () => {
    expect(retryAfterSeconds(octokitError(429, { "retry-after": "17" }))).toBe(17);
    const wrapped = new GitHubApiError("GET /x answered 403", { status: 403, requestId: null, request: "GET /x", cause: octokitError(403, { "retry-after": "60" }) });
    expect(retryAfterSeconds(wrapped)).toBe(60);
  });

  it("waits until the primary limit resets when it is used up, capped at an hour", () => {
    const now = 1_700_000_000_000;
    expect(retryAfterSeconds(octokitError(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 90) }), now)).toBe(90);
    expect(retryAfterSeconds(octokitError(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 99_999) }), now)).toBe(3600);
  });

  it("is null when GitHub did not say, or the error is not GitHub's", () => {
    expect(retryAfterSeconds(octokitError(502, {}))).toBeNull();
    expect(retryAfterSeconds(octokitError(403, { "x-ratelimit-remaining": "12" }))).toBeNull();
    expect(retryAfterSeconds(new Error("connection refused"))).toBeNull();
  });
});

describe("the 'could not evaluate' check names the real cause", () => {
  it("a database error is Agent Gate's own failure, not GitHub's", () => {
    const { summary } = couldNotEvaluateSummary(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }), "d-1");
    expect(summary).toMatch(/failed on its own side \(not GitHub's\)/);
    expect(summary).not.toMatch(/from GitHub/);
    expect(summary).toMatch(/ECONNREFUSED/);
  });

  it("a GitHub error names GitHub, the request and the status", () => {
    const { title, summary } = couldNotEvaluateSummary(new GitHubApiError("GET /repos/a/b/pulls/1/files answered 502", { status: 502, requestId: "AB:CD", request: "GET /repos/a/b/pulls/1/files" }), "d-2");
    expect(title).toBe("Could not evaluate: GitHub answered 502");
    expect(summary).toMatch(/could not read everything it needs from GitHub/);
    expect(summary).toMatch(/AB:CD/);
  });
});
