/** The one GitHub write the action makes besides the push: opening the pull request. */
import { Octokit } from "@octokit/rest";

export interface PullRequestRequest {
  apiUrl: string;
  token: string;
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
}

export interface OpenedPullRequest {
  number: number;
  url: string;
}

export type PullRequestOpener = (req: PullRequestRequest) => Promise<OpenedPullRequest>;

export class PullRequestError extends Error {
  override name = "PullRequestError";
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** @throws PullRequestError with a hint for the usual 403 (Actions may not create pull requests). */
export const openPullRequest: PullRequestOpener = async (req) => {
  const octokit = new Octokit({ auth: req.token, baseUrl: req.apiUrl, userAgent: "agent-gate-action" });
  try {
    const { data } = await octokit.rest.pulls.create({ owner: req.owner, repo: req.repo, head: req.head, base: req.base, title: req.title, body: req.body, maintainer_can_modify: false });
    return { number: data.number, url: data.html_url };
  } catch (err) {
    const status = err && typeof err === "object" && "status" in err && typeof err.status === "number" ? err.status : undefined;
    const message = err instanceof Error ? err.message : String(err);
    const hint =
      status === 403
        ? " — allow it under Settings → Actions → General → 'Allow GitHub Actions to create and approve pull requests', and give the job `pull-requests: write`"
        : "";
    throw new PullRequestError(`could not open the pull request: ${message}${hint}`, status, { cause: err });
  }
};

export interface PermissionRequest {
  apiUrl: string;
  token: string;
  owner: string;
  repo: string;
  username: string;
}

/** The user's permission on the repository as GitHub reports it: admin, write, read or none. */
export type PermissionLookup = (req: PermissionRequest) => Promise<string>;

/** GET /repos/{owner}/{repo}/collaborators/{username}/permission; a user GitHub does not know has none. */
export const fetchPermission: PermissionLookup = async (req) => {
  const octokit = new Octokit({ auth: req.token, baseUrl: req.apiUrl, userAgent: "agent-gate-action" });
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: req.owner, repo: req.repo, username: req.username });
    return data.permission;
  } catch (err) {
    if (err && typeof err === "object" && "status" in err && err.status === 404) return "none";
    throw err;
  }
};

export interface ExistingPullRequest {
  number: number;
  url: string;
  state: string;
  headRef: string;
  headSha: string;
  /** owner/name of the head branch's repository (differs from the base's for a fork). */
  headRepository: string | null;
  baseRef: string;
}

export type PullRequestLookup = (req: { apiUrl: string; token: string; owner: string; repo: string; number: number }) => Promise<ExistingPullRequest>;

/** GET /repos/{owner}/{repo}/pulls/{number}, for iterating on an agent's pull request. */
export const getPullRequest: PullRequestLookup = async (req) => {
  const octokit = new Octokit({ auth: req.token, baseUrl: req.apiUrl, userAgent: "agent-gate-action" });
  const { data } = await octokit.rest.pulls.get({ owner: req.owner, repo: req.repo, pull_number: req.number });
  return { number: data.number, url: data.html_url, state: data.state, headRef: data.head.ref, headSha: data.head.sha, headRepository: data.head.repo?.full_name ?? null, baseRef: data.base.ref };
};
