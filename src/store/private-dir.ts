/**
 * The embedded database holds audit entries, approvals and logins: only the App's own user may read it.
 *
 * PGlite (emscripten's NODEFS) creates its files with explicit modes (0666 files, 0755 directories) whatever the
 * process umask says, so the umask cannot help. Instead the data directory itself is 0700 (nothing inside is
 * reachable by another user, including files PGlite creates later), and every file in it is tightened to 0600,
 * every directory to 0700, when the database is opened and again when it is closed.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and parents) if missing; makes `dir` itself 0700 even when it already existed. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Tightens every directory under `dir` to 0700 and every file to 0600 (iteratively: no recursion depth limit). Symlinks are left alone. */
export function tightenTree(dir: string): void {
  const pending = [dir];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    chmodSync(current, PRIVATE_DIR_MODE);
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile() && (lstatSync(full).mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(full, PRIVATE_FILE_MODE);
    }
  }
}
