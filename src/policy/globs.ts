import picomatch from "picomatch";

/**
 * Path globs for risk rules. Matching is against the full repository path (no leading slash), dot files
 * included, and case-insensitive: a risk rule that over-matches costs a label, one that under-matches
 * (`Dockerfile` vs `dockerfile` on a case-insensitive checkout) lets a sensitive file through. CODEOWNERS
 * matching is separate and case-sensitive, as on GitHub.
 */
export const GLOB_OPTIONS = { dot: true, nocase: true } as const;

export const MAX_GLOB_LENGTH = 1000;

type Matcher = (path: string) => boolean;

// Compiling a glob costs far more than testing one; policies are parsed once per event but evaluated over
// thousands of files, so compiled matchers are memoised by their pattern list.
const cache = new Map<string, Matcher>();
const CACHE_LIMIT = 2000;

/** A single matcher for any of `globs`; `[]` matches nothing. */
export function globMatcher(globs: readonly string[]): Matcher {
  if (globs.length === 0) return () => false;
  const key = globs.join("\u0000");
  let m = cache.get(key);
  if (!m) {
    // One alternation instead of picomatch's list of matchers: a rule has dozens of globs and a pull request
    // thousands of files, and one regex test per path is several times faster than one per glob.
    const sources = globs.map((g) => picomatch.makeRe(g, GLOB_OPTIONS).source);
    const re = new RegExp(sources.map((src) => `(?:${src})`).join("|"), "i");
    m = (path: string) => re.test(path);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, m);
  }
  return m;
}

/** Why a glob is unusable, or null when it compiles. */
export function globProblem(glob: string): string | null {
  if (glob.length === 0) return "a glob cannot be empty";
  if (glob.length > MAX_GLOB_LENGTH) return `a glob can be at most ${MAX_GLOB_LENGTH} characters`;
  if (glob.startsWith("/")) return "globs match repository paths, which have no leading slash";
  if (glob.startsWith("!")) return "negated globs are not supported; use excludePaths";
  try {
    picomatch.makeRe(glob, GLOB_OPTIONS);
  } catch (e) {
    return `invalid glob: ${e instanceof Error ? e.message : String(e)}`;
  }
  return null;
}
