/**
 * The App's one TelemetryStore in tests: the real `DatabaseTelemetryStore`, on the same in-memory PGlite as the
 * test's gate store (test/helpers/gate-store.ts), so an accepted bundle gets its `telemetry_accepted` entry and the
 * rationale check its SEQ:HASH, as in production. What was recorded is read back from `telemetry_runs` (with its
 * discrepancies) and the audit log, rather than from a second, in-memory implementation.
 */
import { asc, inArray } from "drizzle-orm";
import { DatabaseTelemetryStore } from "../../src/store/telemetry-store.js";
import { telemetryDiscrepancies, telemetryRuns } from "../../src/store/schema.js";
import type { Store } from "../../src/store/index.js";
import type { ReadEntry } from "./gate-store.js";

/** One `telemetry_runs` row as ingestion recorded it, with its discrepancies in insertion order. */
export interface ReadTelemetryRun {
  repository: string;
  pullRequest: number;
  headSha: string;
  workflowRunId: number;
  workflowPath: string | null;
  artifactId: number | null;
  format: string;
  accepted: boolean;
  reasons: unknown;
  agent: string | null;
  model: string | null;
  counts: Record<string, unknown>;
  discrepancies: Array<{ kind: string; path: string | null }>;
}

export class TestTelemetryStore extends DatabaseTelemetryStore {
  constructor(readonly database: Store) {
    super(database);
  }

  /** Telemetry outcomes recorded with a pull request, oldest first. */
  async runs(): Promise<ReadTelemetryRun[]> {
    const rows = await this.database.db.select().from(telemetryRuns).orderBy(asc(telemetryRuns.id));
    if (rows.length === 0) return [];
    const found = await this.database.db
      .select()
      .from(telemetryDiscrepancies)
      .where(
        inArray(
          telemetryDiscrepancies.telemetryRunId,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(asc(telemetryDiscrepancies.id));
    return rows.map((r) => ({
      repository: r.repository,
      pullRequest: r.pullRequest,
      headSha: r.headSha,
      workflowRunId: r.workflowRunId,
      workflowPath: r.workflowPath,
      artifactId: r.artifactId,
      format: r.format,
      accepted: r.accepted,
      reasons: r.reasons,
      agent: r.agent,
      model: r.model,
      counts: r.counts as Record<string, unknown>,
      discrepancies: found.filter((d) => d.telemetryRunId === r.id).map((d) => ({ kind: d.kind, path: d.path })),
    }));
  }

  /** The `telemetry_*` audit entries, oldest first, payloads parsed (the gate's own entries left out). */
  async audit(): Promise<ReadEntry[]> {
    const out: ReadEntry[] = [];
    for await (const entry of this.database.audit.export()) {
      if (entry.kind.startsWith("telemetry_")) out.push({ ...entry, payload: JSON.parse(entry.payload) as Record<string, unknown> });
    }
    return out;
  }
}
