import picomatch from "picomatch";
import { bestLiterals, escapeRegExp, requiredLiterals } from "../shared/literals.js";

/**
 * Path globs for risk rules. Matching is against the full repository path (no leading slash), dot files
 * included, and case-insensitive: a risk rule that over-matches costs a label, one that under-matches
 * (`Dockerfile` vs `dockerfile` on a case-insensitive checkout) lets a sensitive file through. CODEOWNERS
 * matching is separate and case-sensitive, as on GitHub.
 */
export const GLOB_OPTIONS = { dot: true, nocase: true } as const;

export const MAX_GLOB_LENGTH = 1000;

/**
 * Tests one path. `lower` is `path.toLowerCase()`, passed by callers that test the same path against many
 * matchers so it is computed once.
 */
export type Matcher = (path: string, lower?: string) => boolean;

// Compiling a glob costs far more than testing one; policies are parsed once per event but evaluated over
// thousands of files, so compiled matchers are memoised by their pattern list.
const cache = new Map<string, Matcher>();
const CACHE_LIMIT = 2000;

/** Literals shorter than this are in nearly every path and filter nothing out. */
const MIN_LITERAL = 2;

/**
 * A single matcher for any of `globs`; `[]` matches nothing.
 *
 * picomatch's regexes are slow per path (a lookahead at every character, a retry after every slash), and a
 * risk rule has dozens of globs tested against thousands of paths. Most globs need a literal the path must
 * contain (`package-lock.json`, `.tf`, `.github/workflows`), so one regex of plain literals over the lowercased
 * path rules out nearly every path at once; only a glob whose literal is present is tested in full. Globs
 * without such a literal (the security-code rule's `{auth,sso,...}.*`) are tested in full every time, as one
 * alternation.
 */
export function globMatcher(globs: readonly string[]): Matcher {
  if (globs.length === 0) return () => false;
  const key = globs.join("\u0000");
  let m = cache.get(key);
  if (!m) {
    m = compile(globs);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, m);
  }
  return m;
}

function compile(globs: readonly string[]): Matcher {
  const always: string[] = [];
  const filtered: Array<{ literals: string[]; re: RegExp }> = [];
  for (const glob of globs) {
    const source = picomatch.makeRe(glob, GLOB_OPTIONS).source;
    const literals = bestLiterals(requiredLiterals(source), MIN_LITERAL);
    if (literals) filtered.push({ literals, re: new RegExp(source, "i") });
    else always.push(source);
  }
  // Every alternative is anchored (`^...$`), so the alternation matches exactly when one of the globs does.
  const full = always.length > 0 ? new RegExp(always.map((src) => `(?:${src})`).join("|"), "i") : null;
  const anyLiteral = filtered.length > 0 ? new RegExp([...new Set(filtered.flatMap((f) => f.literals.map(escapeRegExp)))].join("|")) : null;
  return (path: string, lower?: string) => {
    if (full?.test(path)) return true;
    if (!anyLiteral) return false;
    const l = lower ?? path.toLowerCase();
    if (!anyLiteral.test(l)) return false;
    for (const f of filtered) if (f.literals.some((literal) => l.includes(literal)) && f.re.test(path)) return true;
    return false;
  };
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
