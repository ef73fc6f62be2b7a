import type { PatchLine } from "../patch.js";
import type { Detector, Hit } from "./types.js";

const LIFECYCLE = new Set(["preinstall", "install", "postinstall", "prepare", "prepublish", "prepublishOnly", "prepack", "postpack", "dependencies"]);
const OPEN_KEY_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:\s*\{\s*(?:\}\s*,?\s*)?$/;
const TOP_LEVEL_STRINGS = new Set(["name", "description", "version", "license", "author", "homepage", "main", "module", "types", "typings", "type", "repository", "bugs", "packageManager", "private", "funding", "browser", "bin", "url", "email"]);
const CLOSE_RE = /^\s*\}\s*,?\s*$/;
const PAIR_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,?\s*$/;
const VERSIONISH_RE = /^(?:[\^~<>=]*\s*v?\d|\*$|latest$|next$|workspace:|file:|link:|npm:|portal:|patch:|git|https?:|github:|catalog:)/;

/** The key of the object that encloses line `i`, looking back within its hunk; null when not visible. */
function enclosingKey(lines: readonly PatchLine[], i: number, view: "old" | "new"): string | null {
  const hunk = lines[i]!.hunk;
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const l = lines[j]!;
    if (l.hunk !== hunk) break;
    if (view === "new" ? l.kind === "del" : l.kind === "add") continue;
    if (CLOSE_RE.test(l.text)) {
      depth++;
      continue;
    }
    if (/^\s*\{\s*$/.test(l.text)) {
      if (depth === 0) return "";
      depth--;
      continue;
    }
    const m = OPEN_KEY_RE.exec(l.text);
    if (m && !/\}\s*,?\s*$/.test(l.text)) {
      if (depth === 0) return m[1] ?? null;
      depth--;
    }
  }
  return null;
}

/** Changed lines inside package.json's `scripts` (or that look like script entries where the context is too short to tell). */
export function detectScriptChanges(lines: readonly PatchLine[]): Hit[] {
  const hits: Hit[] = [];
  const seen = new Set<number>();
  const push = (hit: Hit) => {
    // A modified line shows as a deletion and an addition, usually at the same number: report it once.
    if (seen.has(hit.line)) return;
    seen.add(hit.line);
    hits.push(hit);
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.kind === "ctx") continue;
    const own = /^\s*"((?:[^"\\]|\\.)*)"\s*:/.exec(l.text)?.[1];
    if (own === "scripts") {
      push({ line: l.line, what: "the scripts section" });
      continue;
    }
    const key = enclosingKey(lines, i, l.kind === "add" ? "new" : "old");
    const pair = PAIR_RE.exec(l.text);
    if (key === "scripts") {
      if (!pair && CLOSE_RE.test(l.text)) continue;
      const name = pair?.[1] ?? "";
      push({ line: l.line, what: LIFECYCLE.has(name) ? "an install-time script" : "a script" });
    } else if (key === null && pair && !TOP_LEVEL_STRINGS.has(pair[1] ?? "") && !VERSIONISH_RE.test(pair[2] ?? "") && /[\s&|;$]/.test(pair[2] ?? "")) {
      push({ line: l.line, what: "what looks like a script (the diff does not show its section)" });
    }
  }
  return hits;
}

export const packageScripts: Detector<"package-scripts"> = {
  id: "package-scripts",
  description: "changes inside package.json `scripts`",
  needsPatch: true,
  detect: ({ lines }) => detectScriptChanges(lines()),
};
