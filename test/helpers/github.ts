/**
 * Fakes for GitHub: real webhook payloads (from @octokit/webhooks-examples, saved under test/fixtures/github),
 * named nock helpers for every request the App makes (release-drafter style), and a request counter so each
 * scenario can pin how many GitHub requests it costs.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import nock from "nock";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "pino";
import { ProbotOctokit } from "probot";

export const API = "https://api.github.com";
export const APP_ID = 4242;
export const INSTALLATION_ID = 1;
/** The repository of the webhook examples. Its owner is treated as an organisation so teams can own paths. */
export const OWNER = "Codertocat";
export const REPO = "Hello-World";
export const REPO_PATH = `/repos/${OWNER}/${REPO}`;
export const BASE_SHA = "9049f1265b7d61be4a8904a9a27120d2064dab3b";
export const HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
export const NEW_HEAD_SHA = "1111111111111111111111111111111111111111";
export const PR_NUMBER = 2;

let privateKey: string | undefined;
/** A throwaway RSA key: Probot signs its app JWT with it; nock answers the token request. */
export function testPrivateKey(): string {
  privateKey ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  return privateKey;
}

/**
 * Octokit for tests: no retries and no throttling, so a 500 surfaces at once and writes are not spaced out.
 * A function, not `ProbotOctokit.defaults({ throttle: { enabled: false } })`: Probot 14 passes its own throttle
 * options on construction and those win over object defaults, leaving throttling on (the suite took 60 s, not 2).
 */
export const TestOctokit: typeof ProbotOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { ...(options.throttle as object | undefined), enabled: false },
}));

// ---------------------------------------------------------------------------------------------------------------
// Logs

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger whose lines the test can read. */
export function captureLog(level: "debug" | "info" = "debug"): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { log: pino({ level }, stream), lines };
}

// ---------------------------------------------------------------------------------------------------------------
// Request counting

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

/** Every request nock answered through the helpers below, except the installation token (Probot caches it). */
export class RequestCounter {
  readonly requests: RecordedRequest[] = [];
  record(method: string, path: string, status: number): void {
    if (/^\/app\/installations\/\d+\/access_tokens/.test(path)) return;
    this.requests.push({ method, path, status });
  }
  /** All GitHub API requests. */
  get total(): number {
    return this.requests.length;
  }
  /** Requests that count against the installation's rate limit (a 304 does not). */
  get counted(): number {
    return this.requests.filter((r) => r.status !== 304).length;
  }
  /** Requests that change GitHub: not a GET, and not a GraphQL query (the App sends no mutations; a query is a read). */
  get writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== "GET" && r.path !== "/graphql");
  }
  reset(): void {
    this.requests.length = 0;
  }
  /** `METHOD path status` lines, for readable failure messages. */
  describe(): string[] {
    return this.requests.map((r) => `${r.method} ${decodeURIComponent(r.path)} ${r.status}`);
  }
}

export const requests = new RequestCounter();

/** A nock scope on the GitHub API whose answers are counted. */
export function api(): nock.Scope {
  const scope = nock(API);
  scope.on("request", (req: { method: string; path: string }, interceptor: { statusCode: number }) => {
    requests.record(req.method, req.path, interceptor.statusCode);
  });
  return scope;
}

// ---------------------------------------------------------------------------------------------------------------
// Payloads

const FIXTURES = new URL("../fixtures/github/", import.meta.url);

/** A webhook example saved as `test/fixtures/github/<event>.<action>.json`, deep-copied so tests can edit it. */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), "utf8")) as T;
}

export interface PullRequestScenario {
  action?: string;
  author?: string;
  authorType?: "User" | "Bot";
  headRef?: string;
  headSha?: string;
  baseRef?: string;
  baseSha?: string;
  labels?: string[];
  body?: string;
  draft?: boolean;
  changedFiles?: number;
  requestedReviewers?: string[];
  requestedTeams?: string[];
}

/** Edits a real pull_request object in place: only what a scenario needs. */
export function shapePullRequest(pr: any, s: PullRequestScenario): any {
  pr.number = PR_NUMBER;
  pr.state = "open";
  pr.draft = s.draft ?? false;
  pr.user.login = s.author ?? "agent-gate-runner[bot]";
  pr.user.type = s.authorType ?? "Bot";
  pr.head.ref = s.headRef ?? "agent/run-1";
  pr.head.sha = s.headSha ?? HEAD_SHA;
  // A push moves updated_at; the App orders observations of one PR by it.
  pr.updated_at = pr.head.sha === HEAD_SHA ? "2026-01-01T10:00:00Z" : "2026-01-01T11:00:00Z";
  pr.base.ref = s.baseRef ?? "master";
  pr.base.sha = s.baseSha ?? BASE_SHA;
  pr.labels = (s.labels ?? []).map((name, i) => ({ id: 1000 + i, node_id: `L${i}`, url: "", name, color: "ededed", default: false, description: null }));
  pr.body = s.body ?? "Automated change by an agent.";
  pr.changed_files = s.changedFiles ?? 1;
  pr.requested_reviewers = (s.requestedReviewers ?? []).map((login) => ({ ...pr.user, login, type: "User" }));
  pr.requested_teams = (s.requestedTeams ?? []).map((slug) => ({ id: 1, node_id: "T", name: slug, slug, privacy: "closed", permission: "pull" }));
  return pr;
}

function asOrganisationRepo(payload: any): any {
  payload.repository.owner.type = "Organization";
  payload.installation = { id: INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  return payload;
}

/** A `pull_request.<action>` delivery built from the real example. */
export function pullRequestEvent(s: PullRequestScenario = {}): { name: "pull_request"; payload: any } {
  const action = s.action ?? "opened";
  const file = ["opened", "synchronize", "reopened", "ready_for_review", "labeled", "unlabeled", "closed"].includes(action) ? action : "opened";
  const payload = asOrganisationRepo(fixture(`pull_request.${file}`));
  payload.action = action;
  payload.number = PR_NUMBER;
  shapePullRequest(payload.pull_request, s);
  return { name: "pull_request", payload };
}

export interface ReviewScenario extends PullRequestScenario {
  reviewer: string;
  reviewerType?: "User" | "Bot";
  state?: "approved" | "changes_requested" | "commented" | "dismissed";
  commitId?: string;
  reviewAction?: "submitted" | "edited" | "dismissed";
}

/** A `pull_request_review.<action>` delivery built from the real example. */
export function reviewEvent(s: ReviewScenario): { name: "pull_request_review"; payload: any } {
  const action = s.reviewAction ?? "submitted";
  const payload = asOrganisationRepo(fixture(action === "dismissed" ? "pull_request_review.dismissed" : "pull_request_review.submitted"));
  payload.action = action;
  shapePullRequest(payload.pull_request, s);
  payload.review.user.login = s.reviewer;
  payload.review.user.type = s.reviewerType ?? "User";
  payload.review.state = s.state ?? (action === "dismissed" ? "dismissed" : "approved");
  payload.review.commit_id = s.commitId ?? payload.pull_request.head.sha;
  payload.sender.login = s.reviewer;
  return { name: "pull_request_review", payload };
}

// ---------------------------------------------------------------------------------------------------------------
// GitHub API answers

/** Probot asks once per installation and caches the token; a scenario that makes no request never asks. */
export function nockAccessToken(installationId = INSTALLATION_ID): nock.Scope {
  return nock(API)
    .post(`/app/installations/${installationId}/access_tokens`)
    .optionally()
    .reply(201, { token: "ghs_test", expires_at: "2099-01-01T00:00:00Z", permissions: { pull_requests: "write", checks: "write", contents: "read" } });
}

export interface FileAnswer {
  /** File text; null answers 404. */
  text: string | null;
  etag?: string;
  /** Answer 304 when the request carries this ETag. */
  notModified?: boolean;
  owner?: string;
  repo?: string;
}

/** `GET contents/<path>?ref=<ref>` (raw). `ref` undefined means no ref (default branch). */
export function nockFile(path: string, ref: string | undefined, answer: FileAnswer): nock.Scope {
  const owner = answer.owner ?? OWNER;
  const repo = answer.repo ?? REPO;
  const interceptor = api().get(`/repos/${owner}/${repo}/contents/${encodeURIComponent(path)}`).query(ref === undefined ? {} : { ref });
  if (answer.notModified) return interceptor.matchHeader("if-none-match", answer.etag ?? "").reply(304, "");
  if (answer.text === null) return interceptor.reply(404, { message: "Not Found" });
  return interceptor.reply(200, answer.text, {
    "content-type": "application/vnd.github.raw; charset=utf-8",
    ...(answer.etag ? { etag: answer.etag } : {}),
  });
}

export const POLICY = ".github/agent-gate.yml";

export function nockPolicyFile(text: string | null, options: { ref?: string; etag?: string; notModified?: boolean } = {}): nock.Scope {
  return nockFile(POLICY, options.ref ?? BASE_SHA, { text, ...options });
}

/** The org-wide fallback: `<owner>/.github` repository, default branch. */
export function nockOrgPolicyFile(text: string | null): nock.Scope {
  return nockFile(POLICY, undefined, { text, repo: ".github" });
}

export function nockCodeowners(text: string | null, options: { path?: string; ref?: string; etag?: string; notModified?: boolean } = {}): nock.Scope {
  return nockFile(options.path ?? ".github/CODEOWNERS", options.ref ?? BASE_SHA, { text, ...options });
}

export interface FileSpec {
  filename: string;
  status?: string;
  previous_filename?: string;
  additions?: number;
  deletions?: number;
  patch?: string | null;
}

export function fileEntry(f: FileSpec, i = 0): Record<string, unknown> {
  const additions = f.additions ?? 1;
  const deletions = f.deletions ?? 0;
  return {
    sha: (i + 1).toString(16).padStart(40, "0"),
    filename: f.filename,
    status: f.status ?? "modified",
    ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
    additions,
    deletions,
    changes: additions + deletions,
    blob_url: "",
    raw_url: "",
    contents_url: "",
    ...(f.patch === null ? {} : { patch: f.patch ?? `@@ -1,1 +1,1 @@\n-old\n+new` }),
  };
}

/** `GET pulls/{n}/files`, 100 a page with GitHub's Link header. */
export function nockListFiles(files: FileSpec[], options: { number?: number } = {}): nock.Scope {
  const number = options.number ?? PR_NUMBER;
  const path = `${REPO_PATH}/pulls/${number}/files`;
  const pages = Math.max(1, Math.ceil(files.length / 100));
  const scope = api();
  for (let page = 1; page <= pages; page++) {
    const slice = files.slice((page - 1) * 100, page * 100).map((f, i) => fileEntry(f, (page - 1) * 100 + i));
    const next: Record<string, string> = page < pages ? { link: `<${API}${path}?per_page=100&page=${page + 1}>; rel="next"` } : {};
    scope
      .get(path)
      .query(page === 1 ? { per_page: "100" } : { per_page: "100", page: String(page) })
      .reply(200, slice, next);
  }
  return scope;
}

export interface ReviewSpec {
  reviewer: string;
  state?: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
  commitId?: string;
  type?: "User" | "Bot";
}

export function nockReviews(reviews: ReviewSpec[], options: { number?: number } = {}): nock.Scope {
  const body = reviews.map((r, i) => ({
    id: 500 + i,
    user: { login: r.reviewer, id: 9000 + i, type: r.type ?? "User" },
    body: "",
    state: r.state ?? "APPROVED",
    commit_id: r.commitId ?? HEAD_SHA,
    submitted_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    author_association: "MEMBER",
  }));
  return api()
    .get(`${REPO_PATH}/pulls/${options.number ?? PR_NUMBER}/reviews`)
    .query({ per_page: "100" })
    .reply(200, body);
}

/** `GET pulls/{n}`: the re-read right before publishing. Pass the payload's pull_request (already shaped). */
export function nockGetPull(pullRequest: any, options: { etag?: string } = {}): nock.Scope {
  return api()
    .get(`${REPO_PATH}/pulls/${pullRequest.number}`)
    .reply(200, pullRequest, options.etag ? { etag: options.etag } : {});
}

export function nockPullsForCommit(sha: string, numbers: number[], template: any): nock.Scope {
  return api()
    .get(`${REPO_PATH}/commits/${sha}/pulls`)
    .query({ per_page: "100" })
    .reply(
      200,
      numbers.map((n) => ({ ...template, number: n, state: "open" })),
    );
}

/** `GET /orgs/{org}/teams/{team}/members`; null answers 404 (a team we cannot see). */
export function nockTeamMembers(team: string, members: string[] | null, org = OWNER): nock.Scope {
  const scope = api().get(`/orgs/${org}/teams/${team}/members`).query({ per_page: "100" });
  if (members === null) return scope.reply(404, { message: "Not Found" });
  return scope.reply(
    200,
    members.map((login, i) => ({ login, id: 100 + i, type: "User" })),
  );
}

/** Rulesets on the branch; `requires` names the checks the rules require (our App as their source). */
export function nockRulesetChecks(
  branch: string,
  requires: Array<{ context: string; integrationId?: number | null }>,
  options: { etag?: string; notModified?: boolean } = {},
): nock.Scope {
  const scope = api().get(`${REPO_PATH}/rules/branches/${encodeURIComponent(branch)}`).query({ per_page: "100" });
  if (options.notModified) return scope.matchHeader("if-none-match", options.etag ?? "").reply(304, "");
  const rules =
    requires.length === 0
      ? []
      : [
          {
            type: "required_status_checks",
            ruleset_source_type: "Repository",
            ruleset_source: `${OWNER}/${REPO}`,
            ruleset_id: 7,
            parameters: {
              strict_required_status_checks_policy: false,
              required_status_checks: requires.map((r) => ({ context: r.context, ...(r.integrationId === null ? {} : { integration_id: r.integrationId ?? APP_ID }) })),
            },
          },
        ];
  return scope.reply(200, rules, options.etag ? { etag: options.etag } : {});
}

/** `GET branches/{branch}` with the classic protection summary. */
export function nockBranchProtection(branch: string, checks: Array<{ context: string; appId?: number | null }> | null): nock.Scope {
  const scope = api().get(`${REPO_PATH}/branches/${encodeURIComponent(branch)}`);
  return scope.reply(200, {
    name: branch,
    commit: { sha: BASE_SHA },
    protected: checks !== null,
    protection: {
      enabled: checks !== null,
      required_status_checks: {
        enforcement_level: checks === null ? "off" : "non_admins",
        contexts: (checks ?? []).map((c) => c.context),
        checks: (checks ?? []).map((c) => ({ context: c.context, app_id: c.appId === undefined ? APP_ID : c.appId })),
      },
    },
  });
}

export interface Captured<T = any> {
  body: T | undefined;
  bodies: T[];
}

function capture<T>(): Captured<T> & { push(b: T): void } {
  const c: Captured<T> & { push(b: T): void } = {
    body: undefined,
    bodies: [],
    push(b: T) {
      c.body = b;
      c.bodies.push(b);
    },
  };
  return c;
}

export function nockCreateCheckRun(options: { status?: number } = {}): { scope: nock.Scope; captured: Captured } {
  const captured = capture<any>();
  const scope = api()
    .post(`${REPO_PATH}/check-runs`, (body: any) => {
      captured.push(body);
      return true;
    })
    .reply(options.status ?? 201, { id: 77, html_url: `https://github.com/${OWNER}/${REPO}/runs/77` });
  return { scope, captured };
}

/** `POST issues/{n}/labels`; answers with the PR's labels afterwards (`color` of the added ones: `addedColor`). */
export function nockAddLabels(existing: string[] = [], options: { addedColor?: string } = {}): { scope: nock.Scope; captured: Captured<{ labels: string[] }> } {
  const captured = capture<{ labels: string[] }>();
  const scope = api()
    .post(`${REPO_PATH}/issues/${PR_NUMBER}/labels`, (body: { labels: string[] }) => {
      captured.push(body);
      return true;
    })
    .reply(200, (_uri: string, body: any) =>
      [...existing, ...(body as { labels: string[] }).labels].map((name, i) => ({ id: i, name, color: existing.includes(name) ? "ededed" : (options.addedColor ?? "ededed") })),
    );
  return { scope, captured };
}

export function nockRemoveLabel(name: string): nock.Scope {
  return api().delete(`${REPO_PATH}/issues/${PR_NUMBER}/labels/${encodeURIComponent(name)}`).reply(200, []);
}

export function nockUpdateLabel(name: string): { scope: nock.Scope; captured: Captured } {
  const captured = capture<any>();
  const scope = api()
    .patch(`${REPO_PATH}/labels/${encodeURIComponent(name)}`, (body: any) => {
      captured.push(body);
      return true;
    })
    .reply(200, { name });
  return { scope, captured };
}

export function nockRequestReviewers(options: { status?: number } = {}): { scope: nock.Scope; captured: Captured<{ reviewers: string[]; team_reviewers: string[] }> } {
  const captured = capture<{ reviewers: string[]; team_reviewers: string[] }>();
  const scope = api()
    .post(`${REPO_PATH}/pulls/${PR_NUMBER}/requested_reviewers`, (body: any) => {
      captured.push(body);
      return true;
    })
    .reply(options.status ?? 201, {});
  return { scope, captured };
}

export interface CodeownersErrorSpec {
  line: number;
  message: string;
  kind?: string;
  column?: number;
  source?: string;
  suggestion?: string | null;
}

/**
 * `GET codeowners/errors?ref=`. Each error has the shape of GitHub's documented example response of "List
 * CODEOWNERS errors" (test/fixtures/github/SOURCES.md): line, column, kind, source, suggestion (often null),
 * message (first line, a blank line, the source and a caret), path. `null`: no CODEOWNERS file (404).
 */
export function nockCodeownersErrors(ref: string, errors: CodeownersErrorSpec[] | null, options: { etag?: string; notModified?: boolean } = {}): nock.Scope {
  const scope = api().get(`${REPO_PATH}/codeowners/errors`).query({ ref });
  if (options.notModified) return scope.reply(304, "", { etag: options.etag ?? '"codeowners-errors"' });
  if (errors === null) return scope.reply(404, { message: "Not Found" });
  const body = {
    errors: errors.map((e) => ({
      line: e.line,
      column: e.column ?? 1,
      kind: e.kind ?? "Unknown owner",
      source: e.source ?? "",
      suggestion: e.suggestion ?? null,
      message: e.message,
      path: ".github/CODEOWNERS",
    })),
  };
  return scope.reply(200, body, options.etag ? { etag: options.etag } : {});
}

export interface CommitSpec {
  /** The author's GitHub login; null: GitHub links the commit's email to no account. */
  author?: string | null;
  committer?: string | null;
  sha?: string;
}

/**
 * `GET pulls/{n}/commits` (oldest first, the last one the head). Each item has the shape of GitHub's documented
 * example (docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request, "commit" schema), trimmed to the
 * fields a client reads: `author`/`committer` are GitHub accounts (or null), `commit.author` the git identity.
 */
export function nockPullCommits(commits: CommitSpec[], options: { number?: number } = {}): nock.Scope {
  const user = (login: string, id: number) => ({ login, id, node_id: `MDQ6VXNlcj${id}`, type: "User", site_admin: false, url: `${API}/users/${login}`, html_url: `https://github.com/${login}` });
  const body = commits.map((c, i) => {
    const sha = c.sha ?? (i === commits.length - 1 ? HEAD_SHA : (i + 1).toString(16).padStart(40, "a"));
    const author = c.author === undefined ? "agent-gate-runner[bot]" : c.author;
    const committer = c.committer === undefined ? "web-flow" : c.committer;
    return {
      url: `${API}${REPO_PATH}/commits/${sha}`,
      sha,
      node_id: `C_${sha.slice(0, 8)}`,
      html_url: `https://github.com/${OWNER}/${REPO}/commit/${sha}`,
      commit: {
        url: `${API}${REPO_PATH}/git/commits/${sha}`,
        author: { name: author ?? "Someone", email: `${author ?? "someone"}@example.com`, date: "2026-01-01T09:00:00Z" },
        committer: { name: committer ?? "Someone", email: `${committer ?? "someone"}@example.com`, date: "2026-01-01T09:00:00Z" },
        message: `commit ${i + 1}`,
        tree: { url: `${API}${REPO_PATH}/tree/${sha}`, sha },
        comment_count: 0,
        verification: { verified: false, reason: "unsigned", signature: null, payload: null },
      },
      author: author === null ? null : user(author, 7000 + i),
      committer: committer === null ? null : user(committer, 8000 + i),
      parents: [],
    };
  });
  return api()
    .get(`${REPO_PATH}/pulls/${options.number ?? PR_NUMBER}/commits`)
    .query({ per_page: "100" })
    .reply(200, body);
}

// ---------------------------------------------------------------------------------------------------------------
// GraphQL: file modes (src/github/file-modes.ts). The answer has the shape of test/fixtures/github/graphql.file-modes.json.

/** Git mode (`100755`) → GraphQL's decimal (33261); null: no entry at that path. */
export type ModeAnswer = string | null;

export interface FileModesAnswer {
  /** `path` → mode at the base; any path not named is a plain file (100644). */
  base?: Record<string, ModeAnswer>;
  head?: Record<string, ModeAnswer>;
  /**
   * The pull request's commits, answered when the query asks for them (its first query, `pullRequest(number:)`),
   * oldest first, as `nockPullCommits` takes them. Default: one agent commit at the query's head.
   */
  commits?: CommitSpec[];
  /** The pull request's head as GraphQL answers it (default: the query's head commit). */
  headRefOid?: string;
  /** `commits.totalCount` (default: the number of commits). GraphQL lists the first 100 of them. */
  totalCount?: number;
  /** Answer with this status instead (a GraphQL error for `errors`). */
  fail?: number | "errors";
}

export interface CapturedModesQuery {
  /** Every query's variables, in order. */
  variables: Array<Record<string, string>>;
  /** For each query, the pull request whose commits it asked for (undefined: none). */
  commitsOf: Array<number | undefined>;
  /** What each query asked for at each side. */
  asked: Array<{ base: string[]; head: string[] }>;
}

/**
 * `POST /graphql` for the App's `AgentGateFileModes` query, `times` queries: answers each alias at the side the
 * query puts it under, from `answer` (default 100644). Other GraphQL queries (the merge queue) do not match.
 */
export function nockFileModes(answer: FileModesAnswer = {}, options: { times?: number } = {}): { scope: nock.Scope; captured: CapturedModesQuery } {
  const captured: CapturedModesQuery = { variables: [], asked: [], commitsOf: [] };
  const scope = api()
    .post("/graphql", (body: { query?: string }) => typeof body.query === "string" && body.query.includes("AgentGateFileModes"))
    .times(options.times ?? 1)
    .reply((_uri, body) => {
      const { query, variables } = body as { query: string; variables: Record<string, string> };
      const sides = { base: sideAliases(query, "base"), head: sideAliases(query, "head") };
      const asksCommits = query.includes("pullRequest(number: $number)");
      captured.variables.push(variables);
      captured.asked.push({ base: sides.base.map((a) => variables[a]!), head: sides.head.map((a) => variables[a]!) });
      captured.commitsOf.push(asksCommits ? Number(variables.number) : undefined);
      if (answer.fail === "errors") return [200, { data: null, errors: [{ type: "NOT_FOUND", message: "Could not resolve to a Repository" }] }];
      if (typeof answer.fail === "number") return [answer.fail, { message: "Server Error" }];
      const entry = (mode: ModeAnswer | undefined) => (mode === null ? null : { mode: parseInt(mode ?? "100644", 8) });
      const side = (name: "base" | "head") => Object.fromEntries(sides[name].map((a) => [a, entry(answer[name]?.[variables[a]!])]));
      const pullRequest = asksCommits ? { pullRequest: commitsAnswer(answer, variables.head ?? HEAD_SHA) } : {};
      return [200, { data: { repository: { ...(sides.base.length ? { base: side("base") } : {}), ...(sides.head.length ? { head: side("head") } : {}), ...pullRequest } } }];
    });
  return { scope, captured };
}

/**
 * `pullRequest { headRefOid commits(first: 100) { totalCount nodes { commit { oid author { user { login } } committer { … } } } } }`
 * in the shape of GitHub's schema (PullRequest.headRefOid, PullRequestCommitConnection, Commit.author: GitActor,
 * GitActor.user: the linked account or null), for the same commits `nockPullCommits` lists over REST.
 */
function commitsAnswer(answer: FileModesAnswer, head: string): unknown {
  const commits = answer.commits ?? [{}];
  const actor = (login: string | null) => ({ user: login === null ? null : { login } });
  const nodes = commits.slice(0, 100).map((c, i) => {
    const oid = c.sha ?? (i === commits.length - 1 ? head : (i + 1).toString(16).padStart(40, "a"));
    return { commit: { oid, author: actor(c.author === undefined ? "agent-gate-runner[bot]" : c.author), committer: actor(c.committer === undefined ? "web-flow" : c.committer) } };
  });
  return { headRefOid: answer.headRefOid ?? head, commits: { totalCount: answer.totalCount ?? commits.length, nodes } };
}

/** The aliases a file-modes query asks under `side: object(oid: $side) { ... }`. */
function sideAliases(query: string, side: "base" | "head"): string[] {
  const block = new RegExp(`${side}: object\\(oid: \\$${side}\\) \\{ \\.\\.\\. on Commit \\{ (.*?) \\} \\}(?: head:| \\})`).exec(query)?.[1] ?? "";
  return [...block.matchAll(/(p\d+): file\(/g)].map((m) => m[1]!);
}
