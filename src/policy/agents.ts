import type { ResolvedPolicy } from "./config.js";
import { globMatcher } from "./globs.js";
import type { Classification, PullRequestFacts } from "./types.js";

export function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** GitHub Apps act as `name[bot]`; the API also says `type: "Bot"`. */
export function isBotLogin(login: string, type?: string): boolean {
  return type === "Bot" || /\[bot\]$/i.test(login);
}

/** Is this an agent pull request (any of author, head branch, label), and does the policy evaluate it? */
export function classifyPullRequest(policy: ResolvedPolicy, pr: PullRequestFacts): Classification {
  const { authors, branches, labels } = policy.agents;
  let why: string | null = null;
  if (authors.some((a) => sameLogin(a, pr.author))) {
    why = `author ${pr.author} is an agent identity`;
  } else if (branches.length > 0 && globMatcher(branches)(pr.headRef)) {
    why = `head branch ${pr.headRef} matches agents.branches`;
  } else {
    const label = pr.labels.find((l) => labels.some((a) => sameLogin(a, l)));
    if (label !== undefined) why = `label "${label}" marks an agent pull request`;
  }
  const isAgent = why !== null;
  if (policy.scope === "all") {
    return { inScope: true, isAgent, reason: isAgent ? `${why}; scope is all` : "scope is all: every pull request is evaluated" };
  }
  return isAgent
    ? { inScope: true, isAgent, reason: why! }
    : { inScope: false, isAgent, reason: `not an agent pull request (author ${pr.author}, branch ${pr.headRef}) and scope is agents` };
}
