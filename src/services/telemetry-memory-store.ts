/** The in-process TelemetryStore: the App's default without a database, and the tests' inspectable store. */
import type { RecordedTelemetry, TelemetryAuditEntry, TelemetryOutcomeRecord, TelemetryPublished, TelemetryStore } from "./telemetry-types.js";

const MAX_RECORDS = 5_000;

const runKey = (repository: string, pullRequest: number, workflowRunId: number) => `${repository.toLowerCase()}#${pullRequest}@${workflowRunId}`;

export class MemoryTelemetryStore implements TelemetryStore {
  /** Outcomes recorded with a pull request, oldest first (bounded). */
  readonly runs: TelemetryOutcomeRecord[] = [];
  /** Every audit entry appended, oldest first (bounded), with the PR it names. */
  readonly audit: Array<TelemetryAuditEntry & { repository: string; pullRequest: number | null; deliveryId: string | undefined }> = [];
  /** What is recorded per run; the published check run id once it is. */
  readonly #recorded = new Map<string, { accepted: boolean; headSha: string; checkRunId: number | null }>();

  async recorded(repository: string, pullRequest: number, workflowRunId: number): Promise<RecordedTelemetry | null> {
    const found = this.#recorded.get(runKey(repository, pullRequest, workflowRunId));
    // No audit chain in memory: there is no entry to name.
    return found ? { ...found, entry: null } : null;
  }

  async record(outcome: TelemetryOutcomeRecord): Promise<{ created: boolean; entry: null }> {
    if (outcome.pullRequest !== null) {
      const key = runKey(outcome.repository, outcome.pullRequest, outcome.workflowRunId);
      if (this.#recorded.has(key)) return { created: false, entry: null };
      this.#recorded.set(key, { accepted: outcome.accepted, headSha: outcome.headSha, checkRunId: null });
      this.runs.push(outcome);
      if (this.runs.length > MAX_RECORDS) this.runs.splice(0, this.runs.length - MAX_RECORDS);
    }
    for (const entry of outcome.audit) this.#append(entry, outcome.repository, outcome.pullRequest, outcome.deliveryId);
    return { created: true, entry: null };
  }

  async recordPublished(p: TelemetryPublished): Promise<void> {
    const found = this.#recorded.get(runKey(p.repository, p.pullRequest, p.workflowRunId));
    if (found) found.checkRunId = p.checkRunId;
    this.#append({ kind: "telemetry_published", payload: { workflowRunId: p.workflowRunId, headSha: p.headSha, checkRunId: p.checkRunId } }, p.repository, p.pullRequest, p.deliveryId);
  }

  async hasAccepted(repository: string, pullRequest: number, headSha: string): Promise<boolean> {
    const repo = repository.toLowerCase();
    return this.runs.some((r) => r.accepted && r.pullRequest === pullRequest && r.repository.toLowerCase() === repo && r.headSha.toLowerCase() === headSha.toLowerCase());
  }

  #append(entry: TelemetryAuditEntry, repository: string, pullRequest: number | null, deliveryId: string | undefined): void {
    this.audit.push({ ...entry, repository, pullRequest, deliveryId });
    if (this.audit.length > MAX_RECORDS) this.audit.splice(0, this.audit.length - MAX_RECORDS);
  }
}
