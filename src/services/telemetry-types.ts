/**
 * The telemetry seam of the services: what ingestion records and what the approval check asks. Implemented in
 * memory (`MemoryTelemetryStore`) and over the database (`DatabaseTelemetryStore` in src/store/telemetry-store.ts).
 */
import type { AuditKind } from "../store/audit.js";
import type { TelemetryOutcomeInput } from "../store/telemetry-store.js";

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

/**
 * What one ingestion attempt concluded, accepted or rejected, with the audit entries that go with it: the
 * store's row shape (`TelemetryOutcomeInput`), with the services' narrower discrepancy and audit kinds.
 */
export interface TelemetryOutcomeRecord extends Omit<TelemetryOutcomeInput, "discrepancies" | "audit"> {
  discrepancies: TelemetryDiscrepancyRecord[];
  audit: TelemetryAuditEntry[];
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
