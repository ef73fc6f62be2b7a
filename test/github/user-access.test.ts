import nock from "nock";
import { describe, expect, it } from "vitest";
import { GitHubApiError, UnavailableError, UserTokenInvalidError } from "../../src/github/errors.js";
import { OctokitGitHub, standaloneOctokit } from "../../src/github/octokit-github.js";

/** The adapter as the compliance pages build it for a signed-in person. */
const asUser = (token: string) => new OctokitGitHub(standaloneOctokit({ token, userAgent: "agent-gate-test" }));

const API = "https://api.github.com";

describe("user access: GitHub as the signed-in person sees it", () => {
  it("reads the login with the user's token", async () => {
    nock(API, { reqheaders: { authorization: "token ghu_user" } }).get("/user").reply(200, { login: "octocat", id: 1 });
    await expect(asUser("ghu_user").userLogin()).resolves.toBe("octocat");
  });

  it("a 401 ends the session: UserTokenInvalidError, one of the adapter's typed errors, with GitHub's request id", async () => {
    nock(API).get("/user").reply(401, { message: "Bad credentials" }, { "x-github-request-id": "REQ:1" });
    const error: unknown = await asUser("ghu_revoked").userLogin().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserTokenInvalidError);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect(error).toMatchObject({ status: 401, requestId: "REQ:1" });
  });

  it("a server error is not taken for a revoked sign-in: UnavailableError", async () => {
    nock(API).get("/user/installations").query(true).reply(502, { message: "Bad gateway" });
    const error: unknown = await asUser("ghu_user").readableRepositories().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).not.toBeInstanceOf(UserTokenInvalidError);
  });

  it("lists the repositories of every installation the user can reach, across pages", async () => {
    nock(API)
      .get("/user/installations")
      .query({ per_page: 100 })
      .reply(200, { total_count: 2, installations: [{ id: 11 }, { id: 12 }] });
    nock(API)
      .get("/user/installations/11/repositories")
      .query({ per_page: 100 })
      .reply(200, { total_count: 2, repositories: [{ full_name: "o/a" }] }, { link: `<${API}/user/installations/11/repositories?per_page=100&page=2>; rel="next"` });
    nock(API)
      .get("/user/installations/11/repositories")
      .query({ per_page: 100, page: 2 })
      .reply(200, { total_count: 2, repositories: [{ full_name: "o/b" }] });
    nock(API)
      .get("/user/installations/12/repositories")
      .query({ per_page: 100 })
      .reply(200, { total_count: 1, repositories: [{ full_name: "p/c" }] });
    await expect(asUser("ghu_user").readableRepositories()).resolves.toEqual(["o/a", "o/b", "p/c"]);
  });
});
