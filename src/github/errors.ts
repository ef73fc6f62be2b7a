/**
 * One error type for every GitHub failure, so services can fail closed on "anything GitHub said no to" while the
 * logs keep what an operator needs to follow up: the HTTP status, GitHub's request id and the original error.
 */

export class GitHubApiError extends Error {
  override readonly name = "GitHubApiError";
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

export function isGitHubApiError(error: unknown): error is GitHubApiError {
  return error instanceof GitHubApiError;
}

interface RequestErrorLike {
  status?: unknown;
  message?: unknown;
  request?: { method?: unknown; url?: unknown };
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

/** Wraps whatever Octokit threw (RequestError, fetch failure, anything) into a GitHubApiError. */
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
  return new GitHubApiError(message, { status, requestId, request, cause: error });
}

function githubMessage(data: unknown): string | null {
  if (typeof data !== "object" || data === null) return null;
  const message = (data as { message?: unknown }).message;
  return typeof message === "string" && message.length > 0 ? message.slice(0, 300) : null;
}
