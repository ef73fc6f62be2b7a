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
  // Walks the lines by index rather than `split`: a large pull request has tens of thousands of patch lines, and
  // the intermediate array and strings are garbage the evaluation otherwise pays for.
  let start = 0;
  while (start <= patch.length) {
    let end = patch.indexOf("\n", start);
    if (end === -1) end = patch.length;
    const next = end + 1;
    if (end > start && patch.charCodeAt(end - 1) === 13) end--; // "\r"
    const c = patch.charCodeAt(start);
    if (end - start >= 2 && c === 64 && patch.charCodeAt(start + 1) === 64) {
      // "@@"
      const m = HUNK_RE.exec(patch.slice(start, end));
      if (m) {
        oldLine = Number(m[1]);
        newLine = Number(m[2]);
        hunk++;
      }
    } else if (hunk >= 0 && end > start) {
      if (c === 43) {
        out.push({ kind: "add", text: patch.slice(start + 1, end), line: newLine++, hunk });
      } else if (c === 45) {
        out.push({ kind: "del", text: patch.slice(start + 1, end), line: oldLine++, hunk });
      } else if (c === 32) {
        out.push({ kind: "ctx", text: patch.slice(start + 1, end), line: newLine++, hunk });
        oldLine++;
      }
      // "\\ No newline at end of file" and anything else: skipped.
    }
    start = next;
  }
  return out;
}
