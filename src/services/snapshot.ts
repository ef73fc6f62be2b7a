/**
 * Reading what an evaluation needs from GitHub. Invariant 1: the policy and CODEOWNERS come from the base branch
 * at the base commit recorded in the event, never from the PR head.
 */
import { LRUCache } from "lru-cache";
import type { GitHubPort, RepoRef } from "../github/port.js";
import { CODEOWNERS_LOCATIONS, loadCodeowners } from "../policy/codeowners.js";
import type { Codeowners, CodeownersLocation } from "../policy/codeowners.js";
import { POLICY_PATH, defaultPolicy, parsePolicy } from "../policy/config.js";
import type { ParsePolicyResult, PolicyError, ResolvedPolicy } from "../policy/config.js";
import { MAX_POLICY_BYTES } from "../shared/limits.js";

export type PolicyLoad =
  | { ok: true; policy: ResolvedPolicy; source: { source: string; ref: string } }
  | { ok: false; errors: PolicyError[]; source: { source: string; ref: string } };

/** The org-wide default lives in the owner's `.github` repository, on its default branch. */
export const ORG_POLICY_REPO = ".github";

/**
 * The repository's policy at `baseSha`; else the organisation's default; else the recommended preset.
 * @throws {GitHubApiError} when GitHub cannot say whether a policy exists (anything but 404).
 */
export async function loadPolicy(github: GitHubPort, repo: RepoRef, baseSha: string): Promise<PolicyLoad> {
  const own = await github.getFileText(repo, POLICY_PATH, baseSha);
  if (own !== null) return parsed(own, POLICY_PATH, { source: POLICY_PATH, ref: baseSha });
  if (repo.repo.toLowerCase() !== ORG_POLICY_REPO) {
    // Not installed on the .github repository answers 404 too: then the preset applies.
    const org = await github.getFileText({ owner: repo.owner, repo: ORG_POLICY_REPO }, POLICY_PATH);
    if (org !== null) {
      const file = `${repo.owner}/${ORG_POLICY_REPO}:${POLICY_PATH}`;
      return parsed(org, file, { source: file, ref: "default branch" });
    }
  }
  return { ok: true, policy: PRESET, source: { source: "recommended preset (no policy file)", ref: baseSha } };
}

/**
 * Parsed policies by file name and text. Every event of a repository reads its policy again (a 304 after the
 * first), and parsing it again (YAML, the schema, the preset merge) took 2.6 % of the server's CPU under load
 * (V8 profile of the warm burst of docs/benchmarks.md section 3a). A policy is plain data, shared by every
 * evaluation that reads the same text, so it is frozen: code that tried to change it would throw instead of
 * leaking into the next evaluation. Bounded by the characters kept (a policy may be up to MAX_POLICY_BYTES).
 */
const parsedPolicies = new LRUCache<string, ParsePolicyResult>({ maxSize: 16 * MAX_POLICY_BYTES, sizeCalculation: (_value, key) => key.length });
const PRESET: ResolvedPolicy = deepFreeze(defaultPolicy());

/** `parsePolicy`, from the cache above when this file name and text were parsed before (the result is frozen). */
export function parsePolicyOnce(text: string, file: string): ParsePolicyResult {
  const key = `${file}\n${text}`;
  let result = parsedPolicies.get(key);
  if (result === undefined) {
    result = deepFreeze(parsePolicy(text, file));
    parsedPolicies.set(key, result);
  }
  return result;
}

function parsed(text: string, file: string, source: { source: string; ref: string }): PolicyLoad {
  const result = parsePolicyOnce(text, file);
  return result.ok ? { ok: true, policy: result.policy, source } : { ok: false, errors: result.errors, source };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * CODEOWNERS at `sha`, from the first of GitHub's three locations that exists (GitHub's own order), so the common
 * `.github/CODEOWNERS` costs one request.
 * @throws {GitHubApiError}
 */
export async function loadCodeownersAt(github: GitHubPort, repo: RepoRef, sha: string): Promise<Codeowners> {
  for (const location of CODEOWNERS_LOCATIONS) {
    const text = await github.getFileText(repo, location, sha);
    if (text !== null) {
      const files: Partial<Record<CodeownersLocation, string>> = { [location]: text };
      return loadCodeowners(files);
    }
  }
  return loadCodeowners({});
}
