import { parseCodeowners } from "../../src/policy/codeowners.js";
import type { Codeowners } from "../../src/policy/codeowners.js";
import { defaultPolicy, parsePolicy } from "../../src/policy/config.js";
import type { ResolvedPolicy } from "../../src/policy/config.js";
import type { ChangedFile, PullRequestFacts, Review } from "../../src/policy/types.js";

export const HEAD = "a".repeat(40);
export const OLD = "b".repeat(40);

/** A modified text file with a one-line patch unless told otherwise. */
export function file(filename: string, extra: Partial<ChangedFile> = {}): ChangedFile {
  return { filename, status: "modified", additions: 1, deletions: 0, changes: 1, patch: "@@ -1,1 +1,2 @@\n context\n+added line", ...extra };
}

/** A file whose patch adds the given lines at the top of the file. */
export function withAdded(filename: string, lines: string[], extra: Partial<ChangedFile> = {}): ChangedFile {
  const patch = `@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join("\n")}`;
  return { filename, status: "modified", additions: lines.length, deletions: 0, changes: lines.length, patch, ...extra };
}

export function pr(extra: Partial<PullRequestFacts> = {}): PullRequestFacts {
  return { author: "copilot-swe-agent[bot]", authorType: "Bot", baseRef: "main", headRef: "copilot/fix-1", headSha: HEAD, labels: [], ...extra };
}

export function review(reviewer: string, state: Review["state"], extra: Partial<Review> = {}): Review {
  return { reviewer, state, commitId: HEAD, submittedAt: "2025-01-01T10:00:00Z", ...extra };
}

export function policy(yaml?: string): ResolvedPolicy {
  if (yaml === undefined) return defaultPolicy();
  const r = parsePolicy(yaml);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`).join("\n"));
  return r.policy;
}

export function codeowners(text: string, path = ".github/CODEOWNERS"): Codeowners {
  return parseCodeowners(text, { path });
}
