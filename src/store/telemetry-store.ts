/**
 * The database implementation of the services' telemetry seam (src/services/telemetry-types.ts): one telemetry
 * outcome, its discrepancies and its audit entries land in one transaction, or none of them does. Declared
 * structurally here because the store room does not import the services.
 */
import { and, eq, sql } from "drizzle-orm";
import type { AuditKind } from "./audit.js";
import { telemetryRuns } from "./schema.js";
import type { Store } from "./store.js";

export interface TelemetryOutcomeInput {
  repository: string;
  /** null: no pull request identified; only the audit entries are written. */
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
  /** Already redacted (invariant 7). */
  trace: unknown;
  discrepancies: Array<{ kind: string; path: string }>;
  audit: Array<{ kind: AuditKind; payload: unknown }>;
  deliveryId: string | undefined;
}

export class DatabaseTelemetryStore {
  constructor(private readonly store: Store) {}

  async alreadyRecorded(repository: string, pullRequest: number, workflowRunId: number): Promise<boolean> {
    const rows = await this.store.db
      .select({ id: telemetryRuns.id })
      .from(telemetryRuns)
      .where(and(eq(telemetryRuns.repository, repository), eq(telemetryRuns.pullRequest, pullRequest), eq(telemetryRuns.workflowRunId, workflowRunId)))
      .limit(1);
    return rows.length > 0;
  }

  async record(outcome: TelemetryOutcomeInput): Promise<{ created: boolean }> {
    return this.store.transaction(async (tx) => {
      if (outcome.pullRequest !== null) {
        const { created } = await tx.telemetry.record({
          repository: outcome.repository,
          pullRequest: outcome.pullRequest,
          headSha: outcome.headSha,
          workflowRunId: outcome.workflowRunId,
          workflowPath: outcome.workflowPath,
          artifactId: outcome.artifactId,
          format: outcome.format,
          accepted: outcome.accepted,
          reasons: outcome.reasons,
          agent: outcome.agent,
          model: outcome.model,
          counts: outcome.counts,
          trace: outcome.trace ?? null,
          discrepancies: outcome.discrepancies.map((d) => ({ kind: d.kind, path: d.path })),
        });
        // A redelivery: the first attempt's row and audit entries stand; appending again would duplicate them.
        if (!created) return { created: false };
      }
      for (const entry of outcome.audit) {
        await tx.audit.append({ kind: entry.kind, repository: outcome.repository, pullRequest: outcome.pullRequest, deliveryId: outcome.deliveryId ?? null, payload: entry.payload });
      }
      return { created: true };
    });
  }

  async hasAccepted(repository: string, pullRequest: number, headSha: string): Promise<boolean> {
    const rows = await this.store.db
      .select({ id: telemetryRuns.id })
      .from(telemetryRuns)
      .where(
        and(
          eq(telemetryRuns.repository, repository),
          eq(telemetryRuns.pullRequest, pullRequest),
          sql`lower(${telemetryRuns.headSha}) = lower(${headSha})`,
          eq(telemetryRuns.accepted, true),
        ),
      )
      .limit(1);
    return rows.length > 0;
  }
}
