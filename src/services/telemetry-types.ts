/**
 * The telemetry seam of the services: what ingestion records and what the approval check asks. Implemented in
 * memory (`MemoryTelemetryStore`) and over the database (`DatabaseTelemetryStore` in src/store/telemetry-store.ts).
 */
import type { AuditKind } from "../store/audit.js";

/** One audit entry ingestion asks the store to append with the outcome (telemetry_* kinds only). */
export interface TelemetryAuditEntry {
  kind: Extract<AuditKind, "telemetry_accepted" | "telemetry_rejected" | "telemetry_discrepancy">;
  payload: unknown;
}

export interface TelemetryDiscrepancyRecord {
  /** `unreported`: changed in the PR, never reported; `not_in_pull_request`: reported, absent from the PR. */
  kind: "unreported" | "not_in_pull_request";
  path: string;
}

/** What one ingestion attempt concluded, accepted or rejected, with the audit entries that go with it. */
export interface TelemetryOutcomeRecord {
  /** `owner/name`. */
  repository: string;
  /** null when no pull request could be identified: then only the audit entries are written. */
  pullRequest: number | null;
  /** The head the telemetry was judged against (the PR's, else the bundle's or the run's). */
  headSha: string;
  workflowRunId: number;
  workflowPath: string;
  artifactId: number | null;
  /** native | codex | claude-code | otel, or `unknown` when nothing could be parsed. */
  format: string;
  accepted: boolean;
  reasons: string[];
  agent: string | null;
  model: string | null;
  counts: Record<string, unknown>;
  /** The normalized trace AFTER redaction (invariant 7); null when rejected before parsing. */
  trace: unknown;
  discrepancies: TelemetryDiscrepancyRecord[];
  audit: TelemetryAuditEntry[];
  deliveryId: string | undefined;
}

export interface TelemetryStore {
  /** True when an outcome for this pull request and workflow run is already recorded (a redelivery). */
  alreadyRecorded(repository: string, pullRequest: number, workflowRunId: number): Promise<boolean>;
  /**
   * Records the outcome and its audit entries together (one transaction in the database). Idempotent per
   * repository, pull request and workflow run: a second call writes nothing and returns `created: false`.
   */
  record(outcome: TelemetryOutcomeRecord): Promise<{ created: boolean }>;
  /** True when telemetry was accepted for this pull request at this head commit. */
  hasAccepted(repository: string, pullRequest: number, headSha: string): Promise<boolean>;
}
