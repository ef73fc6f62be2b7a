/**
 * Invariant 2 at the GitHub edge: the adapter reads file modes with GraphQL (`Commit.file(path:)`), in bounded
 * queries, remembers them per commit pair, and fails closed on any answer it cannot trust.
 */
import { readFileSync } from "node:fs";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FILE_MODES_PER_QUERY, modeQueryText, readCommitsAnswer, readModeAnswer } from "../../src/github/file-modes.js";
import { GitHubApiError, OctokitGitHub } from "../../src/github/index.js";
import type { Octokit } from "../../src/github/index.js";
import { BASE_SHA, HEAD_SHA, NEW_HEAD_SHA, OWNER, PR_NUMBER, REPO, TestOctokit, nockFileModes, nockPullCommits, requests } from "../helpers/github.js";

const repo = { owner: OWNER, repo: REPO };
const octokit = () => new TestOctokit({ auth: { token: "ghs_test" } }) as Octokit;
const shas = { baseSha: BASE_SHA, headSha: HEAD_SHA };

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("file modes through GraphQL (invariant 2)", () => {
  it("invariant 2: reads GitHub's documented answer shape: decimal modes as git's octal, null as no entry", () => {
    const text = modeQueryText(OWNER, REPO, { base: BASE_SHA, head: HEAD_SHA }, [
      { side: "base", path: "a.sh" },
      { side: "base", path: "link" },
      { side: "base", path: "vendor/lib" },
      { side: "head", path: "a.sh" },
      { side: "head", path: "link" },
      { side: "head", path: "vendor/lib" },
      { side: "head", path: "gone" },
    ]);
    const fixture: unknown = JSON.parse(readFileSync(new URL("../fixtures/github/graphql.file-modes.json", import.meta.url), "utf8"));
    const answer = readModeAnswer((fixture as { data: unknown }).data, text);
    expect(answer).toEqual({
      modes: [
        { side: "base", path: "a.sh", mode: "100644" },
        { side: "base", path: "link", mode: "120000" },
        { side: "base", path: "vendor/lib", mode: "160000" },
        { side: "head", path: "a.sh", mode: "100755" },
        { side: "head", path: "link", mode: "120000" },
        { side: "head", path: "vendor/lib", mode: "160000" },
        { side: "head", path: "gone", mode: null },
      ],
    });
    // Paths travel as variables: a hostile path cannot change the query.
    expect(text.query).not.toContain("a.sh");
    expect(text.variables.p0).toBe("a.sh");
  });

  it("invariant 2: one query for an ordinary pull request, the base side only for files that existed before", async () => {
    const { captured } = nockFileModes({ head: { "bin/run": "100755" } });
    const modes = await new OctokitGitHub(octokit()).getFileModes(repo, { ...shas, basePaths: ["bin/run"], headPaths: ["bin/run", "src/new.ts"] });
    expect(modes.head.get("bin/run")).toBe("100755");
    expect(modes.base.get("bin/run")).toBe("100644");
    expect(captured.asked).toEqual([{ base: ["bin/run"], head: ["bin/run", "src/new.ts"] }]);
    expect(captured.variables[0]).toMatchObject({ owner: OWNER, name: REPO, base: BASE_SHA, head: HEAD_SHA });
    expect(requests.total).toBe(1);
  });

  it("invariant 2: a 3,000-file pull request costs a bounded number of queries, and nothing on a later event", async () => {
    const paths = Array.from({ length: 3000 }, (_, i) => `src/f${i}.ts`);
    const queries = Math.ceil((2 * paths.length) / FILE_MODES_PER_QUERY);
    const { captured } = nockFileModes({}, { times: queries });
    const github = new OctokitGitHub(octokit());
    const first = await github.getFileModes(repo, { ...shas, basePaths: paths, headPaths: paths });
    expect(first.head.size).toBe(3000);
    expect(captured.asked).toHaveLength(queries);
    expect(queries).toBe(24);
    // The same commits again (a review event): remembered, no request.
    const again = await github.getFileModes(repo, { ...shas, basePaths: paths, headPaths: paths });
    expect(again.base.get("src/f2999.ts")).toBe("100644");
    expect(requests.total).toBe(queries);
  });

  it.each([
    ["a GraphQL error (the repository cannot be resolved)", { fail: "errors" as const }],
    ["a 502", { fail: 502 }],
  ])("invariant 2 / 5: %s is an error, never a file without a mode", async (_name, answer) => {
    nockFileModes(answer);
    await expect(new OctokitGitHub(octokit()).getFileModes(repo, { ...shas, basePaths: [], headPaths: ["a"] })).rejects.toBeInstanceOf(GitHubApiError);
  });

  it("invariant 2 / 5: an answer that leaves out a path, or a commit GitHub does not know, is an error", () => {
    const text = modeQueryText(OWNER, REPO, { base: BASE_SHA, head: HEAD_SHA }, [{ side: "head", path: "a" }, { side: "head", path: "b" }]);
    expect(readModeAnswer({ repository: { head: { p0: { mode: 33188 } } } }, text)).toEqual({ error: "no answer for b at the head commit" });
    expect(readModeAnswer({ repository: { head: null } }, text)).toEqual({ error: "the head commit is unknown to GitHub" });
    expect(readModeAnswer({ repository: null }, text)).toEqual({ error: "the repository is not visible" });
    expect(readModeAnswer({ repository: { head: { p0: { mode: "x" }, p1: null } } }, text)).toEqual({ error: "no mode for a at the head commit" });
  });

  it("issue 12: the first query can read the PR's commits too; the fixture's answer gives their linked accounts", () => {
    const text = modeQueryText(OWNER, REPO, { base: BASE_SHA, head: HEAD_SHA }, [{ side: "head", path: "a.sh" }], PR_NUMBER);
    expect(text.query).toContain("$number: Int!");
    expect(text.query).toContain(
      "pullRequest(number: $number) { headRefOid commits(first: 100) { totalCount nodes { commit { oid author { user { login } } committer { user { login } } } } } }",
    );
    // The number travels as a variable too.
    expect(text.variables.number).toBe(PR_NUMBER);
    expect(modeQueryText(OWNER, REPO, { base: BASE_SHA, head: HEAD_SHA }, [{ side: "head", path: "a.sh" }]).query).not.toContain("pullRequest");
    const fixture: unknown = JSON.parse(readFileSync(new URL("../fixtures/github/graphql.file-modes.json", import.meta.url), "utf8"));
    const data = (fixture as { data: unknown }).data;
    expect(readCommitsAnswer(data)).toEqual({ headRefOid: HEAD_SHA, lastOid: HEAD_SHA, logins: ["octocat", "web-flow", "github-actions[bot]"] });
    // Without the part, or with more commits than one page: nothing to stand in for REST.
    expect(readCommitsAnswer({ repository: { head: {} } })).toBeNull();
    expect(readCommitsAnswer({ repository: { pullRequest: { headRefOid: HEAD_SHA, commits: { totalCount: 101, nodes: [] } } } })).toBeNull();
  });

  it("issue 12: commits read with the modes are remembered for listPullRequestCommitLogins: no REST commits request", async () => {
    const { captured } = nockFileModes({ commits: [{ author: "agent-gate-runner[bot]" }, { author: "dba-alice", committer: null }] });
    const github = new OctokitGitHub(octokit());
    await github.getFileModes(repo, { ...shas, basePaths: [], headPaths: ["a"], pullRequest: PR_NUMBER });
    expect(captured.commitsOf).toEqual([PR_NUMBER]);
    expect(captured.variables[0]).toMatchObject({ number: PR_NUMBER });
    const commits = await github.listPullRequestCommitLogins(repo, PR_NUMBER, shas);
    expect(commits).toEqual({ logins: ["agent-gate-runner[bot]", "web-flow", "dba-alice"], truncated: false });
    expect(requests.total).toBe(1);
  });

  it("issue 12: only the first of several queries asks for the commits, and not when they are remembered already", async () => {
    const paths = Array.from({ length: FILE_MODES_PER_QUERY + 1 }, (_, i) => `src/f${i}.ts`);
    const { captured } = nockFileModes({}, { times: 2 });
    const github = new OctokitGitHub(octokit());
    await github.getFileModes(repo, { ...shas, basePaths: [], headPaths: paths, pullRequest: PR_NUMBER });
    expect(captured.commitsOf).toEqual([PR_NUMBER, undefined]);
    // Another head path on the same commits: the modes memo lacks it, the commits memo does not.
    const more = nockFileModes();
    await github.getFileModes(repo, { ...shas, basePaths: [], headPaths: ["src/other.ts"], pullRequest: PR_NUMBER });
    expect(more.captured.commitsOf).toEqual([undefined]);
  });

  it.each([
    ["the PR's head is another commit (a push in between)", { headRefOid: NEW_HEAD_SHA }],
    ["the listing ends at another commit", { commits: [{ sha: NEW_HEAD_SHA }] }],
    ["more than 100 commits (GraphQL lists one page; REST, with its 250 cap, decides)", { totalCount: 101 }],
  ])("issue 12: the commits are not remembered when %s: listPullRequestCommitLogins asks REST", async (_name, answer) => {
    nockFileModes(answer);
    const github = new OctokitGitHub(octokit());
    await github.getFileModes(repo, { ...shas, basePaths: [], headPaths: ["a"], pullRequest: PR_NUMBER });
    nockPullCommits([{ author: "dba-alice" }]);
    expect(await github.listPullRequestCommitLogins(repo, PR_NUMBER, shas)).toEqual({ logins: ["dba-alice", "web-flow"], truncated: false });
    expect(requests.total).toBe(2);
  });
});
