/**
 * Invariant 2 at the GitHub edge: the adapter reads file modes with GraphQL (`Commit.file(path:)`), in bounded
 * queries, remembers them per commit pair, and fails closed on any answer it cannot trust.
 */
import { readFileSync } from "node:fs";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FILE_MODES_PER_QUERY, modeQueryText, readModeAnswer } from "../../src/github/file-modes.js";
import { GitHubApiError, OctokitGitHub } from "../../src/github/index.js";
import type { Octokit } from "../../src/github/index.js";
import { BASE_SHA, HEAD_SHA, OWNER, REPO, TestOctokit, nockFileModes, requests } from "../helpers/github.js";

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
});
