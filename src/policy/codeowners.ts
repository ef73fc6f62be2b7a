/**
 * CODEOWNERS parsing and matching with GitHub's documented semantics
 * (docs.github.com, "About code owners"):
 *
 * - gitignore-style patterns, except that `!` negation, `[ ]` character ranges and escaping a leading `#`
 *   with `\` do not work. Lines using them are reported as errors and skipped, as GitHub skips invalid lines.
 * - The last matching line wins; a matching line without owners clears ownership.
 * - Paths are case-sensitive. A leading `/` anchors to the root; a pattern with no slash, or only a trailing
 *   one, matches at any depth; a slash in the middle anchors like a leading one (gitignore).
 * - A trailing `/` matches everything beneath the directory; `*` and `?` do not cross `/`, `**` does.
 * - A pattern also matches everything beneath what it names (`/apps/github` owns `apps/github/x.js`), EXCEPT a
 *   last segment that is a lone `*`: GitHub documents that `docs/*` matches `docs/getting-started.md` but not
 *   `docs/build-app/troubleshooting.md` (plain gitignore would match both). With a `**` segment before the
 *   final `*` (docs, then `**`, then `*`) the pattern still reaches every depth.
 * - Where the docs are silent, gitignore decides: `**` inside a segment is a plain `*`; `a/**` followed by a
 *   trailing slash names the directories beneath `a`, so it owns `a/x/f` but not `a/f`; `\` escapes any
 *   character (`\ ` for spaces, `\[` and `\]` for brackets, as GitHub's own error message asks).
 * - Owners are `@user`, `@org/team` or an email address; `#` starts an inline comment after the pattern.
 * - Locations `.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS`, first found wins; a file of 3 MB or more
 *   is not loaded at all.
 *
 * Why not picomatch or `ignore`: neither implements GitHub's deviations (the `docs/*` rule, the unsupported
 * syntax that must be rejected, not interpreted), and both compile to backtracking regexes, which a hostile
 * `*a*a*a*a*b` pattern can make very slow (polynomial in the path length). The matcher below is the classic
 * two-pointer wildcard algorithm, applied once over path segments (for `**`) and once over characters (for `*`
 * and `?`): O(n·m) worst case.
 *
 * Speed: rules are indexed by their literal parts (a trie over anchored literal leading directories; buckets by
 * exact segment name, literal suffix and literal prefix for the rest), so a path is tested only against the
 * few rules whose literal parts it contains, not against every line.
 */

export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;
export type CodeownersLocation = (typeof CODEOWNERS_LOCATIONS)[number];

/** A file of this many bytes or more is not loaded, as on GitHub ("CODEOWNERS files must be under 3 MB"). */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

/** Error `text` is cut to this many characters so a hostile line cannot flood a check-run summary. */
export const CODEOWNERS_ERROR_TEXT_MAX = 500;

export interface CodeownersError {
  /** 1-based line number in the file. */
  line: number;
  /** Why the line was skipped, one sentence. */
  message: string;
  /** The line as written (without the line break), cut to CODEOWNERS_ERROR_TEXT_MAX characters. */
  text: string;
  /** 1-based column where the problem starts, when known. */
  column?: number | undefined;
}

/** `owners` is `[]` for a matching line with no owners: ownership deliberately cleared. */
export interface OwnershipMatch {
  owners: string[];
  /** 1-based line number of the winning (last matching) line. */
  line: number;
  /** The pattern as written in the file. */
  pattern: string;
}

/** One valid line of the file. */
export interface CodeownersRule {
  line: number;
  pattern: string;
  owners: string[];
}

export interface Codeowners {
  /** Which location it came from (null = none found, or parsed from text with no path given). */
  path: string | null;
  /** true => not loaded, no rules, as on GitHub; callers must say so. */
  tooLarge: boolean;
  /** Invalid lines, reported and skipped as GitHub skips them. */
  errors: CodeownersError[];
  ruleCount: number;
  /** The valid lines, in file order. */
  rules: readonly CodeownersRule[];
  /** The last matching line for a repository path (no leading slash), or null when no line matches. */
  ownersOf(file: string): OwnershipMatch | null;
  /** Diagnostics for benchmarks: how many single-pattern tests `ownersOf` has run so far. */
  readonly stats: { patternTests: number; lookups: number };
}

// ---------------------------------------------------------------------------------------------------------
// Owners

const USER_RE = /^@[A-Za-z0-9][A-Za-z0-9_-]*$/;
const TEAM_RE = /^@[A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const EMAIL_RE =
  /^[A-Za-z0-9.!#$%&'*+=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const MAX_OWNER_LENGTH = 320;

/** An owner string is valid: @user, @org/team, or an email. */
/** The owner forms, for the policy's JSON Schema (which must accept exactly what isValidOwner accepts). */
export const OWNER_FORMS = { patterns: [USER_RE, TEAM_RE, EMAIL_RE] as readonly RegExp[], maxLength: MAX_OWNER_LENGTH } as const;

export function isValidOwner(owner: string): boolean {
  if (owner.length === 0 || owner.length > MAX_OWNER_LENGTH) return false;
  return USER_RE.test(owner) || TEAM_RE.test(owner) || EMAIL_RE.test(owner);
}

// ---------------------------------------------------------------------------------------------------------
// Patterns
//
// A pattern compiles to a list of elements matched against the path's segments:
//   STAR      zero or more segments (`**`, and the implicit "and everything beneath")
//   ANY       exactly one segment (a lone `*`; also the first segment a trailing `/` or `/**` demands)
//   literal   one segment, exactly this text
//   glob      one segment, with `*` (any run of characters) and `?` (one character), never crossing `/`

type Element =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "literal"; text: string }
  | { kind: "glob"; tokens: GlobToken[]; prefix: string; suffix: string };

/** A literal UTF-16 code unit, or -1 for `*`, -2 for `?`. */
type GlobToken = number;
const TOKEN_STAR = -1;
const TOKEN_QMARK = -2;

const STAR: Element = { kind: "star" };
const ANY: Element = { kind: "any" };

/** Segment-level tokens while scanning: a literal character, `*`, `?`. */
type ScanToken = { t: "char"; c: string } | { t: "star" } | { t: "qmark" };

type CompileResult = { ok: true; elements: Element[] } | CompileError;

type CompileError = { ok: false; message: string; column: number };

function compilePattern(raw: string): CompileResult {
  const unsupported = unsupportedPattern(raw);
  if (unsupported) return unsupported;
  const scanned = scanSegments(raw);
  if (!scanned.ok) return scanned;
  const shape = patternShape(raw, scanned.segments);
  if (!shape.ok) return shape;
  return { ok: true, elements: normalise(patternElements(shape)) };
}

/** Whole-pattern forms CODEOWNERS does not support. */
function unsupportedPattern(raw: string): CompileError | null {
  if (raw.startsWith("!")) {
    return { ok: false, column: 1, message: 'Negation with "!" is not supported in CODEOWNERS; the line is ignored.' };
  }
  if (raw.startsWith("\\#")) {
    return {
      ok: false,
      column: 1,
      message: 'Escaping a leading "#" with "\\" is not supported in CODEOWNERS; the line is ignored.',
    };
  }
  if (raw === "/") {
    return { ok: false, column: 1, message: 'The pattern "/" never matches anything; use "*" for every file.' };
  }
  return null;
}

/** Splits into segments, resolving backslash escapes (`\ `, `\*`, `\[`, ...) into literal characters. */
function scanSegments(raw: string): { ok: true; segments: ScanToken[][] } | CompileError {
  const segments: ScanToken[][] = [[]];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    const current = segments[segments.length - 1]!;
    if (ch === "\\") {
      const next = raw.codePointAt(i + 1);
      if (next === undefined) {
        return { ok: false, column: i + 1, message: 'The pattern ends with an unfinished escape "\\".' };
      }
      const c = String.fromCodePoint(next);
      current.push({ t: "char", c });
      i += c.length;
    } else if (ch === "[" || ch === "]") {
      return {
        ok: false,
        column: i + 1,
        message: 'Character ranges with "[ ]" are not supported in CODEOWNERS; escape "[" and "]" with "\\" to match them literally.',
      };
    } else if (ch === "*") {
      if (raw[i + 1] === "*" && raw[i + 2] === "*") {
        return { ok: false, column: i + 1, message: 'Three or more consecutive "*" are not a valid pattern.' };
      }
      current.push({ t: "star" });
    } else if (ch === "?") {
      current.push({ t: "qmark" });
    } else if (ch === "/") {
      segments.push([]);
    } else {
      // Whole code points, so that a glob compares characters, not UTF-16 halves.
      const c = String.fromCodePoint(raw.codePointAt(i)!);
      current.push({ t: "char", c });
      i += c.length - 1;
    }
  }
  return { ok: true, segments };
}

interface PatternShape {
  ok: true;
  segments: ScanToken[][];
  anchored: boolean;
  trailingSlash: boolean;
}

/** Leading and trailing slashes taken off and read: anchoring, "directories only". */
function patternShape(raw: string, scanned: ScanToken[][]): PatternShape | CompileError {
  const segments = [...scanned];
  let anchored = false;
  if (segments[0]!.length === 0) {
    anchored = true; // leading slash
    segments.shift();
  }
  let trailingSlash = false;
  if (segments.length > 1 && segments[segments.length - 1]!.length === 0) {
    trailingSlash = true;
    segments.pop();
  }
  const emptyAt = segments.findIndex((s) => s.length === 0);
  if (emptyAt !== -1 || segments.length === 0) {
    return { ok: false, column: raw.indexOf("//") + 1 || 1, message: 'The pattern has an empty path segment ("//").' };
  }
  // gitignore: a slash at the beginning or in the middle anchors the pattern; otherwise it matches at any depth.
  if (!anchored && segments.length > 1) anchored = true;
  return { ok: true, segments, anchored, trailingSlash };
}

const isGlobstar = (s: ScanToken[]) => s.length === 2 && s[0]!.t === "star" && s[1]!.t === "star";
const isLoneStar = (s: ScanToken[]) => s.length === 1 && s[0]!.t === "star";

/** The elements of a shaped pattern (adjacent STARs not yet collapsed). */
function patternElements({ segments, anchored, trailingSlash }: PatternShape): Element[] {
  const elements: Element[] = [];
  if (!anchored) elements.push(STAR);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (isGlobstar(seg)) {
      if (last && !trailingSlash) {
        // A trailing `/**` (or a lone `**`) matches everything beneath, but not the directory itself.
        pushStar(elements);
        elements.splice(elements.length - 1, 0, ANY);
        return elements;
      }
      pushStar(elements);
      // `dir/**/` names the directories beneath dir (at least one level), as in gitignore; their contents
      // follow from the trailing slash below. So `a/**/` owns `a/x/f` but not `a/f`.
      if (last) elements.push(ANY);
    } else if (isLoneStar(seg)) {
      elements.push(ANY);
    } else {
      elements.push(segmentElement(seg));
    }
  }
  if (trailingSlash) {
    // `dir/` matches the contents of a directory named `dir`, never a file named `dir`.
    elements.push(ANY, STAR);
  } else {
    const last = segments[segments.length - 1]!;
    // A name also matches everything beneath it (a directory owns its contents), except a lone `*`
    // at the end: GitHub documents that `docs/*` does not match nested files.
    if (!isLoneStar(last)) pushStar(elements);
  }
  return elements;
}

function pushStar(elements: Element[]): void {
  if (elements[elements.length - 1]?.kind !== "star") elements.push(STAR);
}

/** Collapse adjacent STARs (e.g. `**` followed by the implicit one). */
function normalise(elements: Element[]): Element[] {
  const out: Element[] = [];
  for (const e of elements) {
    if (e.kind === "star" && out[out.length - 1]?.kind === "star") continue;
    out.push(e);
  }
  return out;
}

function segmentElement(seg: ScanToken[]): Element {
  if (seg.every((t) => t.t === "char")) {
    return { kind: "literal", text: seg.map((t) => (t.t === "char" ? t.c : "")).join("") };
  }
  const tokens: GlobToken[] = [];
  for (const t of seg) {
    if (t.t === "star") {
      // `**` inside a segment (e.g. `**.js`) is an ordinary `*` (gitignore: "other consecutive asterisks").
      if (tokens[tokens.length - 1] !== TOKEN_STAR) tokens.push(TOKEN_STAR);
    } else if (t.t === "qmark") {
      tokens.push(TOKEN_QMARK);
    } else {
      for (let i = 0; i < t.c.length; i++) tokens.push(t.c.charCodeAt(i));
    }
  }
  let prefix = "";
  for (const t of seg) {
    if (t.t !== "char") break;
    prefix += t.c;
  }
  let suffix = "";
  for (let i = seg.length - 1; i >= 0; i--) {
    const t = seg[i]!;
    if (t.t !== "char") break;
    suffix = t.c + suffix;
  }
  return { kind: "glob", tokens, prefix, suffix };
}

/**
 * Classic wildcard matching with a single backtrack point: O(n·m), no exponential blow-up. Used at two levels:
 * characters within a segment, and segments within a path. `isStar(p)`: pattern item `p` spans any run;
 * `consume(p, s)`: how many units the other item `p` takes at unit `s`, 0 when it does not match there.
 */
function backtrackMatch(length: number, n: number, isStar: (p: number) => boolean, consume: (p: number, s: number) => number): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < n) {
    const star = p < length && isStar(p);
    const taken = p < length && !star ? consume(p, s) : 0;
    if (taken > 0) {
      p++;
      s += taken;
    } else if (star) {
      starP = p++;
      starS = s;
    } else if (starP !== -1) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < length && isStar(p)) p++;
  return p === length;
}

/**
 * A segment against a glob's tokens. Works on UTF-16 units; `?` consumes a whole surrogate pair. A `*` that
 * stops inside a pair can only be followed by a `?` (a literal low surrogate always follows its literal high
 * one), and the aligned split matches the same rest.
 */
function globMatch(tokens: GlobToken[], text: string): boolean {
  const n = text.length;
  return backtrackMatch(
    tokens.length,
    n,
    (p) => tokens[p] === TOKEN_STAR,
    (p, s) => {
      const tok = tokens[p]!;
      if (tok === TOKEN_QMARK) {
        const c = text.charCodeAt(s);
        return c >= 0xd800 && c <= 0xdbff && s + 1 < n && (text.charCodeAt(s + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      }
      return tok === text.charCodeAt(s) ? 1 : 0;
    },
  );
}

function elementMatches(e: Element, segment: string): boolean {
  switch (e.kind) {
    case "literal":
      return e.text === segment;
    case "any":
      return segment.length > 0;
    case "glob":
      return globMatch(e.tokens, segment);
    case "star":
      return true;
  }
}

/** The same algorithm one level up: STAR spans whole segments. */
function elementsMatch(elements: Element[], segments: string[]): boolean {
  return backtrackMatch(
    elements.length,
    segments.length,
    (p) => elements[p]!.kind === "star",
    (p, s) => (elementMatches(elements[p]!, segments[s]!) ? 1 : 0),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Index

/**
 * Rules that apply at one place: `generic` are always tested there; the maps hold rules whose next element is
 * a glob (or, for the floating bucket, any element) with a literal part a path segment must contain.
 */
interface Bucket {
  generic: number[];
  exact: Map<string, number[]> | undefined;
  prefix: Map<string, number[]> | undefined;
  suffix: Map<string, number[]> | undefined;
  /** Which key lengths occur, so a lookup only slices the lengths that can hit. */
  prefixLengths: number[];
  suffixLengths: number[];
}

interface TrieNode {
  children: Map<string, TrieNode> | undefined;
  bucket: Bucket;
}

/**
 * A glob is keyed by the last (or first) up to KEY_LENGTH characters of its literal suffix (or prefix); a segment
 * looks up each of its own tails (heads) of length 1..KEY_LENGTH, so both short and long literals are found.
 */
const KEY_LENGTH = 4;

function newBucket(): Bucket {
  return { generic: [], exact: undefined, prefix: undefined, suffix: undefined, prefixLengths: [], suffixLengths: [] };
}

function addTo(map: Map<string, number[]> | undefined, key: string, rule: number): Map<string, number[]> {
  const m = map ?? new Map<string, number[]>();
  const list = m.get(key);
  if (list) list.push(rule);
  else m.set(key, [rule]);
  return m;
}

/** File a rule under the element a path segment must match next. */
function fileRule(bucket: Bucket, next: Element | undefined, rule: number, allowExact: boolean): void {
  if (next?.kind === "literal" && allowExact) {
    bucket.exact = addTo(bucket.exact, next.text, rule);
  } else if (next?.kind === "glob" && next.suffix.length > 0) {
    const key = next.suffix.slice(-KEY_LENGTH);
    bucket.suffix = addTo(bucket.suffix, key, rule);
    if (!bucket.suffixLengths.includes(key.length)) bucket.suffixLengths.push(key.length);
  } else if (next?.kind === "glob" && next.prefix.length > 0) {
    const key = next.prefix.slice(0, KEY_LENGTH);
    bucket.prefix = addTo(bucket.prefix, key, rule);
    if (!bucket.prefixLengths.includes(key.length)) bucket.prefixLengths.push(key.length);
  } else {
    bucket.generic.push(rule);
  }
}

/** Candidates from a bucket's keyed maps for one path segment. */
function collectKeyed(bucket: Bucket, segment: string | undefined, out: number[]): void {
  if (segment === undefined) return;
  const exact = bucket.exact?.get(segment);
  if (exact) for (const r of exact) out.push(r);
  const { prefix, suffix } = bucket;
  if (suffix) {
    for (const k of bucket.suffixLengths) {
      if (k > segment.length) continue;
      const list = suffix.get(segment.slice(-k));
      if (list) for (const r of list) out.push(r);
    }
  }
  if (prefix) {
    for (const k of bucket.prefixLengths) {
      if (k > segment.length) continue;
      const list = prefix.get(segment.slice(0, k));
      if (list) for (const r of list) out.push(r);
    }
  }
}

interface CompiledRule extends CodeownersRule {
  elements: Element[];
}

class CodeownersIndex implements Codeowners {
  readonly stats = { patternTests: 0, lookups: 0 };
  private readonly root: TrieNode = { children: undefined, bucket: newBucket() };
  private readonly floating: Bucket = newBucket();

  constructor(
    readonly path: string | null,
    readonly tooLarge: boolean,
    readonly errors: CodeownersError[],
    private readonly compiled: CompiledRule[],
  ) {
    compiled.forEach((rule, i) => this.index(rule.elements, i));
  }

  get ruleCount(): number {
    return this.compiled.length;
  }

  get rules(): readonly CodeownersRule[] {
    return this.compiled.map(({ line, pattern, owners }) => ({ line, pattern, owners: [...owners] }));
  }

  private index(elements: Element[], rule: number): void {
    if (elements[0]?.kind === "star") {
      // Floating: the element after the leading STAR must match some segment of the path.
      fileRule(this.floating, elements[1], rule, true);
      return;
    }
    let node = this.root;
    let i = 0;
    for (; i < elements.length; i++) {
      const e = elements[i]!;
      if (e.kind !== "literal") break;
      node.children ??= new Map();
      let child = node.children.get(e.text);
      if (!child) {
        child = { children: undefined, bucket: newBucket() };
        node.children.set(e.text, child);
      }
      node = child;
    }
    fileRule(node.bucket, elements[i], rule, false);
  }

  ownersOf(file: string): OwnershipMatch | null {
    if (this.compiled.length === 0) return null;
    // GitHub paths have no leading slash; tolerate one rather than silently escaping anchored rules.
    const path = file.replace(/^\/+/, "");
    if (path.length === 0) return null;
    const segments = path.split("/");

    const candidates: number[] = [];
    let node: TrieNode | undefined = this.root;
    for (let depth = 0; node; depth++) {
      const next = segments[depth];
      for (const r of node.bucket.generic) candidates.push(r);
      collectKeyed(node.bucket, next, candidates);
      node = next === undefined ? undefined : node.children?.get(next);
    }
    const f = this.floating;
    for (const r of f.generic) candidates.push(r);
    if (f.exact || f.prefix || f.suffix) {
      for (const s of segments) collectKeyed(f, s, candidates);
    }
    this.stats.lookups++;
    if (candidates.length === 0) return null;

    // Highest line first; the first match is the last matching line of the file.
    candidates.sort((a, b) => b - a);
    let previous = -1;
    for (const r of candidates) {
      if (r === previous) continue;
      previous = r;
      const rule = this.compiled[r]!;
      this.stats.patternTests++;
      if (elementsMatch(rule.elements, segments)) {
        return { owners: [...rule.owners], line: rule.line, pattern: rule.pattern };
      }
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\f" || ch === "\v";
}

function clip(text: string, max = CODEOWNERS_ERROR_TEXT_MAX): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** UTF-8 length without allocating when the answer is obvious. */
function utf8Length(text: string): number {
  if (text.length * 3 < CODEOWNERS_MAX_BYTES) return text.length * 3; // an upper bound is enough below the limit
  return new TextEncoder().encode(text).length;
}

/**
 * Parse a CODEOWNERS file. `byteLength` is the file's size as stored (pass it when known; it decides the 3 MB
 * limit). Never throws: invalid lines land in `errors`.
 */
export function parseCodeowners(text: string, options: { path?: string | null; byteLength?: number } = {}): Codeowners {
  const path = options.path ?? null;
  const size = options.byteLength ?? utf8Length(text);
  if (size >= CODEOWNERS_MAX_BYTES) {
    return new CodeownersIndex(path, true, [], []);
  }
  const errors: CodeownersError[] = [];
  const rules: CompiledRule[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  for (let n = 0; n < lines.length; n++) {
    const lineText = lines[n]!;
    const lineNo = n + 1;
    let i = 0;
    while (isSpace(lineText[i])) i++;
    if (i >= lineText.length || lineText[i] === "#") continue;

    // The pattern runs to the first unescaped whitespace.
    const patternStart = i;
    while (i < lineText.length && !isSpace(lineText[i])) {
      i += lineText[i] === "\\" && i + 1 < lineText.length ? 2 : 1;
    }
    const pattern = lineText.slice(patternStart, i);
    const compiled = compilePattern(pattern);
    if (!compiled.ok) {
      errors.push({ line: lineNo, column: patternStart + compiled.column, message: compiled.message, text: clip(lineText) });
      continue;
    }

    // Owners, separated by whitespace, until the end or an inline `#` comment.
    const owners: string[] = [];
    let invalid: CodeownersError | undefined;
    while (i < lineText.length) {
      while (isSpace(lineText[i])) i++;
      if (i >= lineText.length || lineText[i] === "#") break;
      const start = i;
      while (i < lineText.length && !isSpace(lineText[i])) i++;
      const owner = lineText.slice(start, i);
      if (!isValidOwner(owner)) {
        invalid = {
          line: lineNo,
          column: start + 1,
          message: `Invalid owner "${clip(owner, 80)}": expected @user, @org/team or an email address.`,
          text: clip(lineText),
        };
        break;
      }
      owners.push(owner);
    }
    if (invalid) {
      errors.push(invalid);
      continue;
    }
    rules.push({ line: lineNo, pattern, owners, elements: compiled.elements });
  }
  return new CodeownersIndex(path, false, errors, rules);
}

/** Pick the first existing location in GitHub's order; `files` maps location -> content (undefined = absent). */
export function loadCodeowners(files: Partial<Record<CodeownersLocation, string | undefined>>): Codeowners {
  for (const location of CODEOWNERS_LOCATIONS) {
    const text = files[location];
    if (text !== undefined) return parseCodeowners(text, { path: location });
  }
  return new CodeownersIndex(null, false, [], []);
}

/** True when the path is one of the three CODEOWNERS locations (gate-control files, invariant 6). */
export function isCodeownersPath(path: string): boolean {
  return (CODEOWNERS_LOCATIONS as readonly string[]).includes(path);
}
