/**
 * The database implementation of the services' telemetry seam (src/services/telemetry-types.ts): one telemetry
 * outcome, its discrepancies and its audit entries land in one transaction, or none of them does. Declared
 * structurally here because the store room does not import the services.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { AuditKind } from "./audit.js";
import { auditLog, telemetryRuns } from "./schema.js";
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

/** An audit entry as a check run names it (`SEQ:HASH`). */
export interface TelemetryAuditRef {
  id: number;
  hash: string;
}

export interface RecordedTelemetryRow {
  accepted: boolean;
  /** The head the telemetry was judged against. */
  headSha: string;
  /** The `telemetry_accepted` entry the rationale check names; null when rejected, or in a store without an audit log. */
  entry: TelemetryAuditRef | null;
  /** The rationale check recorded as published (`telemetry_published`); null when a crash came between recording and that. */
  checkRunId: number | null;
}

export interface TelemetryPublishedInput {
  repository: string;
  pullRequest: number;
  workflowRunId: number;
  headSha: string;
  checkRunId: number;
  deliveryId: string | undefined;
}

export class DatabaseTelemetryStore {
  constructor(private readonly store: Store) {}

  async recorded(repository: string, pullRequest: number, workflowRunId: number): Promise<RecordedTelemetryRow | null> {
    const [row] = await this.store.db
      .select({ accepted: telemetryRuns.accepted, headSha: telemetryRuns.headSha })
      .from(telemetryRuns)
      .where(and(eq(telemetryRuns.repository, repository), eq(telemetryRuns.pullRequest, pullRequest), eq(telemetryRuns.workflowRunId, workflowRunId)))
      .limit(1);
    if (!row) return null;
    const entries = await this.#entriesOf(repository, pullRequest, workflowRunId);
    const accepted = entries.find((e) => e.kind === "telemetry_accepted");
    const published = entries.find((e) => e.kind === "telemetry_published");
    const checkRunId = published ? (published.payload as { checkRunId?: unknown }).checkRunId : null;
    return {
      accepted: row.accepted,
      headSha: row.headSha,
      entry: accepted ? { id: accepted.id, hash: accepted.hash } : null,
      checkRunId: typeof checkRunId === "number" ? checkRunId : null,
    };
  }

  async record(outcome: TelemetryOutcomeInput): Promise<{ created: boolean; entry: TelemetryAuditRef | null }> {
    const result = await this.store.transaction(async (tx) => {
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
        if (!created) return { created: false, entry: null };
      }
      const appended = await tx.audit.appendAll(
        outcome.audit.map((e) => ({ kind: e.kind, repository: outcome.repository, pullRequest: outcome.pullRequest, deliveryId: outcome.deliveryId ?? null, payload: e.payload })),
      );
      const accepted = appended.find((a) => a.kind === "telemetry_accepted");
      return { created: true, entry: accepted ? { id: accepted.id, hash: accepted.hash } : null };
    });
    if (result.created || outcome.pullRequest === null) return result;
    // Recorded by an earlier attempt (which may have died before publishing): its entry is the one to name.
    return { created: false, entry: (await this.recorded(outcome.repository, outcome.pullRequest, outcome.workflowRunId))?.entry ?? null };
  }

  async recordPublished(published: TelemetryPublishedInput): Promise<void> {
    await this.store.audit.append({
      kind: "telemetry_published",
      repository: published.repository,
      pullRequest: published.pullRequest,
      deliveryId: published.deliveryId ?? null,
      payload: { workflowRunId: published.workflowRunId, headSha: published.headSha, checkRunId: published.checkRunId },
    });
  }

  /** The telemetry_accepted and telemetry_published entries of one workflow run (a pull request has few). */
  async #entriesOf(repository: string, pullRequest: number, workflowRunId: number): Promise<Array<{ id: number; hash: string; kind: string; payload: unknown }>> {
    const rows = await this.store.db
      .select({ id: auditLog.id, hash: auditLog.hash, kind: auditLog.kind, payload: auditLog.payload })
      .from(auditLog)
      .where(and(sql`lower(${auditLog.repository}) = lower(${repository})`, eq(auditLog.pullRequest, pullRequest), inArray(auditLog.kind, ["telemetry_accepted", "telemetry_published"])))
      .orderBy(asc(auditLog.id));
    return rows
      .map((r) => ({ id: Number(r.id), hash: r.hash, kind: r.kind, payload: JSON.parse(r.payload) as unknown }))
      .filter((r) => (r.payload as { workflowRunId?: unknown }).workflowRunId === workflowRunId);
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
