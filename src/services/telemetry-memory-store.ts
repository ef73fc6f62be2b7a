/** The in-process TelemetryStore: the App's default without a database, and the tests' inspectable store. */
import type { TelemetryAuditEntry, TelemetryOutcomeRecord, TelemetryStore } from "./telemetry-types.js";

const MAX_RECORDS = 5_000;

const runKey = (repository: string, pullRequest: number, workflowRunId: number) => `${repository.toLowerCase()}#${pullRequest}@${workflowRunId}`;

export class MemoryTelemetryStore implements TelemetryStore {
  /** Outcomes recorded with a pull request, oldest first (bounded). */
  readonly runs: TelemetryOutcomeRecord[] = [];
  /** Every audit entry appended, oldest first (bounded), with the PR it names. */
  readonly audit: Array<TelemetryAuditEntry & { repository: string; pullRequest: number | null; deliveryId: string | undefined }> = [];
  readonly #keys = new Set<string>();

  async alreadyRecorded(repository: string, pullRequest: number, workflowRunId: number): Promise<boolean> {
    return this.#keys.has(runKey(repository, pullRequest, workflowRunId));
  }

  async record(outcome: TelemetryOutcomeRecord): Promise<{ created: boolean }> {
    if (outcome.pullRequest !== null) {
      const key = runKey(outcome.repository, outcome.pullRequest, outcome.workflowRunId);
      if (this.#keys.has(key)) return { created: false };
      this.#keys.add(key);
      this.runs.push(outcome);
      if (this.runs.length > MAX_RECORDS) this.runs.splice(0, this.runs.length - MAX_RECORDS);
    }
    for (const entry of outcome.audit) {
      this.audit.push({ ...entry, repository: outcome.repository, pullRequest: outcome.pullRequest, deliveryId: outcome.deliveryId });
    }
    if (this.audit.length > MAX_RECORDS) this.audit.splice(0, this.audit.length - MAX_RECORDS);
    return { created: true };
  }

  async hasAccepted(repository: string, pullRequest: number, headSha: string): Promise<boolean> {
    const repo = repository.toLowerCase();
    return this.runs.some((r) => r.accepted && r.pullRequest === pullRequest && r.repository.toLowerCase() === repo && r.headSha.toLowerCase() === headSha.toLowerCase());
  }
}
