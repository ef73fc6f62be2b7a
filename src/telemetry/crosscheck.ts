/**
 * Cross-check of what the agent reported changing against what the pull request changes (invariant 7), both ways:
 * files changed but never reported, and files reported but not in the diff. For an unreported file, the commands the
 * agent ran that name it (`sed -i … README.md`), or else that run a script or apply a patch, are its likely sources.
 */
import type { CommandStep, Trace } from "./model.js";
import { normalizePath } from "./util.js";

export interface PullRequestFile {
  filename: string;
  previous_filename?: string | undefined;
}

export interface LikelySource {
  path: string;
  /** Commands as the agent ran them (redacted, truncated like every stored step), at most MAX_SOURCES. */
  commands: string[];
  /** True when the commands name the file; false when they only run a script or apply a patch. */
  namesFile: boolean;
}

export interface CrossCheckResult {
  /** Files the pull request changes that the telemetry never reported (for a rename: the new path was not reported). */
  unreported: string[];
  /** Files the telemetry reported changing that the pull request does not contain (under either of its paths). */
  notInPullRequest: string[];
  /** True when the trace's file list hit its cap: some "unreported" files may have been reported past it. */
  incomplete: boolean;
  /** For unreported files the transcript can explain: the commands that likely changed them. */
  likelySources: LikelySource[];
}

const MAX_SOURCES = 3;
/** Commands that change files without naming them: patches, checkouts and scripts. */
const RUNS_SOMETHING = /(?:^|[\s;&|(])(?:git\s+(?:apply|am|checkout|restore|cherry-pick|merge|pull|stash|revert|reset)|patch|python3?|node|npx|npm|pnpm|yarn|bun|deno|ruby|perl|php|go\s+run|cargo|make|bash|sh|zsh|\.\/[\w.-]+)(?=$|[\s;&|)])/;

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

/** Path-like words of a command (split on blanks, quotes and shell operators), each with `./` and leading `/…/` forms dropped. */
function words(command: string): Set<string> {
  const out = new Set<string>();
  for (const raw of command.split(/[\s"'`;&|<>()=,]+/)) {
    if (raw === "" || raw.length > 500) continue;
    const w = normalizePath(raw);
    out.add(w);
    const slash = w.lastIndexOf("/");
    if (slash !== -1 && slash < w.length - 1) out.add(w.slice(slash + 1));
  }
  return out;
}

/**
 * The commands that likely changed each unreported file. Commands are indexed by their words once, so the cost is
 * linear in the commands' length plus the number of files.
 */
function likelySourcesOf(commands: CommandStep[], unreported: string[]): LikelySource[] {
  const byWord = new Map<string, string[]>();
  for (const c of commands) {
    for (const w of words(c.command)) {
      const list = byWord.get(w) ?? [];
      if (list.length < MAX_SOURCES && !list.includes(c.command)) list.push(c.command);
      byWord.set(w, list);
    }
  }
  const naming = new Map<string, string[]>();
  for (const path of unreported) {
    const slash = path.lastIndexOf("/");
    const found = byWord.get(path) ?? (slash === -1 ? undefined : byWord.get(path.slice(slash + 1)));
    if (found && found.length > 0) naming.set(path, found);
  }
  // A script or patch that names no unreported file may still have written one.
  const named = new Set([...naming.values()].flat());
  const runners = [...new Set(commands.map((c) => c.command).filter((c) => !named.has(c) && RUNS_SOMETHING.test(c)))].slice(0, MAX_SOURCES);
  return unreported.flatMap((path): LikelySource[] => {
    const found = naming.get(path);
    if (found) return [{ path, commands: found, namesFile: true }];
    return runners.length > 0 ? [{ path, commands: runners, namesFile: false }] : [];
  });
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
  const unreported = [...new Set(prFiles.filter((f) => !reported.has(f.filename)).map((f) => f.filename))].sort();
  // The sandbox action's own commands (git add, commit, push) touch every file and explain nothing.
  const commands = trace.steps.filter((s): s is CommandStep => s.kind === "command" && s.by !== "action");
  return {
    unreported,
    notInPullRequest: [...new Set(notInPullRequest)].sort(),
    incomplete: trace.files.truncated,
    likelySources: likelySourcesOf(commands, unreported),
  };
}
