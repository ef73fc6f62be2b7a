/**
 * Reading unified-diff hunks as GitHub's files API returns them in `patch` (hunks only, no file header).
 * Hostile input is expected: lines are classified by their first character and anything unexpected is skipped.
 */

export interface PatchLine {
  kind: "add" | "del" | "ctx";
  text: string;
  /** Line number in the new file (add, ctx) or the old file (del). */
  line: number;
  /** Index of the hunk the line belongs to. */
  hunk: number;
}

const HUNK_RE = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

export function parsePatch(patch: string): PatchLine[] {
  const out: PatchLine[] = [];
  let oldLine = 0;
  let newLine = 0;
  let hunk = -1;
  for (const raw of patch.split("\n")) {
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.startsWith("@@")) {
      const m = HUNK_RE.exec(text);
      if (m) {
        oldLine = Number(m[1]);
        newLine = Number(m[2]);
        hunk++;
      }
      continue;
    }
    if (hunk < 0) continue;
    const c = text[0];
    if (c === "+") {
      out.push({ kind: "add", text: text.slice(1), line: newLine++, hunk });
    } else if (c === "-") {
      out.push({ kind: "del", text: text.slice(1), line: oldLine++, hunk });
    } else if (c === " ") {
      out.push({ kind: "ctx", text: text.slice(1), line: newLine++, hunk });
      oldLine++;
    }
    // "\ No newline at end of file" and anything else: skipped.
  }
  return out;
}
