import { NO_HITS } from "./types.js";
import type { Detector, Hit } from "./types.js";

/** A gitlink's mode: the tree entry is a commit of another repository, not a file of this one. */
export const GITLINK_MODE = "160000";

/**
 * How GitHub's files API and `git diff --submodule=short` show a gitlink: one hunk whose only lines are
 * `Subproject commit <sha>` (removed, added, or both for a bump). Anchored and without nested repetition, so it
 * stays linear on hostile input.
 */
const GITLINK_PATCH_RE = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@[^\n]*\r?\n(?:-Subproject commit ([0-9a-f]{40,64})[^\n]*(?:\r?\n|$))?(?:\+Subproject commit ([0-9a-f]{40,64})[^\n]*(?:\r?\n|$))?$/;

/**
 * `url = <value>` in a `.gitmodules` section (git config: keys are case-insensitive, values may be quoted). The
 * value is trimmed in code: a lazy group before `\s*$` backtracks quadratically over a run of inner spaces.
 */
const URL_LINE_RE = /^\s*url\s*=(.*)$/i;
/** A gitlink's patch is two short lines; a longer patch is a file's, and the regex need not look at it. */
const MAX_GITLINK_PATCH = 400;

/** A URL as it may be shown: no user or password (a token in `https://x:TOKEN@host` must not travel), bounded. */
export function displayUrl(raw: string): string {
  const unquoted = raw.replace(/^"(.*)"$/, "$1");
  const withoutUser = unquoted.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/i, "$1");
  return withoutUser.length > 200 ? `${withoutUser.slice(0, 200)}…` : withoutUser;
}

function isGitmodules(path: string | undefined): boolean {
  return path !== undefined && (path === ".gitmodules" || path.endsWith("/.gitmodules"));
}

/**
 * The commits a gitlink moves between, or null when the file is not a gitlink. File modes decide when the source
 * knows them (the CLI; the App once it read them); otherwise the patch's shape, which only a gitlink (or a file
 * holding nothing but such a line, flagged too: a false alarm costs a review, a miss costs the gate).
 */
export function gitlinkChange(file: { mode?: { old?: string | undefined; new?: string | undefined } | undefined; patch?: string | undefined }): { old?: string; new?: string } | null {
  const match = file.patch === undefined || file.patch.length > MAX_GITLINK_PATCH ? null : GITLINK_PATCH_RE.exec(file.patch);
  const fromPatch = match && (match[1] || match[2]) ? { ...(match[1] ? { old: match[1] } : {}), ...(match[2] ? { new: match[2] } : {}) } : null;
  if (file.mode?.new !== undefined || file.mode?.old !== undefined) {
    return file.mode.new === GITLINK_MODE ? (fromPatch ?? {}) : null;
  }
  return fromPatch?.new ? fromPatch : null;
}

function gitlinkHits(change: { old?: string; new?: string }, wasGitlink: boolean): Hit[] {
  if (change.old && change.new) return [{ line: 0, what: `submodule moved from ${change.old} to ${change.new}` }];
  if (change.new) return [{ line: 0, what: `a new submodule at ${change.new}` }];
  return [{ line: 0, what: wasGitlink ? "submodule changed" : "a new submodule" }];
}

/** Every URL a `.gitmodules` diff adds, paired in order with the ones it removes in the same hunk; one hit at least. Linear. */
function gitmodulesHits(lines: ReadonlyArray<{ kind: string; text: string; line: number; hunk: number }>): Hit[] {
  const removed = new Map<number, { urls: string[]; next: number }>();
  const added: Array<{ line: number; hunk: number; url: string }> = [];
  for (const l of lines) {
    if (l.kind === "ctx") continue;
    const m = URL_LINE_RE.exec(l.text);
    if (!m) continue;
    const url = displayUrl((m[1] ?? "").trim());
    if (l.kind === "add") added.push({ line: l.line, hunk: l.hunk, url });
    else {
      const r = removed.get(l.hunk);
      if (r) r.urls.push(url);
      else removed.set(l.hunk, { urls: [url], next: 0 });
    }
  }
  const hits: Hit[] = added.map((a) => {
    const r = removed.get(a.hunk);
    const before = r && r.next < r.urls.length ? r.urls[r.next++] : undefined;
    return { line: a.line, what: before !== undefined ? `submodule URL changed from ${before} to ${a.url}` : `a new submodule URL ${a.url}` };
  });
  // The configuration changed even when no URL line did (a path, a branch): still code from elsewhere.
  return hits.length > 0 ? hits : [{ line: 0, what: "submodule configuration changed" }];
}

/**
 * A submodule brings in code from another repository: a new or moved gitlink, or a `.gitmodules` change. Decides
 * from the file's mode or its patch's shape, so it needs no patch to flag a gitlink (a `.gitmodules` without its
 * patch is flagged, unnamed, and the engine reports the missing patch).
 */
export const submodules: Detector<"submodules"> = {
  id: "submodules",
  description: "a new or moved submodule (gitlink) or a .gitmodules change, naming the URL or the commits",
  needsPatch: false,
  detect: ({ file, lines }) => {
    if (file.status === "removed") return NO_HITS;
    if (isGitmodules(file.filename) || isGitmodules(file.previous_filename)) return gitmodulesHits(lines());
    const change = gitlinkChange(file);
    return change ? gitlinkHits(change, file.mode?.old === GITLINK_MODE) : NO_HITS;
  },
};
