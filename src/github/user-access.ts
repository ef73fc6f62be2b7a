/**
 * GitHub as a signed-in person sees it, for the compliance pages: the App's OAuth web flow (authorize URL, code
 * exchange) and which repositories the person may read through this App's installations
 * (`GET /user/installations`, `GET /user/installations/{id}/repositories`, both with the user's token).
 *
 * The same base URL setting as the rest of the App: GitHub Enterprise Server's `https://HOST/api/v3` makes the
 * OAuth pages `https://HOST/login/oauth/...` (the OAuth library derives them from the API base).
 */
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from "@octokit/oauth-methods";
import { Octokit } from "@octokit/rest";
import { GitHubApiError, toGitHubApiError } from "./errors.js";

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** The API base URL (GitHub Enterprise Server); github.com when undefined. */
  apiBaseUrl?: string | undefined;
}

/**
 * The user's token no longer works (expired, revoked, or the App was uninstalled for them): end the session.
 * One of the adapter's typed errors (status 401); one raised without asking GitHub (a session without a token)
 * names the session as its request.
 */
export class UserTokenInvalidError extends GitHubApiError {
  override readonly name = "UserTokenInvalidError";

  constructor(message: string, options: ConstructorParameters<typeof GitHubApiError>[1] = { status: 401, requestId: null, request: "the sign-in session" }) {
    super(message, options);
  }
}

function octokitFor(apiBaseUrl: string | undefined, token?: string): Octokit {
  return new Octokit({ ...(apiBaseUrl ? { baseUrl: apiBaseUrl } : {}), ...(token ? { auth: token } : {}), userAgent: "agent-gate-compliance" });
}

/** GitHub's authorize page for this App, coming back to `redirectUri` with `state`. */
export function authorizationUrl(client: OAuthClient, redirectUri: string, state: string): string {
  return getWebFlowAuthorizationUrl({
    clientType: "github-app",
    clientId: client.clientId,
    redirectUrl: redirectUri,
    state,
    request: octokitFor(client.apiBaseUrl).request,
  }).url;
}

export interface UserToken {
  token: string;
  /** When GitHub says the token expires (GitHub App user tokens expire after 8 hours unless the App opted out). */
  expiresAt: Date | null;
}

/** Trades the `code` GitHub sent back for the user's token. @throws when GitHub refuses the code. */
export async function exchangeCode(client: OAuthClient, code: string, redirectUri: string): Promise<UserToken> {
  const { authentication } = await exchangeWebFlowCode({
    clientType: "github-app",
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    code,
    redirectUrl: redirectUri,
    request: octokitFor(client.apiBaseUrl).request,
  });
  const expiresAt = "expiresAt" in authentication && typeof authentication.expiresAt === "string" ? new Date(authentication.expiresAt) : null;
  return { token: authentication.token, expiresAt };
}

/** Whatever fails becomes a typed GitHubApiError; a 401 means the sign-in is over. */
async function asUser<T>(request: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const typed = toGitHubApiError(error, request);
    if (typed.status === 401) {
      const { status, requestId } = typed;
      throw new UserTokenInvalidError("GitHub no longer accepts this sign-in (token expired or revoked)", { status, requestId, request: typed.request, cause: error });
    }
    throw typed;
  }
}

/** The signed-in user's login. @throws {UserTokenInvalidError} on 401. */
export async function userLogin(apiBaseUrl: string | undefined, token: string): Promise<string> {
  const octokit = octokitFor(apiBaseUrl, token);
  const { data } = await asUser("GET /user", () => octokit.request("GET /user"));
  return data.login;
}

/**
 * Full names (`owner/name`) of every repository the user can read through this App's installations.
 * @throws {UserTokenInvalidError} on 401.
 */
export async function readableRepositories(apiBaseUrl: string | undefined, token: string): Promise<string[]> {
  const octokit = octokitFor(apiBaseUrl, token);
  const installations = await asUser("GET /user/installations", () => octokit.paginate("GET /user/installations", { per_page: 100 }));
  const names: string[] = [];
  for (const installation of installations) {
    const route = "GET /user/installations/{installation_id}/repositories";
    const repos = await asUser(`GET /user/installations/${installation.id}/repositories`, () => octokit.paginate(route, { installation_id: installation.id, per_page: 100 }));
    for (const repo of repos) names.push(repo.full_name);
  }
  return names;
}
