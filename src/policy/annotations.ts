/**
 * Annotations for the approval check at the lines that made the pull request risky: each located hit of a
 * line-level detector (an added secret — its kind, never its text —, a new external host, an unpinned action,
 * widened permissions, pull_request_target, a new dependency) and line 1 of each file a file-level detector
 * flagged (a new executable or symlink). Pure; the publisher sends them 50 per request.
 */
import type { CheckAnnotation } from "../shared/annotations.js";
import { MAX_ANNOTATIONS } from "../shared/limits.js";
import { plainText } from "../shared/markdown.js";
import type { Finding, RiskLevel } from "./types.js";

const LEVEL: Record<RiskLevel, CheckAnnotation["annotation_level"]> = { critical: "failure", high: "warning", medium: "warning", low: "notice" };
/** Detectors whose file-level hits are not files GitHub could annotate (a gitlink has no lines). */
const NOT_A_FILE: ReadonlySet<string> = new Set(["submodules"]);
/** The part of a finding's message before its list of locations: the rule's reason. */
const reasonOf = (f: Finding) => f.message.split(": ")[0] ?? f.message;

export function riskAnnotations(findings: readonly Finding[], max: number = MAX_ANNOTATIONS): CheckAnnotation[] {
  const out: CheckAnnotation[] = [];
  const seen = new Set<string>();
  const push = (a: CheckAnnotation) => {
    const key = `${a.path}\u0000${a.start_line}\u0000${a.title ?? ""}`;
    if (out.length >= max || seen.has(key)) return;
    seen.add(key);
    out.push(a);
  };
  for (const f of findings) {
    if (!f.detector) continue;
    const title = plainText(`Agent Gate: ${f.rule} (${f.level})`, 255);
    const level = LEVEL[f.level];
    if (f.locations && f.locations.length > 0) {
      for (const l of f.locations) push({ path: l.path, start_line: l.line, end_line: l.line, annotation_level: level, title, message: plainText(`${l.what ?? "flagged"} — ${reasonOf(f)}`, 1000) });
    } else if (!NOT_A_FILE.has(f.detector)) {
      // A file-level hit (new executable, new symlink): the whole file is the risk, so its first line carries it.
      for (const path of f.paths) push({ path, start_line: 1, end_line: 1, annotation_level: level, title, message: plainText(reasonOf(f), 1000) });
    }
  }
  return out;
}
