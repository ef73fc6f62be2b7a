/**
 * The one Markdown escaper. Text from a pull request or an agent is data, never markup: these helpers turn it into
 * GitHub-flavoured markdown that renders as the literal text.
 *
 * - `escapeMarkdown`: names the gate itself shows (paths, owners, rule ids, messages) in a paragraph or a table cell.
 * - `escapeInline` / `escapeBlockquote`: untrusted agent text (invariant 7), also defanged: no links, images,
 *   autolinks, @mentions, #references, HTML, headings, lists, tables or code fences of the agent's making.
 * - `codeSpan` / `codeFence`: commands, in delimiters longer than any backtick run inside them.
 * Both families share one character escaper, so a character is escaped the same way wherever it is shown.
 */

const ZWJ = "\u200D";
const ZWSP = "\u200B";

// C0/C1 controls (except tab and newline), bidi overrides and isolates (Trojan Source), BOM.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u0008\u000B\u000C\u000D\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

export function stripUnsafeChars(s: string): string {
  return s.replace(UNSAFE_CHARS, "");
}

/** Breaks what GitHub would turn into a link or a notification, without changing what a reader sees. */
function defang(s: string): string {
  return (
    s
      // @user and @org/team mentions, and email autolinks.
      .replace(/@(?=[A-Za-z0-9_-])/g, `@${ZWJ}`)
      // #123 and owner/repo#123 references, GH-123.
      .replace(/#(?=[0-9A-Za-z])/g, `#${ZWJ}`)
      .replace(/\b(GH)-(?=\d)/gi, `$1${ZWJ}-`)
      // Bare-URL autolinks (http://, https://, ftp://, www.) and other schemes.
      .replace(/([A-Za-z][A-Za-z0-9+.-]{0,20}):\/\//g, `$1:${ZWSP}//`)
      .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`)
  );
}

const MD_PUNCT = /[\\`*_{}[\]()#+|~$!<>&"]/g;

/** Backslash-escapes Markdown punctuation and writes `& < > "` as entities, so no character starts markup or HTML. */
function escapeChars(s: string): string {
  return s.replace(MD_PUNCT, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      default:
        return `\\${c}`;
    }
  });
}

// Controls, line and paragraph separators and bidi overrides: in a table cell or a paragraph each becomes a space.
// eslint-disable-next-line no-control-regex
const CONTROL_OR_SEPARATOR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Safe inside a Markdown paragraph or table cell: one line, every Markdown and HTML character escaped. */
export function escapeMarkdown(text: string): string {
  return escapeChars(text.replace(CONTROL_OR_SEPARATOR, " "));
}

/** Safe for a terminal: no control characters, no bidi overrides (each becomes `?`). */
export function sanitizeText(text: string): string {
  return text.replace(CONTROL_OR_SEPARATOR, "?");
}

/** Escapes what only matters at the start of a line: list markers, setext/thematic rules, ordered-list numbers. */
function escapeLineStart(line: string): string {
  const lead = /^(\s*)/.exec(line)?.[1] ?? "";
  // Indentation would make a code block (harmless) or continue a list; drop it.
  let rest = line.slice(lead.length);
  if (/^[+\-=:]/.test(rest)) rest = `\\${rest}`;
  rest = rest.replace(/^(\d{1,9})([.)])/, "$1\\$2");
  return rest;
}

/** One line of untrusted text for an inline context (list item, table cell, bold label). Newlines become spaces. */
export function escapeInline(text: string, maxChars = 2000): string {
  let s = stripUnsafeChars(text).replace(/\s+/g, " ").trim();
  if (s.length > maxChars) s = `${s.slice(0, maxChars - 1)}…`;
  if (s === "") return "";
  return escapeLineStart(defang(escapeChars(s)));
}

/**
 * Untrusted multi-line text as a blockquote: every line is escaped on its own and prefixed with `> `, so no line
 * can become a heading, a list, a table, a fence or leave the quote.
 */
export function escapeBlockquote(text: string, maxChars = 8000, maxLines = 60): string {
  let s = stripUnsafeChars(text).trim();
  if (s.length > maxChars) s = `${s.slice(0, maxChars - 1)}…`;
  const lines = s.split("\n");
  const shown = lines.slice(0, maxLines).map((l) => {
    const t = l.trim();
    return t === "" ? ">" : `> ${escapeLineStart(defang(escapeChars(t)))}`;
  });
  if (lines.length > maxLines) shown.push(`> _… ${lines.length - maxLines} more lines_`);
  // Two trailing spaces keep the agent's line breaks (a hard break) instead of folding lines into one paragraph.
  return shown.map((l, i) => (i < shown.length - 1 && l !== ">" && shown[i + 1] !== ">" ? `${l}  ` : l)).join("\n");
}

/** Plain text for places GitHub shows verbatim (check-run title, annotation title/message). */
export function plainText(text: string, maxChars: number): string {
  let s = stripUnsafeChars(text).replace(/\s+/g, " ").trim();
  s = s.replace(/@(?=[A-Za-z0-9_-])/g, `@${ZWJ}`);
  return s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s;
}

function longestBacktickRun(s: string): number {
  let max = 0;
  for (const m of s.matchAll(/`+/g)) max = Math.max(max, m[0].length);
  return max;
}

/**
 * An inline code span that the content cannot close: the delimiter is one backtick longer than any run inside.
 * In a table cell `|` is escaped as `\|` (GFM splits cells before parsing code spans).
 */
export function codeSpan(text: string, opts: { table?: boolean; maxChars?: number } = {}): string {
  let s = stripUnsafeChars(text).replace(/\s*\n\s*/g, " ⏎ ").replace(/\t/g, " ");
  const max = opts.maxChars ?? 300;
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  if (s.trim() === "") return "` `";
  // GFM splits table cells on unescaped pipes before it parses code spans, and shows `\|` as `|`.
  if (opts.table) s = s.replace(/\|/g, "\\|");
  const fence = "`".repeat(longestBacktickRun(s) + 1);
  const pad = s.startsWith("`") || s.endsWith("`") || (s.startsWith(" ") && s.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A fenced code block the content cannot close: the fence is longer than any backtick run inside (at least 3). */
export function codeFence(text: string, lang = ""): string {
  const s = stripUnsafeChars(text.replace(/\r\n?/g, "\n")).replace(/\n+$/, "");
  const fence = "`".repeat(Math.max(3, longestBacktickRun(s) + 1));
  return `${fence}${/^[a-z0-9-]{0,20}$/.test(lang) ? lang : ""}\n${s}\n${fence}`;
}
