/**
 * Cross-check of what the agent reported changing against what the pull request changes (invariant 7:
 * files changed but not reported are flagged).
 */
import type { Trace } from "./model.js";
import { normalizePath } from "./util.js";

export interface PullRequestFile {
  filename: string;
  previous_filename?: string;
}

export interface CrossCheckResult {
  /** Files the pull request changes that the telemetry never reported (for a rename: the new path was not reported). */
  unreported: string[];
  /** Files the telemetry reported changing that the pull request does not contain (under either of its paths). */
  notInPullRequest: string[];
  /** True when the trace's file list hit its cap: some "unreported" files may have been reported past it. */
  incomplete: boolean;
}

/** Resolves a reported path against the PR's paths: exact, or an absolute path that ends with `/<pr path>`. */
function resolver(prPaths: Set<string>): (p: string) => string | undefined {
  return (p: string) => {
    if (prPaths.has(p)) return p;
    if (p.startsWith("/")) {
      for (let i = p.indexOf("/", 1); i !== -1; i = p.indexOf("/", i + 1)) {
        const suffix = p.slice(i + 1);
        if (prPaths.has(suffix)) return suffix;
      }
    }
    return undefined;
  };
}

export function crossCheck(trace: Trace, prFiles: ReadonlyArray<PullRequestFile>): CrossCheckResult {
  const prPaths = new Set<string>();
  for (const f of prFiles) {
    prPaths.add(f.filename);
    if (f.previous_filename) prPaths.add(f.previous_filename);
  }
  const resolve = resolver(prPaths);
  const reported = new Set<string>();
  const notInPullRequest: string[] = [];
  for (const f of trace.files.paths) {
    const p = normalizePath(f.path);
    const hit = resolve(p);
    if (hit !== undefined) reported.add(hit);
    else notInPullRequest.push(p);
    if (f.previousPath !== undefined) {
      const prev = resolve(normalizePath(f.previousPath));
      if (prev !== undefined) reported.add(prev);
    }
  }
  const unreported = prFiles.filter((f) => !reported.has(f.filename)).map((f) => f.filename);
  return {
    unreported: [...new Set(unreported)].sort(),
    notInPullRequest: [...new Set(notInPullRequest)].sort(),
    incomplete: trace.files.truncated,
  };
}
