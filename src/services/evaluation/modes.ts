/**
 * File modes for the App's snapshot (invariant 2): which paths to ask GitHub for, and the listing with the answers
 * merged in, so the engine's mode detectors (new executable, new symlink, gitlink) see in the App what they see in
 * the CLI. Pure.
 */
import type { FileModeQuery, FileModes } from "../../github/port.js";
import type { ChangedFile } from "../../policy/types.js";

/**
 * The paths whose mode matters: every file the pull request keeps, at the head, and its path at the base unless it
 * is new. A removed file's mode changes nothing. Any kept file can have its executable bit flipped without a trace
 * in the files API, so no kept file is left out; null when there is nothing to ask (a PR that only deletes).
 */
export function modeQueryFor(files: readonly ChangedFile[], shas: { baseSha: string; headSha: string }): FileModeQuery | null {
  const basePaths: string[] = [];
  const headPaths: string[] = [];
  for (const f of files) {
    if (f.status === "removed" || !f.filename) continue;
    headPaths.push(f.filename);
    if (f.status !== "added") basePaths.push(f.previous_filename ?? f.filename);
  }
  return headPaths.length === 0 ? null : { ...shas, basePaths, headPaths };
}

/**
 * The listing with each kept file's modes. A kept file GitHub has no entry for at the head contradicts the listing:
 * the snapshot cannot be trusted, so this throws and the evaluation fails closed.
 * @throws {Error} naming the path.
 */
export function withModes(files: readonly ChangedFile[], modes: FileModes): ChangedFile[] {
  return files.map((f) => {
    if (f.status === "removed" || !f.filename) return f;
    const head = modes.head.get(f.filename);
    if (head === undefined || head === null) throw new Error(`GitHub has no mode for ${f.filename} at the head commit, although it lists the file as changed`);
    const old = f.status === "added" ? undefined : (modes.base.get(f.previous_filename ?? f.filename) ?? undefined);
    return { ...f, mode: { old, new: head } };
  });
}
