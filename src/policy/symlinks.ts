/**
 * Where a symbolic link points. A link's blob is its target path, so the diff's added line is the target; the
 * engine judges a link under its own path and the path it points to (a harmless-looking `docs/ci` pointing at
 * `.github/workflows/ci.yml` is a gate-control change), and the `new-symlink` detector names the target.
 */
import type { ChangedFile } from "./types.js";

export const SYMLINK_MODE = "120000";

export interface SymlinkTarget {
  /** The target as written (bounded for display). */
  raw: string;
  /** The repository path it resolves to, or null when it leaves the repository (absolute, or `..` past the root). */
  inRepo: string | null;
}

const MAX_TARGET = 300;

/** A symlink at the head whose target the patch shows, or null (not a link, or no patch to read it from). */
export function symlinkTarget(file: ChangedFile): SymlinkTarget | null {
  if (file.mode?.new !== SYMLINK_MODE || file.status === "removed" || !file.patch) return null;
  const raw = addedText(file.patch);
  if (raw === null) return null;
  return { raw: raw.length > MAX_TARGET ? `${raw.slice(0, MAX_TARGET)}…` : raw, inRepo: resolveInRepo(file.filename, raw) };
}

/** The first added line of a patch (a link's blob is one line, without a newline at its end). */
function addedText(patch: string): string | null {
  let start = 0;
  while (start < patch.length) {
    let end = patch.indexOf("\n", start);
    if (end === -1) end = patch.length;
    if (patch.charCodeAt(start) === 43 /* + */) return patch.slice(start + 1, end).replace(/\r$/, "");
    start = end + 1;
  }
  return null;
}

/**
 * `target` resolved against the link's folder, as the filesystem would on checkout; null when it leaves the
 * repository. Backslashes count as separators (a Windows checkout with `core.symlinks` reads them so).
 */
export function resolveInRepo(linkPath: string, target: string): string | null {
  if (target === "" || /^[/\\]/.test(target) || /^[A-Za-z]:/.test(target) || target.startsWith("~")) return null;
  const parts = linkPath.split("/").slice(0, -1);
  for (const segment of target.split(/[/\\]/)) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else {
      parts.push(segment);
    }
  }
  return parts.join("/");
}
