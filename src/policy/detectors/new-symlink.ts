import { NO_HITS } from "./types.js";
import type { Detector } from "./types.js";

export const newSymlink: Detector<"new-symlink"> = {
  id: "new-symlink",
  description: "a file that becomes a symbolic link (file modes, known to the CLI)",
  needsPatch: false,
  detect: ({ file }) => (file.mode?.new === "120000" && file.mode.old !== "120000" ? [{ line: 0, what: "a new symbolic link" }] : NO_HITS),
};
