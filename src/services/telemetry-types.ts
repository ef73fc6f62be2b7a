/**
 * The telemetry seam of the services: what ingestion records and what the approval check asks. Implemented once,
 * over the database (`DatabaseTelemetryStore` in src/store/telemetry-store.ts), which appends the audit entries
 * the rationale check names; tests run it on an in-memory PGlite.
 */
import type { AuditKind } from "../store/audit.js";
import type { RecordedTelemetryRow, TelemetryOutcomeInput, TelemetryPublishedInput } from "../store/telemetry-store.js";
import type { AuditWitnessRef } from "./types.js";

/** One audit entry ingestion asks the store to append with the outcome (telemetry_* kinds only). */
export interface TelemetryAuditEntry {
  kind: Extract<AuditKind, "telemetry_accepted" | "telemetry_rejected" | "telemetry_discrepancy" | "telemetry_published">;
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

/** What is recorded for one pull request and workflow run: a redelivery, or a retry after a crash, reads it first. */
export type RecordedTelemetry = RecordedTelemetryRow;

/** The rationale check GitHub took for recorded telemetry. */
export type TelemetryPublished = TelemetryPublishedInput;

export interface TelemetryStore {
  /** What is recorded for this pull request and workflow run, or null when nothing is. */
  recorded(repository: string, pullRequest: number, workflowRunId: number): Promise<RecordedTelemetry | null>;
  /**
   * Records the outcome and its audit entries together (one transaction in the database), before anything is
   * published. Idempotent per repository, pull request and workflow run: a second call writes nothing and returns
   * `created: false`. `entry`: the `telemetry_accepted` entry (the first call's, on a second call), else null.
   */
  record(outcome: TelemetryOutcomeRecord): Promise<{ created: boolean; entry: AuditWitnessRef | null }>;
  /** Appends the `telemetry_published` entry: the rationale check of recorded telemetry is on GitHub. */
  recordPublished(published: TelemetryPublished): Promise<void>;
  /** True when telemetry was accepted for this pull request at this head commit. */
  hasAccepted(repository: string, pullRequest: number, headSha: string): Promise<boolean>;
}
