export type * from "./port.js";
export {
  GitHubApiError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ValidationError,
  UnavailableError,
  UserTokenInvalidError,
  ArtifactTooLargeError,
  isGitHubApiError,
  toGitHubApiError,
} from "./errors.js";
export { LruConditionalCache } from "./cache.js";
export type { CachedResponse, ConditionalCache } from "./cache.js";
export { OctokitGitHub, MAX_LISTED_FILES, CHECK_TEXT_LIMIT, toPullRequestInfo, standaloneOctokit } from "./octokit-github.js";
export type { Octokit, OctokitGitHubOptions } from "./octokit-github.js";
