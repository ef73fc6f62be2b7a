import type { PatchLine } from "../patch.js";
import type { Detector, Hit } from "./types.js";

const LIFECYCLE = new Set(["preinstall", "install", "postinstall", "prepare", "prepublish", "prepublishOnly", "prepack", "postpack", "dependencies"]);
const OPEN_KEY_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:\s*\{\s*(?:\}\s*,?\s*)?$/;
const TOP_LEVEL_STRINGS = new Set(["name", "description", "version", "license", "author", "homepage", "main", "module", "types", "typings", "type", "repository", "bugs", "packageManager", "private", "funding", "browser", "bin", "url", "email"]);
const CLOSE_RE = /^\s*\}\s*,?\s*$/;
const OWN_KEY_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:/;
const PAIR_RE = /^\s*"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,?\s*$/;
const VERSIONISH_RE = /^(?:[\^~<>=]*\s*v?\d|\*$|latest$|next$|workspace:|file:|link:|npm:|portal:|patch:|git|https?:|github:|catalog:)/;

const OPEN_BRACE_RE = /^\s*\{\s*$/;
const CLOSES_ON_LINE_RE = /\}\s*,?\s*$/;

/**
 * The key of the object that encloses each line, as far as its hunk shows: "" for an anonymous `{`, null when
 * the opening line is not in the hunk. One pass with a stack per view (the old file sees context and removed
 * lines, the new one context and added lines), so the cost is linear in the patch: walking back through the hunk
 * for every line took 12 s on a 20,000-line package.json.
 */
export function enclosingKeys(lines: readonly PatchLine[]): Array<string | null> {
  const out: Array<string | null> = new Array<string | null>(lines.length);
  let hunk = -1;
  let oldStack: string[] = [];
  let newStack: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.hunk !== hunk) {
      hunk = l.hunk;
      oldStack = [];
      newStack = [];
    }
    const stack = l.kind === "add" ? newStack : oldStack;
    out[i] = stack.length > 0 ? stack[stack.length - 1]! : null;
    if (l.kind !== "add") step(oldStack, l.text);
    if (l.kind !== "del") step(newStack, l.text);
  }
  return out;
}

/** How one visible line opens or closes an object. A close with nothing open leaves the hunk's view unknown. */
function step(stack: string[], text: string): void {
  if (CLOSE_RE.test(text)) {
    stack.pop();
    return;
  }
  if (OPEN_BRACE_RE.test(text)) {
    stack.push("");
    return;
  }
  const m = OPEN_KEY_RE.exec(text);
  if (m && !CLOSES_ON_LINE_RE.test(text)) stack.push(m[1] ?? "");
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
  const keys = enclosingKeys(lines);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.kind === "ctx") continue;
    const own = OWN_KEY_RE.exec(l.text)?.[1];
    if (own === "scripts") {
      push({ line: l.line, what: "the scripts section" });
      continue;
    }
    const key = keys[i] ?? null;
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
