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
  const reader = new RegexReader(source);
  try {
    const required = reader.sequence();
    return reader.done() ? required : [];
  } catch (e) {
    if (e instanceof Unhandled) return [];
    throw e;
  }
}

/** One sequence's state while it is read: the literals required so far, the literal run being built. */
class Sequence {
  private readonly alternatives: string[][][] = [];
  private required: string[][] = [];
  private run = "";
  private lastIsLiteral = false;

  literal(c: string): void {
    this.run += c;
    this.lastIsLiteral = true;
  }

  /** Ends the current literal run (a class, an anchor, a group or a quantifier breaks it). */
  flush(): void {
    if (this.run) this.required.push([this.run]);
    this.run = "";
    this.lastIsLiteral = false;
  }

  /** A quantifier follows: the atom before it may be absent or repeated, so it is no literal of the run. */
  quantified(): void {
    if (this.lastIsLiteral) this.run = this.run.slice(0, -1);
    this.flush();
  }

  require(entries: readonly string[][]): void {
    this.required.push(...entries);
  }

  /** A `|`: what was required so far is one alternative. */
  branch(): void {
    this.flush();
    this.alternatives.push(this.required);
    this.required = [];
  }

  result(): string[][] {
    this.flush();
    if (this.alternatives.length === 0) return this.required;
    // Whichever alternative matched, its own literals are there: one of each alternative's best will be.
    const any = new Set<string>();
    for (const alternative of [...this.alternatives, this.required]) {
      const best = bestLiterals(alternative, 1);
      if (!best) return [];
      for (const l of best) any.add(l);
    }
    return [[...any]];
  }
}

/** Reads a regex source left to right; throws `Unhandled` at whatever it does not understand. */
class RegexReader {
  private i = 0;

  constructor(private readonly source: string) {}

  done(): boolean {
    return this.i === this.source.length;
  }

  /** A sequence up to an unmatched `)` or the end. */
  sequence(): string[][] {
    const seq = new Sequence();
    while (this.i < this.source.length) {
      const c = this.source[this.i]!;
      if (c === ")") break;
      this.step(c, seq);
    }
    return seq.result();
  }

  private step(c: string, seq: Sequence): void {
    if (c === "|") {
      seq.branch();
      this.i++;
    } else if (c === "*" || c === "+" || c === "?" || c === "{") {
      // A quantifier (or a lazy marker after one).
      seq.quantified();
      this.quantifier(c);
    } else if (c === "\\") {
      this.escape(seq);
    } else if (c === "[") {
      seq.flush();
      this.characterClass();
    } else if (c === "(") {
      seq.flush();
      this.group(seq);
    } else if (c < "\x20" || c > "\x7e" || c === "." || c === "^" || c === "$" || c === "]" || c === "}") {
      seq.flush();
      this.i++;
    } else {
      seq.literal(c.toLowerCase());
      this.i++;
    }
  }

  private quantifier(c: string): void {
    if (c !== "{") {
      this.i++;
      return;
    }
    const q = /^\{\d+(?:,\d*)?\}/.exec(this.source.slice(this.i, this.i + 40));
    if (!q) throw new Unhandled();
    this.i += q[0].length;
  }

  private escape(seq: Sequence): void {
    const e = this.source[this.i + 1];
    if (e !== undefined && /^[dDwWsSbB]$/.test(e)) {
      // A class or a word-boundary assertion: no literal, and it ends the run.
      seq.flush();
    } else if (e !== undefined && /^[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(e)) {
      // Escaped punctuation stands for itself.
      seq.literal(e);
    } else {
      // Other letter and digit escapes (code points, back references, control characters): not handled.
      throw new Unhandled();
    }
    this.i += 2;
  }

  private characterClass(): void {
    this.i++;
    if (this.source[this.i] === "^") this.i++;
    while (this.i < this.source.length && this.source[this.i] !== "]") this.i += this.source[this.i] === "\\" ? 2 : 1;
    if (this.i >= this.source.length) throw new Unhandled();
    this.i++;
  }

  private group(seq: Sequence): void {
    const lookaround = this.groupOpening();
    const inner = this.sequence();
    if (this.source[this.i] !== ")") throw new Unhandled();
    this.i++;
    const quantified = this.i < this.source.length && "*+?{".includes(this.source[this.i]!);
    if (!lookaround && !quantified) seq.require(inner);
  }

  /** Steps over a group's opening; true for a lookaround (its literals need not be in the match). */
  private groupOpening(): boolean {
    const { source, i } = this;
    if (source.startsWith("(?:", i)) {
      this.i += 3;
      return false;
    }
    if (source.startsWith("(?=", i) || source.startsWith("(?!", i)) {
      this.i += 3;
      return true;
    }
    if (source.startsWith("(?<=", i) || source.startsWith("(?<!", i)) {
      this.i += 4;
      return true;
    }
    if (source[i + 1] === "?") throw new Unhandled();
    this.i++;
    return false;
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
