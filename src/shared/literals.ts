/**
 * Literals a regex cannot match without: a cheap test that rules a string out before the regex itself runs.
 * Used where many slow regexes meet many strings (risk globs over thousands of paths, secret patterns over
 * every added line).
 */

export function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/** A regex construct the analysis below does not handle: it then proves nothing at all. */
class Unhandled extends Error {}

/**
 * What every string matching a regex contains: each entry is a set of literals (lowercased, printable ASCII)
 * of which the string holds at least one. `a(?:bc|de)f` gives `[["a"], ["bc", "de"], ["f"]]`.
 *
 * For a regex compiled without the `u` flag, with or without `i`. Read from a compiled regex (for globs,
 * picomatch's output rather than the glob, so its own rules, `./` prefixes, braces, extglobs, `**` matching zero
 * segments, cannot make a literal wrong); whatever is not understood proves nothing, which costs speed, never a
 * match.
 *
 * A string the regex matches holds the literals case-insensitively: test `s.toLowerCase().includes(literal)`,
 * or the literals as an `i` regex on `s`. Why lowercase and ASCII are safe: without `u`, `i` never matches a
 * non-ASCII character to an ASCII one, and `toLowerCase` maps ASCII letters alone, so an ASCII run present in
 * `s` case-insensitively is present, lowercased, in `s.toLowerCase()`.
 */
export function requiredLiterals(source: string): string[][] {
  let i = 0;
  // A sequence up to an unmatched `)` or the end.
  const sequence = (): string[][] => {
    const alternatives: string[][][] = [];
    let required: string[][] = [];
    let run = "";
    let lastIsLiteral = false;
    const flush = () => {
      if (run) required.push([run]);
      run = "";
      lastIsLiteral = false;
    };
    while (i < source.length) {
      const c = source[i]!;
      if (c === ")") break;
      if (c === "|") {
        flush();
        alternatives.push(required);
        required = [];
        i++;
      } else if (c === "*" || c === "+" || c === "?" || c === "{") {
        // A quantifier (or a lazy marker after one): the atom before it may be absent or repeated.
        if (lastIsLiteral) run = run.slice(0, -1);
        flush();
        if (c === "{") {
          const q = /^\{\d+(?:,\d*)?\}/.exec(source.slice(i, i + 40));
          if (!q) throw new Unhandled();
          i += q[0].length;
        } else i++;
      } else if (c === "\\") {
        const e = source[i + 1];
        if (e !== undefined && /^[dDwWsSbB]$/.test(e)) {
          // A class or a word-boundary assertion: no literal, and it ends the run.
          flush();
        } else if (e !== undefined && /^[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(e)) {
          // Escaped punctuation stands for itself.
          run += e;
          lastIsLiteral = true;
        } else {
          // Other letter and digit escapes (code points, back references, control characters): not handled.
          throw new Unhandled();
        }
        i += 2;
      } else if (c === "[") {
        flush();
        i++;
        if (source[i] === "^") i++;
        while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
        if (i >= source.length) throw new Unhandled();
        i++;
      } else if (c === "(") {
        flush();
        let lookaround = false;
        if (source.startsWith("(?:", i)) {
          i += 3;
        } else if (source.startsWith("(?=", i) || source.startsWith("(?!", i)) {
          i += 3;
          lookaround = true;
        } else if (source.startsWith("(?<=", i) || source.startsWith("(?<!", i)) {
          i += 4;
          lookaround = true;
        } else if (source[i + 1] === "?") {
          throw new Unhandled();
        } else {
          i++;
        }
        const inner = sequence();
        if (source[i] !== ")") throw new Unhandled();
        i++;
        const quantified = i < source.length && "*+?{".includes(source[i]!);
        if (!lookaround && !quantified) required.push(...inner);
      } else if (c < "\x20" || c > "\x7e" || c === "." || c === "^" || c === "$" || c === "]" || c === "}") {
        flush();
        i++;
      } else {
        run += c.toLowerCase();
        lastIsLiteral = true;
        i++;
      }
    }
    flush();
    if (alternatives.length === 0) return required;
    alternatives.push(required);
    // Whichever alternative matched, its own literals are there: one of each alternative's best will be.
    const any = new Set<string>();
    for (const alternative of alternatives) {
      const best = bestLiterals(alternative, 1);
      if (!best) return [];
      for (const l of best) any.add(l);
    }
    return [[...any]];
  };
  try {
    const required = sequence();
    return i === source.length ? required : [];
  } catch (e) {
    if (e instanceof Unhandled) return [];
    throw e;
  }
}

/**
 * The most selective entry of `required`: the one whose shortest literal is longest (then the one with fewest
 * literals); null when none has literals of at least `minLength` characters (shorter ones are in nearly every
 * string and filter nothing out).
 */
export function bestLiterals(required: readonly string[][], minLength: number): string[] | null {
  let best: string[] | null = null;
  let bestShortest = 0;
  for (const set of required) {
    if (set.length === 0) continue;
    const shortest = Math.min(...set.map((l) => l.length));
    if (shortest < minLength) continue;
    if (!best || shortest > bestShortest || (shortest === bestShortest && set.length < best.length)) {
      best = set;
      bestShortest = shortest;
    }
  }
  return best;
}

/**
 * A test for "holds at least one of `literals`" (case-insensitively when `caseInsensitive`), built for long
 * texts such as whole patches. Literals that hold a shorter one are dropped (the shorter one is found first),
 * and the rest are split by length: irregexp skips ahead by the shortest alternative of a regex, so one
 * alternation with `gh` in it crawls through a megabyte of diff where three alternations by length run
 * about twice as fast between them.
 */
export function literalTester(literals: readonly string[], caseInsensitive: boolean): (text: string) => boolean {
  const fold = (l: string) => (caseInsensitive ? l.toLowerCase() : l);
  const unique = [...new Set(literals.map(fold))].filter((l) => l.length > 0);
  const kept = unique.filter((l) => !unique.some((other) => other !== l && l.includes(other)));
  if (kept.length === 0) return () => false;
  const buckets = [kept.filter((l) => l.length <= 3), kept.filter((l) => l.length === 4), kept.filter((l) => l.length >= 5)];
  const res = buckets.filter((b) => b.length > 0).map((b) => new RegExp(b.map(escapeRegExp).join("|"), caseInsensitive ? "i" : ""));
  return (text: string) => {
    for (const re of res) if (re.test(text)) return true;
    return false;
  };
}
