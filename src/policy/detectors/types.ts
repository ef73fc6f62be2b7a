import type { PatchLine } from "../patch.js";
import type { ChangedFile } from "../types.js";

/**
 * What a detector found: a line number and a kind, never the matched text. Findings are printed, labelled and
 * stored, and a secret must not travel with them.
 */
export interface Hit {
  /** Line in the new file (or the old one, for a removed line); 0 when the hit is about the whole file. */
  line: number;
  /** What was found, safe to print (a secret's kind, a host name, a script section). */
  what: string;
}

/** One changed file as a detector sees it; the patch is parsed once, on first ask, for every detector. */
export interface DetectorInput {
  file: ChangedFile;
  lines(): readonly PatchLine[];
}

/**
 * A built-in check a risk rule names in `detect:`. Adding one is one file in this folder and one line in
 * `index.ts`: the policy schema, its documentation and the risk engine all read the registry.
 */
export interface Detector<Id extends string = string> {
  id: Id;
  /** One line for the policy documentation and the JSON Schema. */
  description: string;
  /**
   * Reads the file's diff, so it is not run on a changed text file that came without one: the engine reports that
   * file as "cannot be fully evaluated" itself (invariant 2), whatever the policy's rules.
   */
  needsPatch: boolean;
  detect(input: DetectorInput): readonly Hit[];
}

/** Shared by every file a detector finds nothing in: thousands of files, one allocation. */
export const NO_HITS: readonly Hit[] = Object.freeze([]);

/** One hit for each added line `what` names something on (null: nothing there). */
export function addedLineHits(lines: readonly PatchLine[], what: (text: string) => string | null): readonly Hit[] {
  const hits: Hit[] = [];
  for (const l of lines) {
    if (l.kind !== "add") continue;
    const found = what(l.text);
    if (found !== null) hits.push({ line: l.line, what: found });
  }
  return hits.length === 0 ? NO_HITS : hits;
}
