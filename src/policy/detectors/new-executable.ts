import { NO_HITS } from "./types.js";
import type { Detector } from "./types.js";

export const newExecutable: Detector<"new-executable"> = {
  id: "new-executable",
  description: "a file that becomes executable (file modes, known to the CLI)",
  needsPatch: false,
  detect: ({ file }) =>
    file.mode?.new === "100755" && file.mode.old !== "100755" && file.status !== "removed" ? [{ line: 0, what: "a new executable file" }] : NO_HITS,
};
