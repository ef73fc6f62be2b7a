/**
 * A GitHubPort that answers from memory and records what was written: the services' tests drive the stages
 * through it without HTTP (the App's tests use nock, test/helpers/github.ts).
 */
import { GitHubApiError } from "../../src/github/errors.js";
import type { ArtifactInfo, CheckRunInput, FileListing, FileModeQuery, FileModes, GitHubCodeownersError, GitHubPort, LabelInfo, MergeQueueEntry, PullRequestInfo, RepoRef, RequiredCheck } from "../../src/github/port.js";
import type { ChangedFile, Review } from "../../src/policy/types.js";

export const repo: RepoRef = { owner: "acme", repo: "app" };
export const HEAD = "a".repeat(40);
export const BASE = "b".repeat(40);

export function pull(overrides: Partial<PullRequestInfo> = {}): PullRequestInfo {
  return {
    number: 7,
    state: "open",
    draft: false,
    merged: false,
    author: { login: "github-actions[bot]", type: "Bot" },
    headSha: HEAD,
    headRef: "agent/1",
    headRepo: "acme/app",
    baseRef: "main",
    baseSha: BASE,
    body: "",
    labels: [],
    requestedReviewers: [],
    requestedTeams: [],
    changedFiles: 1,
    ...overrides,
  };
}

/** A GitHub that answers from memory and records what was written. */
export class FakeGitHub implements GitHubPort {
  files: ChangedFile[] = [{ filename: "docs/a.md", status: "modified", additions: 1, deletions: 0, changes: 1, patch: "@@ -1 +1 @@\n-a\n+b" }];
  reviews: Review[] = [];
  current: PullRequestInfo = pull();
  texts = new Map<string, string>();
  checks: CheckRunInput[] = [];
  calls: string[] = [];
  failOn: string | null = null;
  /** Resolves when the test lets the file listing finish, to interleave two evaluations. */
  gate: Promise<void> | null = null;

  #call(name: string): void {
    this.calls.push(name);
    if (this.failOn === name) throw new GitHubApiError(`${name} answered 502`, { status: 502, requestId: "R1", request: name });
  }
  async getPullRequest(): Promise<PullRequestInfo> {
    this.#call("getPullRequest");
    return this.current;
  }
  async listPullRequestsForCommit(): Promise<number[]> {
    return [7];
  }
  async getFileText(_repo: RepoRef, path: string, ref?: string): Promise<string | null> {
    this.#call(`getFileText ${path}@${ref ?? "default"}`);
    return this.texts.get(`${path}@${ref ?? "default"}`) ?? null;
  }
  async listPullRequestFiles(): Promise<FileListing> {
    this.#call("listPullRequestFiles");
    if (this.gate) await this.gate;
    return { files: this.files, truncated: false };
  }
  commitLogins: string[] = [];
  async listPullRequestCommitLogins(): Promise<{ logins: string[]; truncated: boolean }> {
    this.#call("listPullRequestCommitLogins");
    return { logins: this.commitLogins, truncated: false };
  }
  /** Git modes by `base:path` / `head:path`; any other path is a plain file (100644). */
  modes = new Map<string, string | null>();
  async getFileModes(_repo: RepoRef, query: FileModeQuery): Promise<FileModes> {
    this.#call("getFileModes");
    const side = (name: "base" | "head", paths: readonly string[]) => new Map(paths.map((p) => [p, this.modes.has(`${name}:${p}`) ? this.modes.get(`${name}:${p}`)! : "100644"]));
    return { base: side("base", query.basePaths), head: side("head", query.headPaths) };
  }
  async listReviews(): Promise<Review[]> {
    this.#call("listReviews");
    return this.reviews;
  }
  async listTeamMembers(): Promise<string[]> {
    this.#call("listTeamMembers");
    return [];
  }
  async addLabels(_r: RepoRef, _n: number, labels: string[]): Promise<LabelInfo[]> {
    this.#call("addLabels");
    return labels.map((name) => ({ name, color: "0e8a16" }));
  }
  async removeLabel(): Promise<void> {
    this.#call("removeLabel");
  }
  async updateLabel(): Promise<void> {
    this.#call("updateLabel");
  }
  async createCheckRun(_r: RepoRef, input: CheckRunInput) {
    this.#call("createCheckRun");
    this.checks.push(input);
    return { id: this.checks.length, url: null };
  }
  async requestReviewers(): Promise<void> {
    this.#call("requestReviewers");
  }
  async getRulesetRequiredChecks(): Promise<RequiredCheck[]> {
    this.#call("getRulesetRequiredChecks");
    return [{ context: "Agent Gate: approval (main)", appId: 1, source: "ruleset" }];
  }
  async getBranchProtectionRequiredChecks(): Promise<RequiredCheck[] | null> {
    return null;
  }
  /** The base or head CODEOWNERS as GitHub validates it: no errors unless a test sets some. */
  codeownersErrors: GitHubCodeownersError[] | null = null;
  async getCodeownersErrors() {
    this.#call("getCodeownersErrors");
    return this.codeownersErrors;
  }
  async listRunArtifacts(): Promise<ArtifactInfo[]> {
    this.#call("listRunArtifacts");
    return [];
  }
  async downloadArtifact(): Promise<Uint8Array> {
    this.#call("downloadArtifact");
    return new Uint8Array(0);
  }
  async createRationaleCheck(_r: RepoRef, input: CheckRunInput) {
    this.#call("createRationaleCheck");
    this.checks.push(input);
    return { id: this.checks.length, url: null };
  }
  comments: Array<{ number: number; body: string }> = [];
  async createIssueComment(_r: RepoRef, number: number, body: string): Promise<void> {
    this.#call("createIssueComment");
    this.comments.push({ number, body });
  }
  mergeQueue: MergeQueueEntry[] = [];
  async listMergeQueue(): Promise<MergeQueueEntry[]> {
    this.#call("listMergeQueue");
    return this.mergeQueue;
  }
}

