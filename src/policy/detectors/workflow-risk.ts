import { addedLineHits, NO_HITS } from "./types.js";
import type { Detector } from "./types.js";

/** `uses: owner/repo[/path]@ref`, a reusable workflow or an action; local (`./…`) and docker actions are pinned by path/digest. */
const USES_RE = /^\s*-?\s*uses:\s*["']?([^\s"'#]+)/;
const FULL_SHA_RE = /@[0-9a-f]{40}$/;
const PERMISSION_RE = /^\s*(?:permissions:\s*write-all|[a-z-]+:\s*write)\s*(?:#.*)?$/;
const TARGET_RE = /\bpull_request_target\b/;

/** One added line of a workflow: what makes it risky, or null. */
function workflowRisk(text: string): string | null {
  const uses = USES_RE.exec(text)?.[1];
  if (uses !== undefined && !uses.startsWith("./") && !uses.startsWith("docker://") && !FULL_SHA_RE.test(uses)) {
    return `an action not pinned to a commit SHA (${uses.slice(0, 200)})`;
  }
  if (PERMISSION_RE.test(text)) return `permissions widened (${text.trim().slice(0, 100)})`;
  if (TARGET_RE.test(text) && !text.trimStart().startsWith("#")) return "a pull_request_target trigger (runs with secrets on code from forks)";
  return null;
}

/**
 * Added workflow lines that change what a workflow may do: an action or reusable workflow not pinned to a full
 * commit SHA, widened `permissions:` (`write-all`, `<scope>: write`) and the `pull_request_target` trigger.
 * Line by line, so the approval check can annotate each.
 */
export const workflowRiskDetector: Detector<"workflow-risk"> = {
  id: "workflow-risk",
  description: "added workflow lines with an unpinned `uses:`, widened `permissions:` or `pull_request_target`",
  needsPatch: true,
  detect: ({ file, lines }) => (file.patch && /\.ya?ml$/i.test(file.filename) ? addedLineHits(lines(), workflowRisk) : NO_HITS),
};
