/**
 * Check-run annotations for the rationale check: a decision that names `file:line`, a reported file change with a
 * line, and (given the PR's files) each changed file the telemetry never reported. GitHub takes 50 per request;
 * the caller sends them in batches (see batchAnnotations).
 */
import { batchAnnotations } from "../shared/annotations.js";
import type { CheckAnnotation } from "../shared/annotations.js";
import { ANNOTATIONS_PER_REQUEST, MAX_ANNOTATIONS } from "../shared/limits.js";
import { plainText } from "../shared/markdown.js";
import { crossCheck } from "./crosscheck.js";
import type { PullRequestFile } from "./crosscheck.js";
import type { Trace } from "./model.js";
import { normalizePath } from "./util.js";

export type { CheckAnnotation };

export { MAX_ANNOTATIONS, ANNOTATIONS_PER_REQUEST };
const MESSAGE_CHARS = 4000;

/** `path:12`, `path:12-20`, `path#L12`, `path#L12-L20` → path and lines; a bare path has no line. */
export function parseFileRef(ref: string): { path: string; start?: number; end?: number } {
  const m = /^(.*?)(?::(\d{1,7})(?:-(\d{1,7}))?|#L(\d{1,7})(?:-L?(\d{1,7}))?)$/.exec(ref.trim());
  if (!m || !m[1]) return { path: ref.trim() };
  const start = Number(m[2] ?? m[4]);
  const endRaw = m[3] ?? m[5];
  const end = endRaw !== undefined ? Number(endRaw) : start;
  if (!(start >= 1)) return { path: m[1] };
  return { path: m[1], start, end: end >= start ? end : start };
}

export function buildAnnotations(trace: Trace, prFiles?: ReadonlyArray<string | PullRequestFile>): CheckAnnotation[] {
  const files: PullRequestFile[] | undefined = prFiles?.map((f) => (typeof f === "string" ? { filename: f } : f));
  const prPaths = files ? new Set(files.map((f) => f.filename)) : undefined;
  const resolve = (p: string): string | undefined => {
    const n = normalizePath(p);
    if (!prPaths) return n;
    if (prPaths.has(n)) return n;
    if (n.startsWith("/")) {
      for (let i = n.indexOf("/", 1); i !== -1; i = n.indexOf("/", i + 1)) if (prPaths.has(n.slice(i + 1))) return n.slice(i + 1);
    }
    return undefined;
  };

  const out: CheckAnnotation[] = [];
  const seen = new Set<string>();
  const push = (a: CheckAnnotation) => {
    const key = `${a.path}\u0000${a.start_line}\u0000${a.title ?? ""}\u0000${a.message}`;
    if (out.length >= MAX_ANNOTATIONS || seen.has(key)) return;
    seen.add(key);
    out.push(a);
  };

  for (const step of trace.steps) {
    if (step.kind === "decision") {
      for (const ref of step.files) {
        const r = parseFileRef(ref);
        if (r.start === undefined) continue;
        const path = resolve(r.path);
        if (path === undefined) continue;
        const lines = [`Decision: ${step.summary}`];
        if (step.rationale) lines.push(`Why: ${step.rationale}`);
        if (step.alternatives.length > 0) lines.push(`Alternatives considered: ${step.alternatives.join("; ")}`);
        push({
          path,
          start_line: r.start,
          end_line: r.end ?? r.start,
          annotation_level: "notice",
          title: plainText(`Agent decision: ${step.summary}`, 255),
          message: plainText(lines.join(" — "), MESSAGE_CHARS),
        });
      }
    } else if (step.kind === "file_change" && step.line !== undefined) {
      const path = resolve(step.path);
      if (path === undefined) continue;
      push({ path, start_line: step.line, end_line: step.line, annotation_level: "notice", title: "Changed by the agent", message: plainText(`The agent reported this change (${step.change}).`, MESSAGE_CHARS) });
    }
  }

  if (files) {
    const cc = crossCheck(trace, files);
    const sources = new Map(cc.likelySources.map((x) => [x.path, x]));
    for (const f of cc.unreported) {
      const source = sources.get(f);
      const why = source ? ` ${source.namesFile ? "Likely changed by" : "Possibly changed by a script or patch:"} ${source.commands.join(" ; ")}` : "";
      push({
        path: f,
        start_line: 1,
        end_line: 1,
        annotation_level: "warning",
        title: "Not reported by the agent",
        message: plainText(`This file is changed in the pull request, but the agent's telemetry never reported changing it. Review how it was changed.${why}`, MESSAGE_CHARS),
      });
    }
  }
  return out;
}

export { batchAnnotations };
