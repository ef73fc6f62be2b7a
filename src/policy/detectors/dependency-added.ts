import { NO_HITS } from "./types.js";
import type { Detector, Hit } from "./types.js";

/** `"name": "<version or spec>"` as a package.json dependency entry writes it (scripts hold commands, not versions). */
const NPM_ENTRY_RE = /^\s*"(@?[a-z0-9][\w.\-/@]{0,213})"\s*:\s*"(?:[\^~<>=v]*\d|\*|latest|next|npm:|git\+|git:|github:|https?:|file:|link:|workspace:)/i;
/** `name==1.2`, `name>=1`, `name` (a requirements.txt line that is not a comment, an option or blank). */
const PIP_ENTRY_RE = /^\s*([A-Za-z0-9][A-Za-z0-9._-]{0,100})\s*(?:\[[^\]]*\])?\s*(?:[=<>!~]=?|@|;|$)/;
/** `module/path v1.2.3` inside a go.mod require block, or `require module/path v1.2.3`. */
const GO_ENTRY_RE = /^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]{2,}\/[^\s]+)\s+v\d/i;

function entryOf(filename: string, text: string): string | null {
  const base = filename.slice(filename.lastIndexOf("/") + 1).toLowerCase();
  if (base === "package.json") return NPM_ENTRY_RE.exec(text)?.[1] ?? null;
  if (/^requirements.*\.txt$/.test(base) && !/^\s*(?:#|-)/.test(text)) return PIP_ENTRY_RE.exec(text)?.[1] ?? null;
  if (base === "go.mod") return GO_ENTRY_RE.exec(text)?.[1] ?? null;
  return null;
}

/**
 * Dependencies an added line brings in (package.json, requirements*.txt, go.mod), each with its line. A line
 * whose dependency the diff also removes (a version bump) is not an addition.
 */
export const dependencyAdded: Detector<"dependency-added"> = {
  id: "dependency-added",
  description: "added dependency entries in package.json, requirements*.txt or go.mod (new packages, not version bumps)",
  needsPatch: true,
  detect: ({ file, lines }) => {
    if (!file.patch) return NO_HITS;
    const removed = new Set<string>();
    const added: Array<{ line: number; name: string }> = [];
    for (const l of lines()) {
      if (l.kind === "ctx") continue;
      const name = entryOf(file.filename, l.text);
      if (name === null) continue;
      if (l.kind === "del") removed.add(name);
      else added.push({ line: l.line, name });
    }
    const hits: Hit[] = added.filter((a) => !removed.has(a.name)).map((a) => ({ line: a.line, what: `a new dependency (${a.name})` }));
    return hits.length === 0 ? NO_HITS : hits;
  },
};
