/**
 * Typed errors for every GitHub failure (as release-please's `src/errors`): one base class, so services can fail
 * closed on "anything GitHub said no to", and a subclass per kind of answer, so the adapter (not the services)
 * judges what a 404 or a 422 means. Every one keeps what an operator needs to follow up: the HTTP status, GitHub's
 * request id, the request and the original error as `cause`.
 */

export class GitHubApiError extends Error {
  override readonly name: string = "GitHubApiError";
  /** HTTP status, or null when no response arrived (network error, timeout). */
  readonly status: number | null;
  /** `x-github-request-id` of the failed response, for GitHub support. */
  readonly requestId: string | null;
  /** `METHOD url` of the request that failed. */
  readonly request: string;

  constructor(message: string, options: { status: number | null; requestId: string | null; request: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.requestId = options.requestId;
    this.request = options.request;
  }

  /** Structured form for pino (`log.error({ err: e.toLog() })` keeps status and request id searchable). */
  toLog(): Record<string, unknown> {
    return { name: this.name, message: this.message, status: this.status, requestId: this.requestId, request: this.request };
  }
}

/**
 * The user's token no longer works (expired, revoked, or the App was uninstalled for them): end the session.
 * Status 401; one raised without asking GitHub (a session without a token) names the session as its request.
 */
export class UserTokenInvalidError extends GitHubApiError {
  override readonly name = "UserTokenInvalidError";

  constructor(message: string, options: ConstructorParameters<typeof GitHubApiError>[1] = { status: 401, requestId: null, request: "the sign-in session" }) {
    super(message, options);
  }
}

/** 404: the resource does not exist, or this installation may not see it (GitHub does not say which). */
export class NotFoundError extends GitHubApiError {
  override readonly name = "NotFoundError";
}

/** 401 or 403 without a rate limit: the App lacks a permission or its token is bad. */
export class PermissionError extends GitHubApiError {
  override readonly name = "PermissionError";
}

/** 403 or 429 with a rate limit reached (primary or secondary): retry later. */
export class RateLimitError extends GitHubApiError {
  override readonly name = "RateLimitError";
}

/** 422: GitHub understood the request and refused it (e.g. a reviewer who is not a collaborator). */
export class ValidationError extends GitHubApiError {
  override readonly name = "ValidationError";
}

/** 5xx, or no response at all (network error, timeout): GitHub could not answer. */
export class UnavailableError extends GitHubApiError {
  override readonly name = "UnavailableError";
}

type ErrorOptions = ConstructorParameters<typeof GitHubApiError>[1];

/** The subclass for an answer's status (and, for 403, whether a rate limit was hit). */
export function errorFor(message: string, options: ErrorOptions, rateLimited = false): GitHubApiError {
  const { status } = options;
  if (status === 404) return new NotFoundError(message, options);
  if (status === 429 || (status === 403 && rateLimited)) return new RateLimitError(message, options);
  if (status === 401 || status === 403) return new PermissionError(message, options);
  if (status === 422) return new ValidationError(message, options);
  if (status === null || status >= 500) return new UnavailableError(message, options);
  return new GitHubApiError(message, options);
}

export function isGitHubApiError(error: unknown): error is GitHubApiError {
  return error instanceof GitHubApiError;
}

interface RequestErrorLike {
  status?: unknown;
  message?: unknown;
  request?: { method?: unknown; url?: unknown };
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

/** Wraps whatever Octokit threw (RequestError, fetch failure, anything) into the GitHubApiError subclass for it. */
export function toGitHubApiError(error: unknown, fallbackRequest: string): GitHubApiError {
  if (error instanceof GitHubApiError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as RequestErrorLike;
  const status = typeof e.status === "number" ? e.status : null;
  const headerId = e.response?.headers?.["x-github-request-id"];
  const requestId = typeof headerId === "string" ? headerId : null;
  const method = typeof e.request?.method === "string" ? e.request.method : "";
  const url = typeof e.request?.url === "string" ? e.request.url : "";
  const request = method && url ? `${method} ${url}` : fallbackRequest;
  const detail = githubMessage(e.response?.data) ?? (typeof e.message === "string" ? e.message : String(error));
  const message = status === null ? `${request} failed: ${detail}` : `${request} answered ${status}: ${detail}`;
  const remaining = e.response?.headers?.["x-ratelimit-remaining"];
  const rateLimited = remaining === "0" || remaining === 0 || e.response?.headers?.["retry-after"] !== undefined || /rate limit/i.test(detail);
  return errorFor(message, { status, requestId, request, cause: error }, rateLimited);
}

function githubMessage(data: unknown): string | null {
  if (typeof data !== "object" || data === null) return null;
  const message = (data as { message?: unknown }).message;
  return typeof message === "string" && message.length > 0 ? message.slice(0, 300) : null;
}

/** Thrown when an artifact is larger than the caller allows; nothing beyond the cap is read. */
export class ArtifactTooLargeError extends Error {
  override readonly name = "ArtifactTooLargeError";
  constructor(
    readonly limitBytes: number,
    readonly sizeBytes: number | null,
  ) {
    super(`the artifact is larger than ${limitBytes} bytes${sizeBytes !== null ? ` (${sizeBytes} bytes)` : ""}`);
  }
}
