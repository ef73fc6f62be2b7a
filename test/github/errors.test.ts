import { RequestError } from "@octokit/request-error";
import { describe, expect, it } from "vitest";
import { GitHubApiError, NotFoundError, PermissionError, RateLimitError, UnavailableError, ValidationError, toGitHubApiError } from "../../src/github/errors.js";

const request = { method: "GET" as const, url: "https://api.github.com/repos/o/r/pulls/1", headers: {} };
function octokitError(status: number, headers: Record<string, string> = {}, message = "Something"): RequestError {
  return new RequestError(message, status, { request, response: { status, url: request.url, headers: { "x-github-request-id": "ABC:1", ...headers }, data: { message } } });
}

describe("typed GitHub errors", () => {
  it.each([
    [404, {}, NotFoundError],
    [401, {}, PermissionError],
    [403, {}, PermissionError],
    [403, { "x-ratelimit-remaining": "0" }, RateLimitError],
    [429, { "retry-after": "30" }, RateLimitError],
    [422, {}, ValidationError],
    [502, {}, UnavailableError],
  ] as const)("an answer %i (%o) becomes its subclass, keeping status, request id, request and cause", (status, headers, type) => {
    const cause = octokitError(status, headers);
    const e = toGitHubApiError(cause, "fallback");
    expect(e).toBeInstanceOf(type);
    expect(e).toBeInstanceOf(GitHubApiError);
    expect(e).toMatchObject({ status, requestId: "ABC:1", request: `GET ${request.url}`, name: type.name });
    expect(e.cause).toBe(cause);
  });

  it("no response at all (a network failure) is UnavailableError without a status", () => {
    const e = toGitHubApiError(new TypeError("fetch failed"), "GET /repos/o/r");
    expect(e).toBeInstanceOf(UnavailableError);
    expect(e).toMatchObject({ status: null, request: "GET /repos/o/r" });
    expect(e.message).toContain("fetch failed");
  });

  it("an error already typed passes through unchanged", () => {
    const e = new NotFoundError("x", { status: 404, requestId: null, request: "GET /x" });
    expect(toGitHubApiError(e, "other")).toBe(e);
  });
});
