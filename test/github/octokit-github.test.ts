import nock from "nock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GitHubApiError, LruConditionalCache, OctokitGitHub } from "../../src/github/index.js";
import { ABSENT_TTL_MS } from "../../src/github/octokit-github.js";
import type { Octokit } from "../../src/github/index.js";
import { API, BASE_SHA, OWNER, REPO, REPO_PATH, TestOctokit, api, nockBranchProtection, nockFile, nockListFiles, nockRulesetChecks, nockTeamMembers, requests } from "../helpers/github.js";

const repo = { owner: OWNER, repo: REPO };

function octokit(): Octokit {
  return new TestOctokit({ auth: { token: "ghs_test" } }) as Octokit;
}

beforeEach(() => requests.reset());
afterEach(() => {
  // Clean before asserting: a failed expectation must not leak interceptors into the next test.
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("OctokitGitHub pagination", () => {
  it("follows the Link header through every page of files", async () => {
    const files = Array.from({ length: 250 }, (_, i) => ({ filename: `src/f${i}.ts` }));
    nockListFiles(files);
    const listing = await new OctokitGitHub(octokit()).listPullRequestFiles(repo, 2);
    expect(listing.truncated).toBe(false);
    expect(listing.files).toHaveLength(250);
    expect(listing.files[249]?.filename).toBe("src/f249.ts");
    expect(requests.total).toBe(3);
  });

  it("reads every page of reviews and maps GitHub's fields", async () => {
    const path = `${REPO_PATH}/pulls/2/reviews`;
    const review = (login: string, state: string, type = "User") => ({ id: 1, user: { login, type }, state, commit_id: "a".repeat(40), submitted_at: "2026-01-01T00:00:00Z" });
    api()
      .get(path)
      .query({ per_page: "100" })
      .reply(200, [review("alice", "APPROVED")], { link: `<${API}${path}?per_page=100&page=2>; rel="next"` })
      .get(path)
      .query({ per_page: "100", page: "2" })
      .reply(200, [review("ci[bot]", "APPROVED", "Bot"), { id: 3, user: null, state: "SOMETHING_NEW", commit_id: "b".repeat(40), submitted_at: "" }]);
    const reviews = await new OctokitGitHub(octokit()).listReviews(repo, 2);
    expect(reviews.map((r) => [r.reviewer, r.reviewerType, r.state])).toEqual([
      ["alice", "User", "APPROVED"],
      ["ci[bot]", "Bot", "APPROVED"],
      // A deleted user and a state we do not know: never an approval.
      ["ghost", "User", "COMMENTED"],
    ]);
  });

  it("invariant 2: stops at GitHub's 3,000-file listing limit and reports the listing as truncated", async () => {
    const files = Array.from({ length: 3_000 }, (_, i) => ({ filename: `gen/${i}.txt` }));
    nockListFiles(files);
    // A 31st page would exist on GitHub's side only in a broken world; the adapter must not ask for it.
    const listing = await new OctokitGitHub(octokit()).listPullRequestFiles(repo, 2);
    expect(listing.truncated).toBe(true);
    expect(listing.files).toHaveLength(3_000);
    expect(requests.total).toBe(30);
  });

  it("honours a smaller limit and stops reading pages once it is reached", async () => {
    nockListFiles(Array.from({ length: 100 }, (_, i) => ({ filename: `a/${i}` })));
    const listing = await new OctokitGitHub(octokit()).listPullRequestFiles(repo, 2, { limit: 50 });
    expect(listing).toMatchObject({ truncated: true });
    expect(listing.files).toHaveLength(50);
  });
});

describe("OctokitGitHub conditional requests", () => {
  const path = `${REPO_PATH}/contents/${encodeURIComponent(".github/agent-gate.yml")}`;

  it("reuses the cached body when GitHub answers 304 to the stored ETag", async () => {
    const cache = new LruConditionalCache();
    api()
      .get(path)
      .query({ ref: "main" })
      .reply(200, "scope: all\n", { etag: 'W/"v1"', "content-type": "application/vnd.github.raw; charset=utf-8" });
    api().get(path).query({ ref: "main" }).matchHeader("if-none-match", 'W/"v1"').reply(304, "");
    const github = new OctokitGitHub(octokit(), { installationId: 1, cache });
    expect(await github.getFileText(repo, ".github/agent-gate.yml", "main")).toBe("scope: all\n");
    expect(await github.getFileText(repo, ".github/agent-gate.yml", "main")).toBe("scope: all\n");
    expect(requests.requests.map((r) => r.status)).toEqual([200, 304]);
    expect(requests.counted).toBe(1);
  });

  it("reads a file at a commit SHA once: a commit's tree never changes, so not even a 304 is asked again", async () => {
    const cache = new LruConditionalCache();
    api()
      .get(path)
      .query({ ref: BASE_SHA })
      .reply(200, "scope: all\n", { etag: 'W/"v1"', "content-type": "application/vnd.github.raw; charset=utf-8" });
    const github = new OctokitGitHub(octokit(), { installationId: 1, cache });
    expect(await github.getFileText(repo, ".github/agent-gate.yml", BASE_SHA)).toBe("scope: all\n");
    expect(await github.getFileText(repo, ".github/agent-gate.yml", BASE_SHA)).toBe("scope: all\n");
    expect(requests.requests.map((r) => r.status)).toEqual([200]);
    // Another installation asks for itself, unconditionally.
    api()
      .get(path)
      .query({ ref: BASE_SHA })
      .reply(function () {
        return [this.req.headers["if-none-match"] === undefined ? 200 : 500, "scope: agent-prs\n", { "content-type": "text/plain" }];
      });
    expect(await new OctokitGitHub(octokit(), { installationId: 2, cache }).getFileText(repo, ".github/agent-gate.yml", BASE_SHA)).toBe("scope: agent-prs\n");
    expect(requests.total).toBe(2);
  });

  it("never serves one installation's cached body to another", async () => {
    const cache = new LruConditionalCache();
    api().get(path).query({ ref: "main" }).reply(200, "a", { etag: '"x"', "content-type": "text/plain" });
    api()
      .get(path)
      .query({ ref: "main" })
      .reply(function () {
        // The second installation must ask without If-None-Match.
        return [this.req.headers["if-none-match"] === undefined ? 200 : 500, "b", { "content-type": "text/plain" }];
      });
    expect(await new OctokitGitHub(octokit(), { installationId: 1, cache }).getFileText(repo, ".github/agent-gate.yml", "main")).toBe("a");
    expect(await new OctokitGitHub(octokit(), { installationId: 2, cache }).getFileText(repo, ".github/agent-gate.yml", "main")).toBe("b");
  });

  it("answers null for a missing file and for a directory", async () => {
    api().get(path).query({ ref: "main" }).reply(404, { message: "Not Found" });
    api()
      .get(`${REPO_PATH}/contents/docs`)
      .query({ ref: "main" })
      .reply(200, [{ name: "a.md", type: "file" }]);
    const github = new OctokitGitHub(octokit());
    expect(await github.getFileText(repo, ".github/agent-gate.yml", "main")).toBeNull();
    expect(await github.getFileText(repo, "docs", "main")).toBeNull();
  });

  it("remembers a PR's files per head and base commit: the same pair costs no request, another head is listed", async () => {
    const cache = new LruConditionalCache();
    const head = "a".repeat(40);
    const base = "b".repeat(40);
    nockListFiles([{ filename: "src/a.ts" }]);
    const first = await new OctokitGitHub(octokit(), { installationId: 1, cache }).listPullRequestFiles(repo, 2, { headSha: head, baseSha: base });
    const again = await new OctokitGitHub(octokit(), { installationId: 1, cache }).listPullRequestFiles(repo, 2, { headSha: head, baseSha: base });
    expect(again).toEqual(first);
    expect(requests.total).toBe(1);
    // A caller editing the returned list does not edit the memo.
    again.files.push({ filename: "x", status: "added", additions: 0, deletions: 0, changes: 0 });
    nockListFiles([{ filename: "src/b.ts" }]);
    const pushed = await new OctokitGitHub(octokit(), { installationId: 1, cache }).listPullRequestFiles(repo, 2, { headSha: "c".repeat(40), baseSha: base });
    expect(pushed.files.map((f) => f.filename)).toEqual(["src/b.ts"]);
    expect((await new OctokitGitHub(octokit(), { installationId: 1, cache }).listPullRequestFiles(repo, 2, { headSha: head, baseSha: base })).files).toHaveLength(1);
    expect(requests.total).toBe(2);
  });

  it("never remembers a listing GitHub made at another commit (the head moved while we read)", async () => {
    const cache = new LruConditionalCache();
    const head = "a".repeat(40);
    const moved = "d".repeat(40);
    const entry = { sha: "1".repeat(40), filename: "src/a.ts", status: "modified", additions: 1, deletions: 0, changes: 1, patch: "@@ -1 +1 @@\n-a\n+b" };
    const listAt = (sha: string) => [{ ...entry, contents_url: `${API}${REPO_PATH}/contents/src/a.ts?ref=${sha}` }];
    api().get(`${REPO_PATH}/pulls/2/files`).query({ per_page: "100" }).reply(200, listAt(moved));
    api().get(`${REPO_PATH}/pulls/2/files`).query({ per_page: "100" }).reply(200, listAt(head));
    const github = () => new OctokitGitHub(octokit(), { installationId: 1, cache });
    await github().listPullRequestFiles(repo, 2, { headSha: head, baseSha: "b".repeat(40) });
    await github().listPullRequestFiles(repo, 2, { headSha: head, baseSha: "b".repeat(40) });
    await github().listPullRequestFiles(repo, 2, { headSha: head, baseSha: "b".repeat(40) });
    // The first listing named another commit and was not kept; the second was.
    expect(requests.total).toBe(2);
  });

  it("reads every page of a list conditionally: an unchanged list costs one 304 a page and nothing counted", async () => {
    const cache = new LruConditionalCache();
    const path = `/orgs/${OWNER}/teams/db/members`;
    const next = { link: `<${API}${path}?per_page=100&page=2>; rel="next"` };
    api().get(path).query({ per_page: "100" }).reply(200, [{ login: "a" }], { etag: '"p1"', ...next });
    api().get(path).query({ per_page: "100", page: "2" }).reply(200, [{ login: "b" }], { etag: '"p2"' });
    api().get(path).query({ per_page: "100" }).matchHeader("if-none-match", '"p1"').reply(304, "");
    api().get(path).query({ per_page: "100", page: "2" }).matchHeader("if-none-match", '"p2"').reply(304, "");
    // Page 2 changed: GitHub answers 200 to the old ETag and the new member counts.
    api().get(path).query({ per_page: "100" }).matchHeader("if-none-match", '"p1"').reply(304, "");
    api().get(path).query({ per_page: "100", page: "2" }).matchHeader("if-none-match", '"p2"').reply(200, [{ login: "c" }], { etag: '"p2b"' });
    const github = () => new OctokitGitHub(octokit(), { installationId: 1, cache });
    expect(await github().listTeamMembers(OWNER, "db")).toEqual(["a", "b"]);
    expect(await github().listTeamMembers(OWNER, "db")).toEqual(["a", "b"]);
    expect(await github().listTeamMembers(OWNER, "db")).toEqual(["a", "c"]);
    expect(requests.requests.map((r) => r.status)).toEqual([200, 200, 304, 304, 304, 200]);
    expect(requests.counted).toBe(3);
  });

  it("evicts the least recently used entry", () => {
    const cache = new LruConditionalCache(2);
    cache.set("a", { etag: "1", data: 1 });
    cache.set("b", { etag: "2", data: 2 });
    cache.get("a");
    cache.set("c", { etag: "3", data: 3 });
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.data).toBe(1);
    expect(cache.size).toBe(2);
  });
});

describe("OctokitGitHub remembers a missing file (a 404 has no ETag)", () => {
  it("at a commit for good, on a branch for ABSENT_TTL_MS, and per installation", async () => {
    const cache = new LruConditionalCache();
    const github = new OctokitGitHub(octokit(), { cache, installationId: 1 });
    nockFile(".github/agent-gate.yml", BASE_SHA, { text: null });
    nockFile(".github/agent-gate.yml", undefined, { text: null, repo: ".github" });
    expect(await github.getFileText(repo, ".github/agent-gate.yml", BASE_SHA)).toBeNull();
    expect(await github.getFileText({ owner: OWNER, repo: ".github" }, ".github/agent-gate.yml")).toBeNull();
    expect(requests.total).toBe(2);
    // Asked again: no request for either.
    expect(await github.getFileText(repo, ".github/agent-gate.yml", BASE_SHA)).toBeNull();
    expect(await github.getFileText({ owner: OWNER, repo: ".github" }, ".github/agent-gate.yml")).toBeNull();
    expect(requests.total).toBe(2);
    // Past the TTL the branch is asked again (someone may have added the file); the commit never is.
    const now = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(now + ABSENT_TTL_MS + 1);
    try {
      nockFile(".github/agent-gate.yml", undefined, { text: "scope: all\n", repo: ".github" });
      expect(await github.getFileText({ owner: OWNER, repo: ".github" }, ".github/agent-gate.yml")).toBe("scope: all\n");
      expect(await github.getFileText(repo, ".github/agent-gate.yml", BASE_SHA)).toBeNull();
      expect(requests.total).toBe(3);
    } finally {
      clock.mockRestore();
    }
    // Another installation shares nothing with this one.
    nockFile(".github/agent-gate.yml", BASE_SHA, { text: "scope: all\n" });
    expect(await new OctokitGitHub(octokit(), { cache, installationId: 2 }).getFileText(repo, ".github/agent-gate.yml", BASE_SHA)).toBe("scope: all\n");
  });
});

describe("OctokitGitHub errors", () => {
  it("wraps a 500 in GitHubApiError keeping status, request id and cause", async () => {
    api().get(`${REPO_PATH}/pulls/2`).reply(500, { message: "Server Error" }, { "x-github-request-id": "ABCD:1234" });
    const error = await new OctokitGitHub(octokit()).getPullRequest(repo, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    const e = error as GitHubApiError;
    expect(e.status).toBe(500);
    expect(e.requestId).toBe("ABCD:1234");
    expect(e.request).toBe(`GET ${API}${REPO_PATH}/pulls/2`);
    expect(e.message).toContain("Server Error");
    expect((e.cause as { status?: number }).status).toBe(500);
    expect(e.toLog()).toMatchObject({ status: 500, requestId: "ABCD:1234" });
  });

  it("keeps the cause of a network failure (Octokit reports it as a 500)", async () => {
    nock(API).get(`${REPO_PATH}/pulls/2/reviews`).query(true).replyWithError("socket hang up");
    const error = await new OctokitGitHub(octokit()).listReviews(repo, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(500);
    expect((error as GitHubApiError).message).toContain("socket hang up");
    expect((error as GitHubApiError).cause).toBeInstanceOf(Error);
  });

  it("rejects a pull request payload without a head SHA instead of guessing", async () => {
    api().get(`${REPO_PATH}/pulls/2`).reply(200, { number: 2, head: {}, base: { ref: "main" } });
    await expect(new OctokitGitHub(octokit()).getPullRequest(repo, 2)).rejects.toThrow(/head SHA/);
  });

  it("treats a label that is already gone and a team we cannot see as outcomes, not errors", async () => {
    api().delete(`${REPO_PATH}/issues/2/labels/${encodeURIComponent("agent-risk:low")}`).reply(404, { message: "Label does not exist" });
    nockTeamMembers("ghost-team", null);
    const github = new OctokitGitHub(octokit());
    await expect(github.removeLabel(repo, 2, "agent-risk:low")).resolves.toBeUndefined();
    expect(await github.listTeamMembers(OWNER, "ghost-team")).toEqual([]);
  });

  it("reads every page of a team's members and fails on a refused permission", async () => {
    const path = `/orgs/${OWNER}/teams/db/members`;
    api()
      .get(path)
      .query({ per_page: "100" })
      .reply(200, [{ login: "a" }], { link: `<${API}${path}?per_page=100&page=2>; rel="next"` })
      .get(path)
      .query({ per_page: "100", page: "2" })
      .reply(200, [{ login: "b" }]);
    api().get(`/orgs/${OWNER}/teams/secret/members`).query({ per_page: "100" }).reply(403, { message: "Resource not accessible by integration" });
    const github = new OctokitGitHub(octokit());
    expect(await github.listTeamMembers(OWNER, "db")).toEqual(["a", "b"]);
    await expect(github.listTeamMembers(OWNER, "secret")).rejects.toMatchObject({ name: "PermissionError", status: 403 });
  });

  it("throws GitHubApiError when a write is refused", async () => {
    api().post(`${REPO_PATH}/pulls/2/requested_reviewers`).reply(422, { message: "Reviews may only be requested from collaborators." });
    const error = await new OctokitGitHub(octokit()).requestReviewers(repo, 2, { users: ["x"], teams: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(422);
  });
});

describe("OctokitGitHub reads of branch requirements and writes", () => {
  it("reads required checks from rulesets and from the classic protection summary", async () => {
    nockRulesetChecks("main", [{ context: "Agent Gate: approval (main)", integrationId: 9 }, { context: "ci", integrationId: null }]);
    nockBranchProtection("main", [{ context: "lint", appId: null }]);
    const github = new OctokitGitHub(octokit());
    expect(await github.getRulesetRequiredChecks(repo, "main")).toEqual([
      { context: "Agent Gate: approval (main)", appId: 9, source: "ruleset" },
      { context: "ci", appId: null, source: "ruleset" },
    ]);
    expect(await github.getBranchProtectionRequiredChecks(repo, "main")).toEqual([{ context: "lint", appId: null, source: "branch-protection" }]);
  });

  it("cuts a check summary at GitHub's 65,535-character limit and says so", async () => {
    let sent: any;
    api()
      .post(`${REPO_PATH}/check-runs`, (body: any) => {
        sent = body;
        return true;
      })
      .reply(201, { id: 5, html_url: "https://github.com/x" });
    const ref = await new OctokitGitHub(octokit()).createCheckRun(repo, {
      name: "Agent Gate: approval (main)",
      headSha: "a".repeat(40),
      conclusion: "success",
      title: "ok",
      summary: "x".repeat(70_000),
    });
    expect(ref).toEqual({ id: 5, url: "https://github.com/x" });
    expect(sent.output.summary.length).toBe(65_535);
    expect(sent.output.summary).toMatch(/cut here/);
    expect(sent).toMatchObject({ status: "completed", conclusion: "success", head_sha: "a".repeat(40) });
  });

  it("reads GitHub's CODEOWNERS errors with their suggestion, and re-reads the same ref conditionally (304: the cached errors)", async () => {
    const cache = new LruConditionalCache();
    const error = { line: 7, column: 7, kind: "Invalid owner", source: "*.txt docs@", suggestion: null, message: "Invalid owner on line 7:\n\n  *.txt docs@\n        ^", path: ".github/CODEOWNERS" };
    const unknown = { ...error, line: 3, kind: "Unknown owner", suggestion: "make sure @octocat exists and has write access to the repository" };
    api().get(`${REPO_PATH}/codeowners/errors`).query({ ref: "abc" }).reply(200, { errors: [error, unknown] }, { etag: '"e1"' });
    api().get(`${REPO_PATH}/codeowners/errors`).query({ ref: "abc" }).matchHeader("if-none-match", '"e1"').reply(304, "");
    const github = new OctokitGitHub(octokit(), { installationId: 1, cache });
    const first = await github.getCodeownersErrors(repo, "abc");
    expect(first).toEqual([
      { line: 7, column: 7, kind: "Invalid owner", message: error.message, path: ".github/CODEOWNERS", suggestion: null },
      { line: 3, column: 7, kind: "Unknown owner", message: error.message, path: ".github/CODEOWNERS", suggestion: unknown.suggestion },
    ]);
    expect(await github.getCodeownersErrors(repo, "abc")).toEqual(first);
    expect(requests.requests.map((r) => r.status)).toEqual([200, 304]);
  });

  it("answers null when GitHub has no CODEOWNERS to validate", async () => {
    api().get(`${REPO_PATH}/codeowners/errors`).query({ ref: "abc" }).reply(404, { message: "Not Found" });
    expect(await new OctokitGitHub(octokit()).getCodeownersErrors(repo, "abc")).toBeNull();
  });
});
