import { findSecrets, mayHoldSecrets } from "../../shared/secrets.js";
import type { PatchLine } from "../patch.js";
import { NO_HITS } from "./types.js";
import type { Detector, Hit } from "./types.js";

/**
 * Added lines that look like a credential (the shared secret catalogue, strict mode). One hit per line at most.
 * Every line is scanned whole: a token placed after a long run of minified code must not slip through, and the
 * catalogue is linear in the text (`npm run bench`, section "Detectors").
 */
export function detectSecrets(lines: readonly PatchLine[]): Hit[] {
  const hits: Hit[] = [];
  for (const l of lines) {
    if (l.kind !== "add") continue;
    const first = findSecrets(l.text)[0];
    if (first) hits.push({ line: l.line, what: first.description });
  }
  return hits;
}

export { mayHoldSecrets };

export const secrets: Detector<"secrets"> = {
  id: "secrets",
  description: "added lines that look like credentials",
  needsPatch: true,
  // Most diffs hold nothing the catalogue looks for; those are never parsed.
  detect: ({ file, lines }) => (file.patch && mayHoldSecrets(file.patch) ? detectSecrets(lines()) : NO_HITS),
};
