/** Check-run annotations as GitHub takes them, shared by the approval check (policy) and the rationale check (telemetry). */
import { ANNOTATIONS_PER_REQUEST } from "./limits.js";

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string | undefined;
}

/** Splits annotations into GitHub's 50-per-request batches. */
export function batchAnnotations<T>(annotations: readonly T[], size = ANNOTATIONS_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < annotations.length; i += size) out.push(annotations.slice(i, i + size));
  return out;
}
