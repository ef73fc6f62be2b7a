/**
 * Read-only queries behind the compliance pages (src/web): agent pull requests with their latest decision, one
 * PR's trail, the audit entries a reader may see, and the aggregates the charts draw.
 *
 * Every query takes the set of repositories the reader may read (`owner/name`, compared case-insensitively, as
 * GitHub compares them) and never returns a row of another repository: access is enforced here, in the WHERE
 * clause, not by filtering afterwards. An empty set returns nothing.
 */
import { asc, desc, inArray, sql, type SQL } from "drizzle-orm";
import { normaliseRow as toAuditEntry, type AuditEntry } from "./audit.js";
import { queryRows, toDate, type Db } from "./executor.js";
import type { Approval, Evaluation, TelemetryDiscrepancy, TelemetryRun } from "./repositories.js";
import { approvals as approvalsTable, auditLog, evaluations as evaluationsTable, telemetryDiscrepancies, telemetryRuns } from "./schema.js";

/** What a reader calls a PR's state. A closed PR shows as merged or closed whatever its last decision was. */
export const DECISIONS = ["waiting", "approved", "overridden", "failed", "merged", "closed"] as const;
export type DecisionState = (typeof DECISIONS)[number];
export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const;

export interface AgentPullRequestFilter {
  /** The repositories the reader may read. Required: there is no "everything" default. */
  readable: readonly string[];
  repository?: string | undefined;
  risk?: string | undefined;
  decision?: DecisionState | undefined;
  /** Matches the telemetry's agent or model, or the PR author, case-insensitively (substring). */
  agent?: string | undefined;
  /** Opened at or after (inclusive). */
  from?: Date | undefined;
  /** Opened before (exclusive). */
  to?: Date | undefined;
}

export interface ApprovalSeen {
  reviewer: string;
  commitId: string | null;
}

export interface AgentPullRequestRow {
  repository: string;
  pullRequest: number;
  title: string | null;
  author: string | null;
  openedAt: Date | null;
  evaluationId: number;
  headSha: string;
  baseRef: string;
  risk: string;
  conclusion: string | null;
  decision: DecisionState;
  /** When the latest evaluation reached `approved` or `failed`; null while waiting. */
  decidedAt: Date | null;
  evaluations: number;
  approvedBy: ApprovalSeen[];
  telemetry: { accepted: boolean; reasons: string[]; agent: string | null; model: string | null } | null;
}

export interface Page<T> {
  rows: T[];
  total: number;
}

const lowerList = (names: readonly string[]): SQL =>
  sql.join(
    [...new Set(names.map((n) => n.toLowerCase()))].map((n) => sql`${n}`),
    sql`, `,
  );

/**
 * conclusion -> what a reader calls it. A check not (yet) published counts as waiting; a break-glass override
 * (the head's decision marked `overridden_by`) is `overridden`, never `approved`; a merge or close
 * (pull_request.closed) wins over the last decision.
 */
const decisionSql = sql`case when p.merged_at is not null then 'merged' when p.closed_at is not null then 'closed' when l.overridden_by is not null and l.conclusion = 'success' then 'overridden' when l.conclusion = 'success' then 'approved' when l.conclusion = 'failure' then 'failed' else 'waiting' end`;

/** One row per PR: its latest evaluation, its metadata and its latest telemetry, before the reader's filters. */
function agentPullRequestsCte(readable: readonly string[]): SQL {
  const inReadable = lowerList(readable);
  return sql`
    with latest as (
      select distinct on (e.repository, e.pull_request) e.*
      from evaluations e
      where lower(e.repository) in (${inReadable})
      order by e.repository, e.pull_request, e.id desc
    ), counts as (
      select repository, pull_request, min(created_at) as first_at, count(*)::int as n
      from evaluations where lower(repository) in (${inReadable}) group by repository, pull_request
    ), tel as (
      select distinct on (t.repository, t.pull_request) t.repository, t.pull_request, t.accepted, t.reasons, t.agent, t.model
      from telemetry_runs t
      where lower(t.repository) in (${inReadable})
      order by t.repository, t.pull_request, t.id desc
    ), prs as (
      select l.id as evaluation_id, l.repository, l.pull_request, l.head_sha, l.base_ref, l.risk, l.conclusion,
        ${decisionSql} as decision,
        case when l.conclusion in ('success', 'failure') then l.created_at end as decided_at,
        p.title, p.author, coalesce(p.opened_at, c.first_at) as opened_at, c.n as evaluations,
        tel.accepted as telemetry_accepted, tel.reasons as telemetry_reasons, tel.agent, tel.model
      from latest l
      join counts c on c.repository = l.repository and c.pull_request = l.pull_request
      left join pull_requests p on p.repository = l.repository and p.pull_request = l.pull_request
      left join tel on tel.repository = l.repository and tel.pull_request = l.pull_request
    )`;
}

function filterSql(filter: AgentPullRequestFilter): SQL {
  const conditions: SQL[] = [sql`true`];
  if (filter.repository) conditions.push(sql`lower(repository) = ${filter.repository.toLowerCase()}`);
  if (filter.risk) conditions.push(sql`risk = ${filter.risk}`);
  if (filter.decision) conditions.push(sql`decision = ${filter.decision}`);
  if (filter.agent) {
    const like = `%${filter.agent.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(sql`(lower(coalesce(agent, '')) like ${like} or lower(coalesce(model, '')) like ${like} or lower(coalesce(author, '')) like ${like})`);
  }
  if (filter.from) conditions.push(sql`opened_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) conditions.push(sql`opened_at < ${filter.to.toISOString()}::timestamptz`);
  return sql.join(conditions, sql` and `);
}

interface PrRow {
  evaluation_id: unknown;
  repository: string;
  pull_request: number;
  head_sha: string;
  base_ref: string;
  risk: string;
  conclusion: string | null;
  decision: DecisionState;
  decided_at: unknown;
  title: string | null;
  author: string | null;
  opened_at: unknown;
  evaluations: number;
  telemetry_accepted: boolean | null;
  telemetry_reasons: unknown;
  agent: string | null;
  model: string | null;
  total: unknown;
}

const dateOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : toDate(value));

function jsonArray(value: unknown): string[] {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

function toPrRow(row: PrRow, approvedBy: Map<number, ApprovalSeen[]>): AgentPullRequestRow {
  const evaluationId = Number(row.evaluation_id);
  return {
    repository: row.repository,
    pullRequest: Number(row.pull_request),
    title: row.title,
    author: row.author,
    openedAt: dateOrNull(row.opened_at),
    evaluationId,
    headSha: row.head_sha,
    baseRef: row.base_ref,
    risk: row.risk,
    conclusion: row.conclusion,
    decision: row.decision,
    decidedAt: dateOrNull(row.decided_at),
    evaluations: Number(row.evaluations),
    approvedBy: approvedBy.get(evaluationId) ?? [],
    telemetry:
      row.telemetry_accepted === null ? null : { accepted: row.telemetry_accepted, reasons: jsonArray(row.telemetry_reasons), agent: row.agent, model: row.model },
  };
}

export interface ChartData {
  /** Agent PRs per week (Monday, UTC) and risk level, oldest week first. */
  perWeek: Array<{ week: Date; risk: string; count: number }>;
  /** Seconds from opened to approved, for each approved PR. */
  approvalSeconds: number[];
}

export interface AuditEntryFilter {
  readable: readonly string[];
  repository?: string | undefined;
  pullRequest?: number | undefined;
  kind?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Entries with an id below this (keyset paging, newest first). */
  beforeId?: number | undefined;
  limit: number;
}

export interface ComplianceQueries {
  agentPullRequests(filter: AgentPullRequestFilter, page: { limit: number; offset: number }): Promise<Page<AgentPullRequestRow>>;
  charts(filter: AgentPullRequestFilter): Promise<ChartData>;
  /** Every evaluation of one PR, oldest first, with the approvals each considered. */
  trail(readable: readonly string[], repository: string, pullRequest: number): Promise<PullRequestTrail | null>;
  auditEntries(filter: AuditEntryFilter): Promise<AuditEntry[]>;
  /** Repositories the reader may read that have at least one evaluation (for the filter's choices). */
  repositories(readable: readonly string[]): Promise<string[]>;
  /** Every repository the App has recorded an evaluation or audit entry of. */
  recordedRepositories(): Promise<string[]>;
  /** The repository of one audit entry (null: none, or no such entry). */
  auditEntryRepository(id: number): Promise<string | null>;
}

/** What the trail shows of an evaluation: these columns, as recorded. */
const TRAIL_EVALUATION_COLUMNS = [
  "id", "createdAt", "headSha", "baseRef", "baseSha", "policySource", "policyCommit", "codeownersPath",
  "risk", "findings", "requirements", "decision", "conclusion", "checkRunId", "deliveryId",
] as const satisfies ReadonlyArray<keyof Evaluation>;
const TRAIL_APPROVAL_COLUMNS = ["reviewer", "state", "commitId", "counted", "reason"] as const satisfies ReadonlyArray<keyof Approval>;
const TRAIL_TELEMETRY_COLUMNS = [
  "id", "createdAt", "headSha", "workflowRunId", "workflowPath", "format", "accepted", "agent", "model", "counts", "trace",
] as const satisfies ReadonlyArray<keyof TelemetryRun>;
const TRAIL_DISCREPANCY_COLUMNS = ["kind", "path", "detail"] as const satisfies ReadonlyArray<keyof TelemetryDiscrepancy>;

export type TrailEvaluation = Pick<Evaluation, (typeof TRAIL_EVALUATION_COLUMNS)[number]> & {
  /** Break-glass: who overrode this head's check and why; null for a normal decision. */
  override: { by: string; reason: string } | null;
  approvals: Array<Pick<Approval, (typeof TRAIL_APPROVAL_COLUMNS)[number]>>;
};

export type TrailTelemetry = Pick<TelemetryRun, (typeof TRAIL_TELEMETRY_COLUMNS)[number]> & {
  reasons: string[];
  discrepancies: Array<Pick<TelemetryDiscrepancy, (typeof TRAIL_DISCREPANCY_COLUMNS)[number]>>;
};

export interface PullRequestTrail {
  repository: string;
  pullRequest: number;
  title: string | null;
  author: string | null;
  openedAt: Date | null;
  /** pull_request.closed: when, and whether merged (by whom); all null while open (a reopen's next decision clears them). */
  closedAt: Date | null;
  mergedAt: Date | null;
  mergedBy: string | null;
  evaluations: TrailEvaluation[];
  telemetry: TrailTelemetry[];
  audit: AuditEntry[];
}

/** At most this many audit entries are shown on one PR's page (the export has them all). */
export const TRAIL_AUDIT_LIMIT = 500;

const idList = (ids: number[]): SQL =>
  sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );

/** `row` with only `columns` (the trail shows what it names, not every column recorded). */
function pick<T extends object, K extends keyof T>(row: T, columns: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const column of columns) out[column] = row[column];
  return out;
}

function toTrailEvaluation(e: Evaluation, approvals: readonly Approval[]): TrailEvaluation {
  return {
    ...pick(e, TRAIL_EVALUATION_COLUMNS),
    override: e.overriddenBy === null ? null : { by: e.overriddenBy, reason: e.overrideReason ?? "" },
    approvals: approvals.filter((a) => a.evaluationId === e.id).map((a) => pick(a, TRAIL_APPROVAL_COLUMNS)),
  };
}

function toTrailTelemetry(t: TelemetryRun, discrepancies: readonly TelemetryDiscrepancy[]): TrailTelemetry {
  return {
    ...pick(t, TRAIL_TELEMETRY_COLUMNS),
    reasons: jsonArray(t.reasons),
    discrepancies: discrepancies.filter((d) => d.telemetryRunId === t.id).map((d) => pick(d, TRAIL_DISCREPANCY_COLUMNS)),
  };
}

/** One PR's trail, or null when the reader may not read its repository or it has no evaluation. */
async function loadTrail(db: Db, readable: readonly string[], repository: string, pullRequest: number): Promise<PullRequestTrail | null> {
  const repo = repository.toLowerCase();
  if (!readable.some((r) => r.toLowerCase() === repo)) return null;
  const where = sql`lower(repository) = ${repo} and pull_request = ${pullRequest}`;
  const ofThisPr = (t: typeof evaluationsTable | typeof telemetryRuns | typeof auditLog) => sql`lower(${t.repository}) = ${repo} and ${t.pullRequest} = ${pullRequest}`;
  const evaluations = await db.select().from(evaluationsTable).where(ofThisPr(evaluationsTable)).orderBy(asc(evaluationsTable.id));
  const first = evaluations[0];
  if (!first) return null;
  const approvals = await db.select().from(approvalsTable).where(inArray(approvalsTable.evaluationId, evaluations.map((e) => e.id))).orderBy(asc(approvalsTable.id));
  const [meta] = await queryRows<{ title: string; author: string | null; opened_at: unknown; closed_at: unknown; merged_at: unknown; merged_by: string | null }>(
    db,
    sql`select title, author, opened_at, closed_at, merged_at, merged_by from pull_requests where ${where}`,
  );
  const telemetry = await db.select().from(telemetryRuns).where(ofThisPr(telemetryRuns)).orderBy(asc(telemetryRuns.id));
  const discrepancies = telemetry.length
    ? await db.select().from(telemetryDiscrepancies).where(inArray(telemetryDiscrepancies.telemetryRunId, telemetry.map((t) => t.id))).orderBy(asc(telemetryDiscrepancies.id))
    : [];
  const audit = await db.select().from(auditLog).where(ofThisPr(auditLog)).orderBy(asc(auditLog.id)).limit(TRAIL_AUDIT_LIMIT);
  return {
    repository: first.repository,
    pullRequest,
    title: meta?.title ?? null,
    author: meta?.author ?? null,
    openedAt: dateOrNull(meta?.opened_at) ?? first.createdAt,
    closedAt: dateOrNull(meta?.closed_at),
    mergedAt: dateOrNull(meta?.merged_at),
    mergedBy: meta?.merged_by ?? null,
    evaluations: evaluations.map((e) => toTrailEvaluation(e, approvals)),
    telemetry: telemetry.map((t) => toTrailTelemetry(t, discrepancies)),
    audit: audit.map(toAuditEntry),
  };
}

/** The counted approvals of each evaluation. */
async function approvedByOf(db: Db, evaluationIds: number[]): Promise<Map<number, ApprovalSeen[]>> {
  const out = new Map<number, ApprovalSeen[]>();
  if (evaluationIds.length === 0) return out;
  const rows = await queryRows<{ evaluation_id: unknown; reviewer: string; commit_id: string | null }>(
    db,
    sql`select evaluation_id, reviewer, commit_id from approvals where counted and evaluation_id in (${idList(evaluationIds)}) order by id`,
  );
  for (const r of rows) {
    const id = Number(r.evaluation_id);
    out.set(id, [...(out.get(id) ?? []), { reviewer: r.reviewer, commitId: r.commit_id }]);
  }
  return out;
}

/** Agent PRs per week by risk, and the time each approved one took. */
async function loadCharts(db: Db, filter: AgentPullRequestFilter): Promise<ChartData> {
  if (filter.readable.length === 0) return { perWeek: [], approvalSeconds: [] };
  const cte = agentPullRequestsCte(filter.readable);
  const where = filterSql(filter);
  const weeks = await queryRows<{ week: unknown; risk: string; n: unknown }>(
    db,
    sql`${cte} select date_trunc('week', opened_at at time zone 'UTC') as week, risk, count(*)::int as n from prs
      where ${where} and opened_at is not null group by 1, 2 order by 1, 2`,
  );
  const approved = await queryRows<{ seconds: unknown }>(
    db,
    sql`${cte} select extract(epoch from decided_at - opened_at)::float8 as seconds from prs
      where ${where} and decision = 'approved' and opened_at is not null and decided_at >= opened_at order by 1`,
  );
  return {
    perWeek: weeks.map((w) => ({ week: new Date(`${String(toDate(w.week).toISOString()).slice(0, 10)}T00:00:00Z`), risk: w.risk, count: Number(w.n) })),
    approvalSeconds: approved.map((a) => Number(a.seconds)),
  };
}

/** A page of the audit log the reader may read, newest first. */
async function loadAuditEntries(db: Db, filter: AuditEntryFilter): Promise<AuditEntry[]> {
  if (filter.readable.length === 0) return [];
  const conditions: SQL[] = [sql`lower(${auditLog.repository}) in (${lowerList(filter.readable)})`];
  if (filter.repository) conditions.push(sql`lower(${auditLog.repository}) = ${filter.repository.toLowerCase()}`);
  if (filter.pullRequest !== undefined) conditions.push(sql`${auditLog.pullRequest} = ${filter.pullRequest}`);
  if (filter.kind) conditions.push(sql`${auditLog.kind} = ${filter.kind}`);
  if (filter.from) conditions.push(sql`${auditLog.createdAt} >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) conditions.push(sql`${auditLog.createdAt} < ${filter.to.toISOString()}::timestamptz`);
  if (filter.beforeId !== undefined) conditions.push(sql`${auditLog.id} < ${filter.beforeId}`);
  const rows = await db.select().from(auditLog).where(sql.join(conditions, sql` and `)).orderBy(desc(auditLog.id)).limit(filter.limit);
  return rows.map(toAuditEntry);
}

export function createComplianceQueries(db: Db): ComplianceQueries {
  return {
    async agentPullRequests(filter, page) {
      if (filter.readable.length === 0) return { rows: [], total: 0 };
      const rows = await queryRows<PrRow>(
        db,
        sql`${agentPullRequestsCte(filter.readable)}
          select *, count(*) over () as total from prs where ${filterSql(filter)}
          order by opened_at desc nulls last, repository, pull_request
          limit ${page.limit} offset ${page.offset}`,
      );
      const approvedBy = await approvedByOf(db, rows.map((r) => Number(r.evaluation_id)));
      return { rows: rows.map((r) => toPrRow(r, approvedBy)), total: rows[0] ? Number(rows[0].total) : 0 };
    },

    charts: (filter) => loadCharts(db, filter),

    trail: (readable, repository, pullRequest) => loadTrail(db, readable, repository, pullRequest),

    auditEntries: (filter) => loadAuditEntries(db, filter),

    async repositories(readable) {
      if (readable.length === 0) return [];
      const rows = await queryRows<{ repository: string }>(
        db,
        sql`select distinct repository from evaluations where lower(repository) in (${lowerList(readable)}) order by repository`,
      );
      return rows.map((r) => r.repository);
    },

    async recordedRepositories() {
      const rows = await queryRows<{ repository: string }>(
        db,
        sql`select repository from evaluations union select repository from audit_log where repository is not null order by 1`,
      );
      return rows.map((r) => r.repository);
    },

    async auditEntryRepository(id) {
      const [row] = await queryRows<{ repository: string | null }>(db, sql`select repository from audit_log where id = ${id}`);
      return row?.repository ?? null;
    },
  };
}
