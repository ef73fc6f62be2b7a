/**
 * The one implementation of GitHubPort, over a Probot (Octokit) client: the evaluation's reads and writes and
 * telemetry's artifacts and rationale check alike.
 *
 * Everything GitHub returns is narrowed field by field here: a payload that lacks a field becomes a clear
 * GitHubApiError or a safe default, never an `undefined` deep inside the engine.
 */
import type { Endpoints, RequestParameters, ResponseHeaders } from "@octokit/types";
import { publishCheckRun } from "./check-runs.js";
import type { CheckRunPublishing } from "./check-runs.js";
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from "@octokit/oauth-methods";
import { ProbotOctokit } from "probot";
import type { ChangedFile, PullRequestCommits, Review, ReviewState } from "../policy/types.js";
import { batchAnnotations } from "../shared/annotations.js";
import type { CheckAnnotation } from "../shared/annotations.js";
import { CHECK_RUN_TEXT_LIMIT, MAX_LISTED_FILES } from "../shared/limits.js";
import type { ConditionalCache } from "./cache.js";
import { LruConditionalCache } from "./cache.js";
import { cancelBody, headerNumber, readCapped } from "./download.js";
import { modeLookups, modeQueryText, readCommitsAnswer, readModeAnswer } from "./file-modes.js";
import { ArtifactTooLargeError, GitHubApiError, NotFoundError, UserTokenInvalidError, ValidationError, errorFor, toGitHubApiError } from "./errors.js";
import type {
  Actor,
  ArtifactInfo,
  AppGitHub,
  CheckRunInput,
  CheckRunRef,
  DeliveryPage,
  FileListing,
  FileModeQuery,
  FileModes,
  GitHubCodeownersError,
  GitHubPort,
  HookDelivery,
  LabelInfo,
  MergeQueueEntry,
  OAuthClient,
  PullRequestInfo,
  RationaleCheckInput,
  RegisteredApp,
  RepoRef,
  RequiredCheck,
  ReviewerRequest,
  UserGitHub,
  UserToken,
} from "./port.js";

export type Octokit = InstanceType<typeof ProbotOctokit>;

export { MAX_LISTED_FILES, CHECK_RUN_TEXT_LIMIT as CHECK_TEXT_LIMIT };
const REVIEW_STATES = new Set<ReviewState>(["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]);

export interface OctokitGitHubOptions {
  /** Scopes the conditional cache: one installation never sees another's cached bodies. */
  installationId?: number | undefined;
  cache?: ConditionalCache | undefined;
  /** Publish check runs exactly once (src/github/check-runs.ts); without it, each decision POSTs a new one. */
  checkRuns?: CheckRunPublishing | undefined;
  /** Downloads an artifact's pre-signed blob URL (default: the global fetch); our token never goes there. */
  fetchBlob?: typeof fetch | undefined;
}

type Params = Record<string, unknown>;

/** The merge queue's entries with what a merge group check needs of each (GitHub has no REST route for it). */
const MERGE_QUEUE_QUERY = `query($owner: String!, $name: String!, $branch: String!) {
  repository(owner: $owner, name: $name) {
    mergeQueue(branch: $branch) {
      entries(first: 100) { nodes { position headCommit { oid } pullRequest { number headRefOid baseRefName } } }
    }
  }
}`;

/** A REST route as Octokit's types spell it (`GET /repos/{owner}/{repo}/pulls/{pull_number}`): typed params and data. */
type Route = keyof Endpoints;
type RouteParams<R extends Route> = Endpoints[R]["parameters"] & RequestParameters;
type RouteData<R extends Route> = Endpoints[R]["response"]["data"];

/** How long a file missing on a branch (not at a commit) is taken as missing without asking again. */
export const ABSENT_TTL_MS = 5 * 60_000;
const FULL_SHA = /^[0-9a-f]{40}$/i;

/** A remembered 404 of a file: `absentUntil` null = for good (at a commit), else until then (ms since epoch). */
interface Absence {
  absentUntil: number | null;
}

function isAbsence(data: unknown, now: number): boolean {
  if (typeof data !== "object" || data === null || !("absentUntil" in data)) return false;
  const until = (data as Absence).absentUntil;
  return until === null || until > now;
}

export class OctokitGitHub implements GitHubPort, AppGitHub, UserGitHub {
  readonly #octokit: Octokit;
  readonly #cache: ConditionalCache;
  readonly #scope: string;
  readonly #checkRuns: CheckRunPublishing | undefined;
  readonly #fetch: typeof fetch;

  constructor(octokit: Octokit, options: OctokitGitHubOptions = {}) {
    this.#octokit = octokit;
    this.#checkRuns = options.checkRuns;
    this.#cache = options.cache ?? new LruConditionalCache();
    this.#scope = options.installationId === undefined ? "app" : `installation:${options.installationId}`;
    this.#fetch = options.fetchBlob ?? ((input, init) => fetch(input, init));
  }

  async getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo> {
    const data = await this.#conditional("GET /repos/{owner}/{repo}/pulls/{pull_number}", { ...repo, pull_number: number });
    if (data === null) throw notFound(`GET /repos/${repo.owner}/${repo.repo}/pulls/${number}`);
    return toPullRequestInfo(data);
  }

  async listPullRequestsForCommit(repo: RepoRef, sha: string): Promise<number[]> {
    const numbers: number[] = [];
    for await (const page of this.#pages("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", { ...repo, commit_sha: sha, per_page: 100 })) {
      for (const item of page) {
        const pr = record(item);
        if (pr.state === "open" && typeof pr.number === "number") numbers.push(pr.number);
      }
    }
    return numbers;
  }

  /**
   * A file's text at `ref`, or null when there is none. At a commit SHA the answer never changes (a commit's tree
   * is fixed by its hash), so a file read once is served from the cache without asking again, not even a 304:
   * every pull request on one base commit shares its policy and CODEOWNERS. At a branch each read is conditional.
   * A 404 carries no ETag, so a repository without a policy file (or without CODEOWNERS in the first locations)
   * would pay a counted 404 on every event; the absence is remembered instead: for good at a commit SHA, for
   * ABSENT_TTL_MS at a branch (the organisation's `.github` default, which someone may add: it applies within that time).
   */
  async getFileText(repo: RepoRef, path: string, ref?: string): Promise<string | null> {
    const absentKey = `${this.#scope} absent ${repo.owner}/${repo.repo}:${path}@${ref ?? ""}`.toLowerCase();
    const absent = await this.#cache.get(absentKey);
    if (absent && isAbsence(absent.data, Date.now())) return null;
    const params = { ...repo, path, mediaType: { format: "raw" }, ...(ref === undefined ? {} : { ref }) };
    // With the raw media type GitHub answers the file's bytes, not the JSON the route's type describes.
    const atCommit = ref !== undefined && FULL_SHA.test(ref);
    const data: unknown = await this.#conditional("GET /repos/{owner}/{repo}/contents/{path}", params, { missingIsNull: true, immutable: atCommit });
    if (data === null) {
      const absence: Absence = { absentUntil: atCommit ? null : Date.now() + ABSENT_TTL_MS };
      await this.#cache.set(absentKey, { etag: "", data: absence });
      return null;
    }
    if (typeof data === "string") return data;
    if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
    if (data instanceof Uint8Array) return new TextDecoder().decode(data);
    // A directory listing (JSON array) or no body: not a file we can read.
    return null;
  }

  async listPullRequestFiles(repo: RepoRef, number: number, options: { limit?: number; headSha?: string; baseSha?: string } = {}): Promise<FileListing> {
    const limit = Math.min(options.limit ?? MAX_LISTED_FILES, MAX_LISTED_FILES);
    const memoKey =
      options.headSha && options.baseSha ? `${this.#scope} files ${repo.owner}/${repo.repo}#${number} ${options.baseSha}...${options.headSha} limit=${limit}` : null;
    if (memoKey) {
      const memo = await this.#cache.get(memoKey);
      if (memo && isFileListing(memo.data)) return { files: memo.data.files.map((f) => ({ ...f })), truncated: memo.data.truncated };
    }
    const files: ChangedFile[] = [];
    // Each file's contents_url names the commit GitHub listed; a listing of another head is never remembered.
    let ofHead = true;
    let truncated = false;
    let patchChars = 0;
    pages: for await (const page of this.#pages("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", { ...repo, pull_number: number, per_page: 100 })) {
      for (const item of page) {
        const file = toChangedFile(item);
        files.push(file);
        patchChars += file.patch?.length ?? 0;
        if (options.headSha && !listedAt(item, options.headSha)) ofHead = false;
        // At the limit we stop: GitHub would list no more anyway, and the PR cannot be fully evaluated.
        if (files.length >= limit) {
          truncated = true;
          break pages;
        }
      }
    }
    // Huge diffs are not kept: the memo is for the common PR, and the cache must stay small in memory.
    if (memoKey && ofHead && patchChars <= MAX_MEMO_PATCH_CHARS) {
      await this.#cache.set(memoKey, { etag: "", data: { files: files.map((f) => ({ ...f })), truncated } satisfies FileListing });
    }
    return { files, truncated };
  }

  async listPullRequestCommitLogins(repo: RepoRef, number: number, options: { headSha: string; baseSha: string }): Promise<PullRequestCommits> {
    const memoKey = this.#commitsMemoKey(repo, number, options);
    const memo = await this.#cache.get(memoKey);
    if (memo && isCommitLogins(memo.data)) return { logins: [...memo.data.logins], truncated: memo.data.truncated };
    const logins = new Set<string>();
    let count = 0;
    let lastSha = "";
    for await (const page of this.#pages("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", { ...repo, pull_number: number, per_page: 100 })) {
      for (const item of page) {
        const commit = record(item);
        count++;
        lastSha = str(commit.sha);
        for (const who of [commit.author, commit.committer]) {
          const login = record(who).login;
          if (typeof login === "string" && login !== "") logins.add(login);
        }
      }
    }
    const result: PullRequestCommits = { logins: [...logins], truncated: count >= MAX_LISTED_COMMITS };
    // The listing ends at the head when it is of this head: a push in between must not be remembered as this pair.
    if (lastSha === options.headSha) await this.#cache.set(memoKey, { etag: "", data: { logins: result.logins, truncated: result.truncated } });
    return result;
  }

  /** Where the commit logins of one pull request at one base and head are remembered (REST or the file-modes query). */
  #commitsMemoKey(repo: RepoRef, number: number, shas: { headSha: string; baseSha: string }): string {
    return `${this.#scope} commits ${repo.owner}/${repo.repo}#${number} ${shas.baseSha}...${shas.headSha}`;
  }

  async getFileModes(repo: RepoRef, query: FileModeQuery): Promise<FileModes> {
    const memoKey = `${this.#scope} modes ${repo.owner}/${repo.repo} ${query.baseSha}...${query.headSha}`;
    const memo = record((await this.#cache.get(memoKey))?.data);
    const known = { base: new Map(Object.entries(record(memo.base))), head: new Map(Object.entries(record(memo.head))) } as {
      base: Map<string, string | null>;
      head: Map<string, string | null>;
    };
    // Only what the memo lacks is asked: a later event on the same commits (a review) costs nothing.
    const missing: FileModeQuery = { ...query, basePaths: query.basePaths.filter((p) => !known.base.has(p)), headPaths: query.headPaths.filter((p) => !known.head.has(p)) };
    // The PR's commits ride along in the first query unless already remembered (issue 12: no REST commits request).
    const commitsKey = query.pullRequest === undefined ? null : this.#commitsMemoKey(repo, query.pullRequest, query);
    let commitsOf = commitsKey && !isCommitLogins((await this.#cache.get(commitsKey))?.data) ? query.pullRequest : undefined;
    for (const chunk of modeLookups(missing)) {
      const text = modeQueryText(repo.owner, repo.repo, { base: query.baseSha, head: query.headSha }, chunk, commitsOf);
      const request = `POST /graphql file modes at ${query.baseSha.slice(0, 7)}...${query.headSha.slice(0, 7)}`;
      const data = await this.#call(request, () => this.#octokit.graphql<unknown>(text.query, text.variables));
      const answer = readModeAnswer(data, text);
      if ("error" in answer) throw errorFor(`${request} failed: ${answer.error}`, { status: null, requestId: null, request });
      for (const m of answer.modes) known[m.side].set(m.path, m.mode);
      if (commitsKey && commitsOf !== undefined) await this.#rememberCommits(commitsKey, data, query.headSha);
      commitsOf = undefined;
    }
    if (missing.basePaths.length + missing.headPaths.length > 0) {
      await this.#cache.set(memoKey, { etag: "", data: { base: Object.fromEntries(known.base), head: Object.fromEntries(known.head) } });
    }
    return known;
  }

  /**
   * Remembers the commits a file-modes answer listed, as `listPullRequestCommitLogins` would: only a complete
   * listing (at most 100 commits; more are left to REST, with its 250 cap) that ends at the evaluated head.
   */
  async #rememberCommits(memoKey: string, data: unknown, headSha: string): Promise<void> {
    const commits = readCommitsAnswer(data);
    if (!commits || commits.headRefOid !== headSha || commits.lastOid !== headSha) return;
    await this.#cache.set(memoKey, { etag: "", data: { logins: commits.logins, truncated: false } satisfies PullRequestCommits });
  }

  async listReviews(repo: RepoRef, number: number): Promise<Review[]> {
    const reviews: Review[] = [];
    for await (const page of this.#conditionalPages("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { ...repo, pull_number: number, per_page: 100 })) {
      for (const item of page) reviews.push(toReview(item));
    }
    return reviews;
  }

  async listTeamMembers(org: string, teamSlug: string): Promise<string[]> {
    const members: string[] = [];
    try {
      for await (const page of this.#conditionalPages("GET /orgs/{org}/teams/{team_slug}/members", { org, team_slug: teamSlug, per_page: 100 })) {
        for (const item of page) {
          const login = record(item).login;
          if (typeof login === "string") members.push(login);
        }
      }
    } catch (error) {
      // A team this installation cannot see has no members it could count.
      if (error instanceof NotFoundError) return [];
      throw error;
    }
    return members;
  }

  async addLabels(repo: RepoRef, number: number, labels: string[]): Promise<LabelInfo[]> {
    const response = await this.#call(`POST /repos/${repo.owner}/${repo.repo}/issues/${number}/labels`, () =>
      this.#octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", { ...repo, issue_number: number, labels }),
    );
    return array(response.data).map(toLabel);
  }

  async removeLabel(repo: RepoRef, number: number, label: string): Promise<void> {
    try {
      await this.#octokit.request("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", { ...repo, issue_number: number, name: label });
    } catch (error) {
      const e = toGitHubApiError(error, `DELETE /repos/${repo.owner}/${repo.repo}/issues/${number}/labels/${label}`);
      if (e instanceof NotFoundError) return; // already gone: the outcome we wanted
      throw e;
    }
  }

  async updateLabel(repo: RepoRef, name: string, update: { color: string; description?: string | undefined }): Promise<void> {
    await this.#call(`PATCH /repos/${repo.owner}/${repo.repo}/labels/${name}`, () =>
      this.#octokit.request("PATCH /repos/{owner}/{repo}/labels/{name}", {
        ...repo,
        name,
        color: update.color,
        ...(update.description === undefined ? {} : { description: update.description }),
      }),
    );
  }

  async createCheckRun(repo: RepoRef, input: CheckRunInput): Promise<CheckRunRef> {
    const annotations = (input.annotations ?? []).map(toApiAnnotation);
    if (this.#checkRuns) return publishCheckRun(this.#octokit, completedCheckRun(repo, input), this.#checkRuns, annotations);
    const [first = [], ...rest] = batchAnnotations(annotations);
    const response = await this.#call(`POST /repos/${repo.owner}/${repo.repo}/check-runs`, () =>
      this.#octokit.request("POST /repos/{owner}/{repo}/check-runs", completedCheckRun(repo, input, first)),
    );
    const data = record(response.data);
    const ref = { id: typeof data.id === "number" ? data.id : 0, url: typeof data.html_url === "string" ? data.html_url : null };
    for (const batch of rest) {
      await this.#call(`PATCH /repos/${repo.owner}/${repo.repo}/check-runs/${ref.id}`, () =>
        this.#octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { ...repo, check_run_id: ref.id, output: { title: clamp(input.title, 1_000), summary: clamp(input.summary, CHECK_RUN_TEXT_LIMIT), annotations: batch } }),
      );
    }
    return ref;
  }

  async requestReviewers(repo: RepoRef, number: number, request: ReviewerRequest): Promise<void> {
    await this.#call(`POST /repos/${repo.owner}/${repo.repo}/pulls/${number}/requested_reviewers`, () =>
      this.#octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", {
        ...repo,
        pull_number: number,
        reviewers: request.users,
        team_reviewers: request.teams,
      }),
    );
  }

  async getRulesetRequiredChecks(repo: RepoRef, branch: string): Promise<RequiredCheck[]> {
    const data = await this.#conditional("GET /repos/{owner}/{repo}/rules/branches/{branch}", { ...repo, branch, per_page: 100 }, { missingIsNull: true });
    const checks: RequiredCheck[] = [];
    for (const rule of array(data)) {
      const r = record(rule);
      if (r.type !== "required_status_checks") continue;
      for (const check of array(record(r.parameters).required_status_checks)) {
        const c = record(check);
        if (typeof c.context !== "string") continue;
        checks.push({ context: c.context, appId: typeof c.integration_id === "number" ? c.integration_id : null, source: "ruleset" });
      }
    }
    return checks;
  }

  async getBranchProtectionRequiredChecks(repo: RepoRef, branch: string): Promise<RequiredCheck[] | null> {
    const data = await this.#conditional("GET /repos/{owner}/{repo}/branches/{branch}", { ...repo, branch }, { missingIsNull: true });
    if (data === null) return null;
    const required = record(record(record(data).protection).required_status_checks);
    const checks: RequiredCheck[] = [];
    const seen = new Set<string>();
    for (const check of array(required.checks)) {
      const c = record(check);
      if (typeof c.context !== "string") continue;
      seen.add(c.context);
      checks.push({ context: c.context, appId: typeof c.app_id === "number" ? c.app_id : null, source: "branch-protection" });
    }
    // `contexts` is the older list; entries not already in `checks` carry no source restriction we can see.
    for (const context of array(required.contexts)) {
      if (typeof context === "string" && !seen.has(context)) checks.push({ context, appId: null, source: "branch-protection" });
    }
    return checks;
  }

  async getCodeownersErrors(repo: RepoRef, ref: string): Promise<GitHubCodeownersError[] | null> {
    try {
      const data = await this.#conditional("GET /repos/{owner}/{repo}/codeowners/errors", { ...repo, ref }, { missingIsNull: true });
      if (data === null) return null;
      return array(record(data).errors).map((item) => {
        const e = record(item);
        return {
          line: typeof e.line === "number" ? e.line : 0,
          column: typeof e.column === "number" ? e.column : 0,
          kind: typeof e.kind === "string" ? e.kind : "Error",
          message: typeof e.message === "string" ? e.message : String(e.kind ?? "invalid line"),
          path: typeof e.path === "string" ? e.path : "CODEOWNERS",
          suggestion: typeof e.suggestion === "string" ? e.suggestion : null,
        };
      });
    } catch (error) {
      const e = toGitHubApiError(error, `GET /repos/${repo.owner}/${repo.repo}/codeowners/errors`);
      // No CODEOWNERS file (404), or GitHub cannot validate it (422): nothing to report.
      if (e instanceof NotFoundError || e instanceof ValidationError) return null;
      throw e;
    }
  }

  async listMergeQueue(repo: RepoRef, branch: string): Promise<MergeQueueEntry[]> {
    const data = await this.#call(`POST /graphql mergeQueue(${branch})`, () =>
      this.#octokit.graphql<unknown>(MERGE_QUEUE_QUERY, { owner: repo.owner, name: repo.repo, branch }),
    );
    const queue = record(record(record(data).repository).mergeQueue);
    const nodes = record(queue.entries).nodes;
    return (Array.isArray(nodes) ? nodes : []).flatMap((node): MergeQueueEntry[] => {
      const entry = record(node);
      if (typeof entry.position !== "number") return [];
      const head = record(entry.headCommit).oid;
      const pr = record(entry.pullRequest);
      const pullRequest =
        typeof pr.number === "number" && typeof pr.headRefOid === "string" && typeof pr.baseRefName === "string"
          ? { number: pr.number, headSha: pr.headRefOid, baseRef: pr.baseRefName }
          : null;
      return [{ position: entry.position, headSha: typeof head === "string" ? head : null, pullRequest }];
    }).sort((a, b) => a.position - b.position);
  }

  async createIssueComment(repo: RepoRef, number: number, body: string): Promise<void> {
    await this.#call(`POST /repos/${repo.owner}/${repo.repo}/issues/${number}/comments`, () =>
      this.#octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...repo, issue_number: number, body: clamp(body, 65_536) }),
    );
  }

  async listHookDeliveries(cursor: string | null, perPage: number): Promise<DeliveryPage> {
    const response = await this.#call("GET /app/hook/deliveries", () =>
      this.#octokit.request("GET /app/hook/deliveries", { per_page: perPage, ...(cursor ? { cursor } : {}) }),
    );
    return { deliveries: response.data.map(toHookDelivery), next: nextCursor(response.headers.link) };
  }

  async redeliverHookDelivery(id: number): Promise<void> {
    await this.#call(`POST /app/hook/deliveries/${id}/attempts`, () => this.#octokit.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: id }));
  }

  async installationOf(repo: RepoRef): Promise<number | null> {
    try {
      const response = await this.#call(`GET /repos/${repo.owner}/${repo.repo}/installation`, () => this.#octokit.request("GET /repos/{owner}/{repo}/installation", { ...repo }));
      return response.data.id;
    } catch (error) {
      if (error instanceof NotFoundError) return null; // not installed there
      throw error;
    }
  }

  async convertAppManifest(code: string): Promise<RegisteredApp> {
    const { data } = await this.#call("POST /app-manifests/{code}/conversions", () => this.#octokit.request("POST /app-manifests/{code}/conversions", { code }));
    const { id, html_url: htmlUrl, client_id: clientId, client_secret: clientSecret, webhook_secret: webhookSecret, pem } = data;
    return { id, slug: data.slug ?? String(id), htmlUrl, clientId, clientSecret, webhookSecret, pem };
  }

  oauthAuthorizationUrl(client: OAuthClient, redirectUri: string, state: string): string {
    return getWebFlowAuthorizationUrl({ clientType: "github-app", clientId: client.clientId, redirectUrl: redirectUri, state, request: this.#octokit.request }).url;
  }

  async exchangeOAuthCode(client: OAuthClient, code: string, redirectUri: string): Promise<UserToken> {
    const { clientId, clientSecret } = client;
    const { authentication } = await this.#call("POST /login/oauth/access_token", () =>
      exchangeWebFlowCode({ clientType: "github-app", clientId, clientSecret, code, redirectUrl: redirectUri, request: this.#octokit.request }),
    );
    const expiresAt = "expiresAt" in authentication && typeof authentication.expiresAt === "string" ? new Date(authentication.expiresAt) : null;
    return { token: authentication.token, expiresAt };
  }

  async userLogin(): Promise<string> {
    const { data } = await this.#asUser("GET /user", () => this.#octokit.request("GET /user"));
    return data.login;
  }

  async readableRepositories(): Promise<string[]> {
    const installations = await this.#asUser("GET /user/installations", () => this.#octokit.paginate("GET /user/installations", { per_page: 100 }));
    const names: string[] = [];
    for (const installation of installations) {
      const route = "GET /user/installations/{installation_id}/repositories";
      const repos = await this.#asUser(`GET /user/installations/${installation.id}/repositories`, () =>
        this.#octokit.paginate(route, { installation_id: installation.id, per_page: 100 }),
      );
      for (const repo of repos) names.push(repo.full_name);
    }
    return names;
  }

  async listRunArtifacts(repo: RepoRef, runId: number): Promise<ArtifactInfo[]> {
    const request = `GET /repos/${repo.owner}/${repo.repo}/actions/runs/${runId}/artifacts`;
    try {
      const response = await this.#octokit.request("GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", { ...repo, run_id: runId, per_page: 100 });
      const data = record(response.data);
      return array(data.artifacts).map((item) => {
        const a = record(item);
        const run = record(a.workflow_run);
        return {
          id: typeof a.id === "number" ? a.id : 0,
          name: typeof a.name === "string" ? a.name : "",
          sizeInBytes: typeof a.size_in_bytes === "number" ? a.size_in_bytes : 0,
          expired: a.expired === true,
          workflowRunId: typeof run.id === "number" ? run.id : null,
        };
      });
    } catch (error) {
      throw toGitHubApiError(error, request);
    }
  }

  async downloadArtifact(repo: RepoRef, artifactId: number, maxBytes: number): Promise<Uint8Array> {
    const request = `GET /repos/${repo.owner}/${repo.repo}/actions/artifacts/${artifactId}/zip`;
    let location: string | null = null;
    try {
      // Manual redirect: the blob host must not receive our installation token, and we want its size before reading.
      const response = await this.#octokit.request("GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}", {
        ...repo,
        artifact_id: artifactId,
        archive_format: "zip",
        request: { redirect: "manual", parseSuccessResponseBody: false },
      });
      const header = response.headers.location;
      // Typed as 302 by Octokit's route types; a server may answer 200 with the zip or anything else.
      const status: number = response.status;
      if (status >= 300 && status < 400 && typeof header === "string") {
        location = header;
        await cancelBody(response.data);
      } else if (status === 200) {
        // Some servers (or proxies) answer with the zip itself.
        return await readCapped(response.data, headerNumber(response.headers["content-length"]), maxBytes);
      } else {
        await cancelBody(response.data);
        throw errorFor(`${request} answered ${status} without a download location`, { status, requestId: null, request });
      }
    } catch (error) {
      if (error instanceof ArtifactTooLargeError) throw error;
      throw toGitHubApiError(error, request);
    }

    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new GitHubApiError(`${request} redirected to an invalid URL`, { status: 302, requestId: null, request });
    }
    if (url.protocol !== "https:") throw new GitHubApiError(`${request} redirected to a non-https URL`, { status: 302, requestId: null, request });
    const blobRequest = `GET ${url.origin}${url.pathname}`;
    let blob: Response;
    try {
      blob = await this.#fetch(url, { redirect: "follow" });
    } catch (error) {
      throw errorFor(`${blobRequest} failed: ${error instanceof Error ? error.message : String(error)}`, { status: null, requestId: null, request: blobRequest, cause: error });
    }
    if (!blob.ok) {
      await blob.body?.cancel().catch(() => undefined);
      throw errorFor(`${blobRequest} answered ${blob.status}`, { status: blob.status, requestId: null, request: blobRequest });
    }
    return readCapped(blob.body, headerNumber(blob.headers.get("content-length")), maxBytes);
  }

  async createRationaleCheck(repo: RepoRef, input: RationaleCheckInput, options: { lookFirst?: boolean | undefined } = {}): Promise<CheckRunRef> {
    // Not remembered per head and name as the approval check is: each workflow run has a rationale check of its own.
    return publishCheckRun(this.#octokit, completedCheckRun(repo, input), { appId: this.#checkRuns?.appId, lookFirst: options.lookFirst }, input.annotations.map(toApiAnnotation));
  }

  /**
   * A GET with `If-None-Match` when we hold an ETag; a 304 returns the cached body.
   * @throws {GitHubApiError}
   */
  async #conditional<R extends Route>(route: R, params: RouteParams<R>, options: { missingIsNull?: boolean; immutable?: boolean } = {}): Promise<RouteData<R> | null> {
    const endpoint = this.#octokit.request.endpoint(route, params);
    const key = `${this.#scope} ${endpoint.method} ${endpoint.url} ${String(endpoint.headers.accept ?? "")}`;
    const cached = await this.#cache.get(key);
    // `immutable`: the caller knows the answer cannot change (a file at a commit SHA), so the stored body is it.
    if (cached && options.immutable) return cached.data;
    try {
      const response = await this.#request(route, params, cached ? { "if-none-match": cached.etag } : {});
      const data = response.data;
      const etag = response.headers.etag;
      if (typeof etag === "string" && etag.length > 0) await this.#cache.set(key, { etag, data });
      return data;
    } catch (error) {
      if (statusOf(error) === 304 && cached) return cached.data;
      const e = toGitHubApiError(error, `${endpoint.method} ${endpoint.url}`);
      if (e instanceof NotFoundError && options.missingIsNull) return null;
      throw e;
    }
  }

  /**
   * Every page of a list endpoint, each a conditional request: the cache keeps a page's items and the URL of the
   * next page, so an unchanged list costs one 304 a page and nothing against the rate limit.
   * @throws {GitHubApiError}
   */
  async *#conditionalPages<R extends Route>(route: R, params: RouteParams<R>): AsyncGenerator<unknown[]> {
    let url: string | null = this.#octokit.request.endpoint(route, params).url;
    while (url !== null) {
      const key: string = `${this.#scope} GET ${url} pages`;
      const cached = await this.#cache.get(key);
      const page = cached && isCachedPage(cached.data) ? cached.data : undefined;
      let next: CachedPage;
      try {
        const response = await this.#octokit.request(`GET ${url}`, { headers: page && cached ? { "if-none-match": cached.etag } : {} });
        next = { items: array(response.data), next: nextLink(response.headers.link) };
        const etag = response.headers.etag;
        if (typeof etag === "string" && etag.length > 0) await this.#cache.set(key, { etag, data: next });
      } catch (error) {
        if (statusOf(error) !== 304 || !page) throw toGitHubApiError(error, `GET ${url}`);
        next = page;
      }
      yield next.items;
      url = next.next;
    }
  }

  /** Every page of a list endpoint, following GitHub's `Link` header. */
  async *#pages(route: string, params: Params): AsyncGenerator<unknown[]> {
    try {
      for await (const response of this.#octokit.paginate.iterator(route, params)) {
        yield array(response.data);
      }
    } catch (error) {
      throw toGitHubApiError(error, `GET ${route}`);
    }
  }

  /**
   * `octokit.request` for one route literal, typed by it. Octokit's own signature is conditional on the route,
   * which TypeScript cannot resolve for a generic one; this is the one place that says they agree.
   */
  #request<R extends Route>(route: R, params: RouteParams<R>, headers: Record<string, string>): Promise<{ data: RouteData<R>; headers: ResponseHeaders }> {
    const request = this.#octokit.request as (route: R, params: RequestParameters) => Promise<{ data: RouteData<R>; headers: ResponseHeaders }>;
    return request(route, { ...(params as RequestParameters), headers });
  }

  /** As `#call`, for a user's token: a 401 means the sign-in is over (UserTokenInvalidError). */
  async #asUser<T>(request: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#call(request, fn);
    } catch (error) {
      if (!(error instanceof GitHubApiError) || error.status !== 401) throw error;
      const { status, requestId } = error;
      throw new UserTokenInvalidError("GitHub no longer accepts this sign-in (token expired or revoked)", { status, requestId, request: error.request, cause: error.cause });
    }
  }

  async #call<T>(request: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toGitHubApiError(error, request);
    }
  }
}

/** The `cursor` of the `rel="next"` link of a `Link` header (GitHub's delivery log pages by cursor), or null. */
export function nextCursor(link: string | undefined): string | null {
  const next = nextLink(link);
  if (next === null) return null;
  try {
    return new URL(next).searchParams.get("cursor");
  } catch {
    return null;
  }
}

type HookDeliveryItem = Endpoints["GET /app/hook/deliveries"]["response"]["data"][number];

function toHookDelivery(item: HookDeliveryItem): HookDelivery {
  return {
    id: Number(item.id),
    guid: item.guid,
    deliveredAt: new Date(item.delivered_at),
    redelivery: item.redelivery,
    // GitHub sends 0 when it could not connect; a fake may omit it.
    statusCode: typeof item.status_code === "number" ? item.status_code : 0,
    status: typeof item.status === "string" ? item.status : "",
    event: item.event,
    action: item.action ?? null,
    installationId: item.installation_id === null || item.installation_id === undefined ? null : Number(item.installation_id),
  };
}

/**
 * An Octokit for GitHub outside any installation (UserGitHub): with a user's token, or none. Probot's client, as
 * everywhere else, without retry and throttling: a person is waiting on the page, and a failure shows at once.
 */
export function standaloneOctokit(options: { baseUrl?: string | undefined; token?: string | undefined; userAgent: string }): Octokit {
  return new ProbotOctokit({
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.token ? { auth: { token: options.token } } : {}),
    userAgent: options.userAgent,
    retry: { enabled: false },
    throttle: { enabled: false },
  });
}

/** GitHub lists at most this many commits of a pull request. */
const MAX_LISTED_COMMITS = 250;

function isCommitLogins(value: unknown): value is PullRequestCommits {
  const v = record(value);
  return Array.isArray(v.logins) && typeof v.truncated === "boolean";
}

/** A listing whose patches exceed this many characters is not remembered (see listPullRequestFiles). */
const MAX_MEMO_PATCH_CHARS = 512 * 1024;

interface CachedPage {
  items: unknown[];
  next: string | null;
}

function isCachedPage(value: unknown): value is CachedPage {
  const v = record(value);
  return Array.isArray(v.items) && (v.next === null || typeof v.next === "string");
}

function isFileListing(value: unknown): value is FileListing {
  const v = record(value);
  return Array.isArray(v.files) && typeof v.truncated === "boolean";
}

function nextLink(link: unknown): string | null {
  if (typeof link !== "string") return null;
  return /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] ?? null;
}

/**
 * Whether GitHub listed this file at `headSha`: its contents_url carries `?ref=<commit>`. A removed file has no
 * content at the head, and a fake without the URL says nothing; neither counts against the listing.
 */
function listedAt(item: unknown, headSha: string): boolean {
  const f = record(item);
  if (f.status === "removed" || typeof f.contents_url !== "string" || f.contents_url === "") return true;
  const ref = /[?&]ref=([0-9a-f]{40})\b/i.exec(f.contents_url)?.[1];
  return ref === undefined || ref.toLowerCase() === headSha.toLowerCase();
}

function statusOf(error: unknown): number | null {
  if (typeof error !== "object" || error === null) return null;
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" ? status : null;
}

function notFound(request: string): NotFoundError {
  return new NotFoundError(`${request} answered 404: Not Found`, { status: 404, requestId: null, request });
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** An annotation as the check-runs API takes it (no undefined fields). */
export function toApiAnnotation(a: CheckAnnotation) {
  return {
    path: a.path,
    start_line: a.start_line,
    end_line: a.end_line,
    annotation_level: a.annotation_level,
    message: a.message,
    ...(a.title === undefined ? {} : { title: a.title }),
  };
}

/**
 * The body of `POST /check-runs` for a completed check run: the approval check's and the rationale check's
 * (which adds its first 50 annotations). Texts are clamped to GitHub's limits.
 */
export function completedCheckRun<A extends object = never>(repo: RepoRef, input: CheckRunInput, annotations: readonly A[] = []) {
  return {
    ...repo,
    name: input.name,
    head_sha: input.headSha,
    status: "completed" as const,
    conclusion: input.conclusion,
    completed_at: new Date().toISOString(),
    ...(input.externalId === undefined ? {} : { external_id: input.externalId }),
    ...(input.detailsUrl === undefined ? {} : { details_url: input.detailsUrl }),
    output: {
      title: clamp(input.title, 1_000),
      summary: clamp(input.summary, CHECK_RUN_TEXT_LIMIT),
      ...(input.text === undefined ? {} : { text: clamp(input.text, CHECK_RUN_TEXT_LIMIT) }),
      ...(annotations.length === 0 ? {} : { annotations: [...annotations] }),
    },
  };
}

function clamp(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = "\n\n… cut here: GitHub shows at most 65,535 characters.";
  return text.slice(0, limit - note.length) + note;
}

function toActor(value: unknown): Actor {
  const user = record(value);
  const type = user.type === "Bot" || user.type === "Organization" ? user.type : "User";
  // A deleted account shows up as null; GitHub renders it as "ghost".
  return { login: str(user.login, "ghost"), type };
}

function toLabel(value: unknown): LabelInfo {
  const label = record(value);
  return { name: str(label.name), color: str(label.color).toLowerCase() };
}

export function toPullRequestInfo(value: unknown): PullRequestInfo {
  const pr = record(value);
  const head = record(pr.head);
  const base = record(pr.base);
  const headSha = str(head.sha);
  const baseRef = str(base.ref);
  if (typeof pr.number !== "number" || !/^[0-9a-f]{40}$/i.test(headSha) || baseRef === "") {
    throw new GitHubApiError("pull request payload lacks number, head SHA or base branch", { status: null, requestId: null, request: "pull request" });
  }
  return {
    number: pr.number,
    state: pr.state === "closed" ? "closed" : "open",
    draft: pr.draft === true,
    merged: pr.merged === true,
    author: toActor(pr.user),
    headSha,
    headRef: str(head.ref),
    headRepo: typeof record(head.repo).full_name === "string" ? str(record(head.repo).full_name) : null,
    baseRef,
    baseSha: str(base.sha),
    body: str(pr.body),
    labels: array(pr.labels).map(toLabel),
    requestedReviewers: array(pr.requested_reviewers).map((u) => str(record(u).login)).filter((l) => l !== ""),
    requestedTeams: array(pr.requested_teams).map((t) => str(record(t).slug)).filter((s) => s !== ""),
    changedFiles: typeof pr.changed_files === "number" ? pr.changed_files : undefined,
    updatedAt: typeof pr.updated_at === "string" ? pr.updated_at : undefined,
    title: typeof pr.title === "string" ? pr.title : undefined,
    createdAt: typeof pr.created_at === "string" ? pr.created_at : undefined,
  };
}

function toChangedFile(value: unknown): ChangedFile {
  const f = record(value);
  return {
    filename: str(f.filename),
    status: str(f.status, "unknown"),
    previous_filename: typeof f.previous_filename === "string" ? f.previous_filename : undefined,
    additions: num(f.additions),
    deletions: num(f.deletions),
    changes: num(f.changes),
    patch: typeof f.patch === "string" ? f.patch : undefined,
  };
}

function toReview(value: unknown): Review {
  const r = record(value);
  const user = toActor(r.user);
  const state = str(r.state).toUpperCase() as ReviewState;
  return {
    id: typeof r.id === "number" ? r.id : undefined,
    reviewer: user.login,
    reviewerType: user.type,
    // An unknown state is treated as a comment: it can never count as an approval.
    state: REVIEW_STATES.has(state) ? state : "COMMENTED",
    commitId: str(r.commit_id),
    submittedAt: str(r.submitted_at),
  };
}
