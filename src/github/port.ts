/**
 * The GitHub port: everything the services need from GitHub, as plain data.
 *
 * Services talk to this interface only; `OctokitGitHub` is the one implementation. Errors are the typed ones of
 * errors.ts (`NotFoundError`, `PermissionError`, `RateLimitError`, `ValidationError`, `UnavailableError`, all
 * `GitHubApiError`s keeping status, request id and cause); where a 404 is an answer, the port says so in its
 * return type (`null`, `[]`) and the adapter decides, not the services. Keeping the surface small
 * (one method per request the App makes) is what lets the tests pin the request count of every event.
 */
import type { ChangedFile, PullRequestCommits, Review } from "../policy/types.js";
import type { CheckAnnotation } from "../shared/annotations.js";

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface Actor {
  login: string;
  type: "User" | "Bot" | "Organization";
}

export interface LabelInfo {
  name: string;
  /** Six hex digits without `#`, as GitHub returns it. */
  color: string;
}

/** The pull request facts the App reads, from a webhook payload or `GET /pulls/{number}`. */
export interface PullRequestInfo {
  number: number;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  author: Actor;
  headSha: string;
  headRef: string;
  /** `owner/name` of the head repository; differs from the base for forks, null when the fork was deleted. */
  headRepo: string | null;
  baseRef: string;
  baseSha: string;
  body: string;
  labels: LabelInfo[];
  /** Logins with an outstanding review request. */
  requestedReviewers: string[];
  /** Slugs (without the org) of teams with an outstanding review request. */
  requestedTeams: string[];
  /** GitHub's own count of changed files; absent in some payloads. */
  changedFiles?: number | undefined;
  /** `updated_at`: orders two observations of the PR (invariant 9). */
  updatedAt?: string | undefined;
  /** Shown on the compliance pages; absent in some payloads. */
  title?: string | undefined;
  /** `created_at`: when the PR was opened. */
  createdAt?: string | undefined;
}

export interface FileListing {
  files: ChangedFile[];
  /** True when the listing stopped at the limit: the PR has at least that many files and cannot be fully read. */
  truncated: boolean;
}

/** What `getFileModes` asks: the paths whose git mode matters, at the base and at the head commit. */
export interface FileModeQuery {
  baseSha: string;
  headSha: string;
  /** Paths to read at the base (a modified file's path, a renamed file's old one). */
  basePaths: readonly string[];
  /** Paths to read at the head (every file the pull request keeps). */
  headPaths: readonly string[];
  /**
   * The pull request these commits are of: the first query also reads its commits, remembered as
   * `listPullRequestCommitLogins` remembers them, so that call costs no request later (issue 12).
   */
  pullRequest?: number | undefined;
}

/** Git modes as git writes them (`100644`, `100755`, `120000`, `160000`); null: no entry at that path. */
export interface FileModes {
  base: ReadonlyMap<string, string | null>;
  head: ReadonlyMap<string, string | null>;
}

export interface CheckRunInput {
  name: string;
  headSha: string;
  conclusion: "success" | "action_required" | "failure" | "neutral";
  title: string;
  /** Markdown, at most 65,535 characters (the adapter cuts longer text and says so). */
  summary: string;
  text?: string | undefined;
  /** Ties the check run to our evaluation record (e.g. `pr:<number>`), shown to no one. */
  externalId?: string | undefined;
  /**
   * Annotations (at most MAX_ANNOTATIONS), sent when the check run is created: the first 50 with it, the rest 50
   * per PATCH. A later update of the same run sends none, since GitHub appends annotations on every update.
   */
  annotations?: readonly CheckAnnotation[] | undefined;
  detailsUrl?: string | undefined;
}

export interface CheckRunRef {
  id: number;
  url: string | null;
}

/** A status check a branch requires. `appId` null means any source may report it. */
export interface RequiredCheck {
  context: string;
  appId: number | null;
  source: "ruleset" | "branch-protection";
}

/** One line GitHub's own CODEOWNERS validator rejected. */
export interface GitHubCodeownersError {
  line: number;
  column: number;
  kind: string;
  message: string;
  path: string;
  /** GitHub's hint for fixing the line (e.g. "... make sure @octocat exists and has write access"), or null. */
  suggestion: string | null;
}

export interface ReviewerRequest {
  users: string[];
  /** Team slugs of the repository's organisation, without `org/`. */
  teams: string[];
}

export interface GitHubPort extends TelemetryGitHub {
  /**
   * `GET /repos/{owner}/{repo}/pulls/{number}`.
   * @throws {GitHubApiError} on any API failure, including 404.
   */
  getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo>;

  /**
   * Open pull requests whose head is `sha` (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`), for check re-runs
   * on forks where the check payload lists none.
   * @throws {GitHubApiError}
   */
  listPullRequestsForCommit(repo: RepoRef, sha: string): Promise<number[]>;

  /**
   * A file's text at `ref` (a commit SHA, branch, or undefined for the default branch), with a conditional request.
   * Returns null when the file does not exist (404) or the path is not a file.
   * @throws {GitHubApiError} on any other failure.
   */
  getFileText(repo: RepoRef, path: string, ref?: string): Promise<string | null>;

  /**
   * All changed files, 100 a page, stopping at `limit` (default and maximum 3,000, GitHub's own listing limit).
   * With `headSha` and `baseSha` (the commits the caller evaluates), the listing is remembered for that pair: the
   * diff between two fixed commits never changes, so a later event on the same head (a review) costs no request.
   * @throws {GitHubApiError}
   */
  listPullRequestFiles(repo: RepoRef, number: number, options?: { limit?: number; headSha?: string; baseSha?: string }): Promise<FileListing>;

  /**
   * Who authored and committed the PR's commits (`GET /pulls/{n}/commits`, 100 a page, at most GitHub's 250), as
   * logins; a commit whose email GitHub links to no account names nobody. Remembered for the `baseSha...headSha`
   * pair like the files: a PR's commits between two fixed commits never change.
   * @throws {GitHubApiError}
   */
  listPullRequestCommitLogins(repo: RepoRef, number: number, options: { headSha: string; baseSha: string }): Promise<PullRequestCommits>;

  /**
   * The git modes of the given paths at two commits, which the files API does not carry: GraphQL's
   * `Commit.file(path:)` for each path (aliased, FILE_MODES_PER_QUERY paths a query, so a 3,000-file pull request
   * costs at most a few queries of 1 point each). Remembered per commit pair (two commits never change).
   * @throws {GitHubApiError} on any failure, including a GraphQL error or a commit GitHub does not know.
   */
  getFileModes(repo: RepoRef, query: FileModeQuery): Promise<FileModes>;

  /**
   * All reviews, every page, oldest first; conditional (a push or label event re-reads them for a 304).
   * @throws {GitHubApiError}
   */
  listReviews(repo: RepoRef, number: number): Promise<Review[]>;

  /**
   * Every member of `org/teamSlug`, child teams included (as GitHub counts them for code ownership), all pages,
   * conditional: an unchanged team answers 304, which GitHub does not count.
   * A team GitHub does not show us (404) has no members we could count.
   * @throws {GitHubApiError} on failures other than 404.
   */
  listTeamMembers(org: string, teamSlug: string): Promise<string[]>;

  /**
   * Adds labels to the PR; returns the PR's labels afterwards, with colours.
   * @throws {GitHubApiError}
   */
  addLabels(repo: RepoRef, number: number, labels: string[]): Promise<LabelInfo[]>;

  /**
   * Removes one label from the PR; a label that is already gone is not an error.
   * @throws {GitHubApiError}
   */
  removeLabel(repo: RepoRef, number: number, label: string): Promise<void>;

  /**
   * Sets a repository label's colour and description.
   * @throws {GitHubApiError}
   */
  updateLabel(repo: RepoRef, name: string, update: { color: string; description?: string | undefined }): Promise<void>;

  /**
   * Creates a completed check run.
   * @throws {GitHubApiError}
   */
  createCheckRun(repo: RepoRef, input: CheckRunInput): Promise<CheckRunRef>;

  /**
   * `POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers`.
   * @throws {GitHubApiError} (422 when GitHub refuses a reviewer, e.g. not a collaborator).
   */
  requestReviewers(repo: RepoRef, number: number, request: ReviewerRequest): Promise<void>;

  /**
   * Required status checks from the rulesets active on `branch` (`GET /repos/{o}/{r}/rules/branches/{branch}`,
   * metadata read is enough), with a conditional request.
   * @throws {GitHubApiError}
   */
  getRulesetRequiredChecks(repo: RepoRef, branch: string): Promise<RequiredCheck[]>;

  /**
   * Required status checks of classic branch protection, from the protection summary of
   * `GET /repos/{o}/{r}/branches/{branch}` (contents read is enough; no administration permission).
   * Null when the branch does not exist.
   * @throws {GitHubApiError}
   */
  getBranchProtectionRequiredChecks(repo: RepoRef, branch: string): Promise<RequiredCheck[] | null>;

  /**
   * GitHub's own CODEOWNERS validation at `ref`; null when there is no CODEOWNERS file or GitHub cannot answer.
   * Conditional (ETag per repository and ref): a re-read of the same base answers 304, which GitHub does not count;
   * not remembered without asking, since an owner's access can change while the commit does not.
   * @throws {GitHubApiError} on failures other than 404/422.
   */
  getCodeownersErrors(repo: RepoRef, ref: string): Promise<GitHubCodeownersError[] | null>;

  /**
   * The merge queue of `branch`, front first (GraphQL `repository.mergeQueue(branch).entries`, one query of at
   * most 100 entries: GitHub's queue holds no more than that per build). Empty when the branch has no queue.
   * @throws {GitHubApiError}
   */
  listMergeQueue(repo: RepoRef, branch: string): Promise<MergeQueueEntry[]>;

  /**
   * Comments on a pull request (`POST /repos/{o}/{r}/issues/{number}/comments`; *pull requests: write* is enough
   * on a pull request): the App's reply to a refused `/agent-gate override`.
   * @throws {GitHubApiError}
   */
  createIssueComment(repo: RepoRef, number: number, body: string): Promise<void>;
}

/** One pull request waiting in a merge queue, with the merge group commit GitHub built for it. */
export interface MergeQueueEntry {
  /** 1 is next to merge. */
  position: number;
  /** The merge group commit of this entry: the base plus every entry ahead plus this one. Null before it is built. */
  headSha: string | null;
  /** Null when the installation cannot see the pull request. */
  pullRequest: { number: number; headSha: string; baseRef: string } | null;
}

export interface ArtifactInfo {
  id: number;
  name: string;
  /** Compressed size, as GitHub reports it. */
  sizeInBytes: number;
  expired: boolean;
  /** The run that uploaded it, when GitHub says (it always does on api.github.com). */
  workflowRunId: number | null;
}

/** An annotation of the rationale check: the same shape as the approval check's (src/shared/annotations.ts). */
export type RationaleAnnotation = CheckAnnotation;

export interface RationaleCheckInput extends CheckRunInput {
  /** All of them: the first 50 (GitHub's per-request limit) go with the create, the rest 50 per PATCH. */
  annotations: RationaleAnnotation[];
}

/** What telemetry ingestion reads and writes: a run's artifacts and the rationale check with its annotations. */
export interface TelemetryGitHub {
  /**
   * Every artifact of one workflow run (`GET /repos/{o}/{r}/actions/runs/{run_id}/artifacts`), first page of 100.
   * @throws {GitHubApiError} (a subclass per status: NotFoundError, PermissionError, …)
   */
  listRunArtifacts(repo: RepoRef, runId: number): Promise<ArtifactInfo[]>;
  /**
   * The artifact's zip: `GET .../actions/artifacts/{id}/zip` answers 302 to a short-lived blob URL, which is fetched
   * without our token. At most `maxBytes` are read.
   * @throws {ArtifactTooLargeError} past `maxBytes`; {GitHubApiError} (a subclass per status: NotFoundError, PermissionError, …) on any API or download failure.
   */
  downloadArtifact(repo: RepoRef, artifactId: number, maxBytes: number): Promise<Uint8Array>;
  /**
   * Publishes the completed rationale check exactly once per `externalId`: the create is sent once (no automatic
   * retry of the POST); after a lost answer, or with `lookFirst` (an earlier attempt may have created it), ours
   * is looked for on the head and PATCHed instead.
   * @throws {GitHubApiError} (a subclass per status: NotFoundError, PermissionError, …)
   */
  createRationaleCheck(repo: RepoRef, input: RationaleCheckInput, options?: { lookFirst?: boolean | undefined }): Promise<CheckRunRef>;
}

/** One entry of GitHub's webhook delivery log (the `hook-delivery-item` schema), as the reconciliation pass needs it. */
export interface HookDelivery {
  /** The delivery's id in GitHub's log (increasing); a redelivery gets a new id. */
  id: number;
  /** X-GitHub-Delivery: shared by a delivery and its redeliveries. */
  guid: string;
  deliveredAt: Date;
  redelivery: boolean;
  /** The HTTP status our endpoint answered; 0 when GitHub could not connect or timed out. */
  statusCode: number;
  status: string;
  event: string;
  action: string | null;
  installationId: number | null;
}

export interface DeliveryPage {
  deliveries: HookDelivery[];
  /** The cursor of the next (older) page, or null on the last page. */
  next: string | null;
}

/**
 * What the App asks GitHub as itself (a JWT, not an installation token: these requests count against the App's
 * own limit, never an installation's): its webhook deliveries, a redelivery, and which installation a repository
 * belongs to. The adapter must be built over an Octokit authenticated as the App (Probot's `app.auth()`).
 */
export interface AppGitHub {
  /**
   * One page of the App's deliveries, newest first (`GET /app/hook/deliveries`, at most 100 a page), from
   * `cursor` (the newest page without one); the next page is named by a `cursor` in the `Link` header, not `page`.
   * @throws {GitHubApiError}
   */
  listHookDeliveries(cursor: string | null, perPage: number): Promise<DeliveryPage>;
  /**
   * Asks GitHub to deliver this delivery again (`POST /app/hook/deliveries/{id}/attempts`), with the same
   * `X-GitHub-Delivery`; GitHub answers 202 and delivers asynchronously.
   * @throws {GitHubApiError}
   */
  redeliverHookDelivery(id: number): Promise<void>;
  /**
   * The installation of the App on this repository, or null when the App is not installed there (404).
   * @throws {GitHubApiError} on failures other than 404.
   */
  installationOf(repo: RepoRef): Promise<number | null>;
}

/** The App's OAuth client, for the compliance pages' sign-in (GitHub's web flow). */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** The API base URL (GitHub Enterprise Server); github.com when undefined. */
  apiBaseUrl?: string | undefined;
}

export interface UserToken {
  token: string;
  /** When GitHub says the token expires (GitHub App user tokens expire after 8 hours unless the App opted out). */
  expiresAt: Date | null;
}

/** What the App's manifest flow registered: the new App's id, secrets and key. */
export interface RegisteredApp {
  id: number;
  slug: string;
  /** https://github.com/apps/<slug>: where the App is installed from (`/installations/new`). */
  htmlUrl: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string | null;
  pem: string;
}

/**
 * GitHub outside any installation, for the set-up and compliance pages: unauthenticated (the manifest
 * conversion, the OAuth web flow) or as a signed-in person (the adapter built over the user's token). Same base
 * URL setting as the rest of the App: GitHub Enterprise Server's `https://HOST/api/v3` makes the OAuth pages
 * `https://HOST/login/oauth/...` (the OAuth library derives them from the API base).
 */
export interface UserGitHub {
  /**
   * The manifest flow's last step: the one-time code becomes the new App (POST /app-manifests/{code}/conversions,
   * no authentication). https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
   * @throws {GitHubApiError} when GitHub refuses the code (expired, used, unknown) or cannot be reached.
   */
  convertAppManifest(code: string): Promise<RegisteredApp>;
  /** GitHub's authorize page for this App, coming back to `redirectUri` with `state`. */
  oauthAuthorizationUrl(client: OAuthClient, redirectUri: string, state: string): string;
  /** Trades the `code` GitHub sent back for the user's token. @throws {GitHubApiError} when GitHub refuses the code. */
  exchangeOAuthCode(client: OAuthClient, code: string, redirectUri: string): Promise<UserToken>;
  /** The signed-in user's login. @throws {UserTokenInvalidError} on 401. */
  userLogin(): Promise<string>;
  /**
   * Full names (`owner/name`) of every repository the user can read through this App's installations
   * (`GET /user/installations`, `GET /user/installations/{id}/repositories`). @throws {UserTokenInvalidError} on 401.
   */
  readableRepositories(): Promise<string[]>;
}
