import { SYMLINK_MODE, symlinkTarget } from "../symlinks.js";
import type { ChangedFile } from "../types.js";
import { NO_HITS } from "./types.js";
import type { Detector } from "./types.js";

/** Where the link points, as the finding says it: outside the repository, the repository itself, or a path in it. */
function describeTarget(file: ChangedFile): string {
  const target = symlinkTarget(file);
  if (!target) return "";
  if (target.inRepo === null) return ` to ${target.raw} (outside the repository)`;
  if (target.inRepo === "") return ` to ${target.raw} (the repository's root)`;
  const inGit = target.inRepo === ".git" || target.inRepo.startsWith(".git/") ? ", inside .git" : "";
  return ` to ${target.inRepo}${target.inRepo === target.raw ? "" : ` (${target.raw})`}${inGit}`;
}

/**
 * A file that becomes a symbolic link, or a link pointed somewhere else; the hit names the target. Decides from the
 * file's modes (the CLI's git, the App's GraphQL read), reading the one-line patch only for the target.
 */
export const newSymlink: Detector<"new-symlink"> = {
  id: "new-symlink",
  description: "a file that becomes a symbolic link, or a link pointed elsewhere, naming its target (file modes)",
  needsPatch: false,
  detect: ({ file }) => {
    if (file.mode?.new !== SYMLINK_MODE || file.status === "removed") return NO_HITS;
    const isNew = file.mode.old !== SYMLINK_MODE;
    if (!isNew && file.additions === 0 && file.status !== "renamed" && file.status !== "copied") return NO_HITS;
    return [{ line: 0, what: `${isNew ? "a new symbolic link" : "a symbolic link pointed elsewhere"}${describeTarget(file)}` }];
  },
};
