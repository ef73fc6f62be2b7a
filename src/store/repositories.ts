/**
 * Typed repositories the App calls. Each works the same at the top level (`store.x`) and inside a
 * transaction (`tx.x`); multi-row writes run in one transaction so they land together or not at all.
 */
import { and, desc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import type { Placeholder, SQL } from "drizzle-orm";
import type { Db, Executor } from "./executor.js";
import { createPushers, createReviewObservations } from "./approval-memory.js";
import type { PushersRepository, ReviewObservationsRepository } from "./approval-memory.js";
import { createCheckRuns } from "./check-runs.js";
import type { CheckRunsRepository } from "./check-runs.js";
import { createPendingWork, insertPendingWork, jsonValue, pendingRowValues } from "./pending-work.js";
import type { PendingRowValues } from "./pending-work.js";
import { placeholders, reusableRows, reusableStatement } from "./reusable-statement.js";
import type { LockedWork, PendingOffer } from "./pending-work.js";
import { createReconciliation } from "./reconciliation.js";
import type { ReconciliationRepository } from "./reconciliation.js";
import type { PendingWorkRepository } from "./pending-work.js";
import { withNulls } from "./rows.js";
import {
  approvals,
  evaluations,
  installations,
  pullRequestHeads,
  pullRequestTriggers,
  pullRequests,
  repositories,
  reviewRequests,
  telemetryDiscrepancies,
  telemetryRuns,
  webhookDeliveries,
  webSessions,
} from "./schema.js";

export type Evaluation = typeof evaluations.$inferSelect;
export type Approval = typeof approvals.$inferSelect;
export type TelemetryRun = typeof telemetryRuns.$inferSelect;
export type TelemetryDiscrepancy = typeof telemetryDiscrepancies.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type DeliveryOutcome = "processed" | "skipped" | "failed";

// ---------------------------------------------------------------------------------------------- deliveries

export interface DeliveryBegin {
  /** The X-GitHub-Delivery header (kept on a manual redelivery). */
  guid: string;
  /** Omit (or 0) for events without an installation. */
  installationId?: number | null | undefined;
  event: string;
  action?: string | null | undefined;
}

export interface DeliveriesRepository {
  /**
   * Records a delivery before any work. "duplicate" when this GUID was already processed or skipped, or is
   * being processed right now; the caller then does nothing (invariant 9). A delivery whose earlier attempt
   * `failed`, or that was left `pending` for `staleAfterMs` or longer (a crashed process; 0: any pending one), is taken again: "new".
   * @throws when the row cannot be written: answer the webhook with an error status so it can be redelivered.
   */
  begin(delivery: DeliveryBegin, options?: { staleAfterMs?: number }): Promise<"new" | "duplicate">;
  /**
   * `begin` and, only when the delivery is new, the first `pendingWork.offer` of its work, in one statement (the
   * edge's hot path: one round trip instead of two or three). "created": a new pending row (enqueue its job);
   * "pending": the key already had one, now locked and read (`locked`), so the caller folds the work in with
   * `pendingWork.offer(work, fold, locked)`; "duplicate": as `begin`.
   */
  beginAndOffer(delivery: DeliveryBegin, work: PendingOffer): Promise<{ outcome: "created" | "duplicate" } | { outcome: "pending"; locked: LockedWork | undefined }>;
  finish(guid: string, installationId: number | null | undefined, outcome: DeliveryOutcome, error?: string): Promise<void>;
  /** Finishes those of `guids` still `pending` with `outcome`, in one statement; returns the guids it finished. */
  finishPending(guids: readonly string[], installationId: number | null | undefined, outcome: DeliveryOutcome): Promise<string[]>;
  get(guid: string, installationId?: number | null): Promise<WebhookDelivery | null>;
}

const DEFAULT_STALE_PENDING_MS = 10 * 60 * 1000;

/** The delivery's columns as inserted (or placeholders for them). */
interface DeliveryValues {
  guid: string | Placeholder;
  installationId: number | Placeholder;
  event: string | Placeholder;
  action: string | null | Placeholder;
}

function deliveryValues(delivery: DeliveryBegin): { guid: string; installationId: number; event: string; action: string | null } {
  if (!delivery.guid) throw new TypeError("delivery guid is required");
  return { guid: delivery.guid, installationId: delivery.installationId ?? 0, event: delivery.event, action: delivery.action ?? null };
}

/**
 * The delivery's row, new (one id returned) or taken again after a failed or stale attempt; no row returned
 * when it is a duplicate (see `begin`).
 */
function deliveryUpsert(db: Db, values: DeliveryValues, staleAfterMs = DEFAULT_STALE_PENDING_MS) {
  return db
    .insert(webhookDeliveries)
    .values(values)
    .onConflictDoUpdate({
      target: [webhookDeliveries.installationId, webhookDeliveries.guid],
      set: { attempts: sql`${webhookDeliveries.attempts} + 1`, outcome: "pending", error: null, finishedAt: null, receivedAt: sql`now()` },
      setWhere: sql`${webhookDeliveries.outcome} = 'failed' or (${webhookDeliveries.outcome} = 'pending' and ${webhookDeliveries.receivedAt} <= now() - make_interval(secs => ${staleAfterMs / 1000}::double precision))`,
    })
    .returning({ id: webhookDeliveries.id });
}

/** `{ a: 1 }` as `{ "prefix.a": 1 }`: placeholder names of one statement's two rows. */
function prefixed(prefix: string, values: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/**
 * `begin` and the first `offer` in one statement (data-modifying CTEs): the work is inserted only when the delivery
 * is new. When the key is already pending, its row is locked and read here too, ready to be folded into. Built
 * once (the edge's hot path: one per delivery).
 */
const beginAndOfferStatement = reusableRows<Record<string, unknown>, { begun: boolean; created: boolean; waiting: unknown }>(
  "deliveries.beginAndOffer",
  (db) => {
    const d = (name: keyof DeliveryValues) => sql.placeholder(`delivery.${name}`);
    const w = (name: keyof PendingRowValues) => sql.placeholder(`work.${name}`);
    return sql`with begun as (${deliveryUpsert(db, { guid: d("guid"), installationId: d("installationId"), event: d("event"), action: d("action") }).getSQL()}),
                    created as (${insertPendingWork({ key: w("key"), kind: w("kind"), installationId: w("installationId"), work: w("work"), deliveries: w("deliveries") }, sql`where exists (select 1 from begun)`)}),
                    waiting as (select work from pending_work where key = ${w("key")} and exists (select 1 from begun) and not exists (select 1 from created) for update)
               select exists (select 1 from begun) as begun, exists (select 1 from created) as created, (select work from waiting) as waiting`;
  },
);

// Built once (reusableStatement): every job reads its delivery and finishes it.
const ofDelivery = (p: Record<"guid" | "installationId", Placeholder>) => and(eq(webhookDeliveries.installationId, p.installationId), eq(webhookDeliveries.guid, p.guid));

const finishStatement = reusableStatement<{ guid: string; installationId: number; outcome: DeliveryOutcome; error: string | null }, unknown>("deliveries.finish", (db) => {
  const p = placeholders("guid", "installationId", "outcome", "error");
  return db.update(webhookDeliveries).set({ outcome: sql`${p.outcome}`, error: sql`${p.error}`, finishedAt: sql`now()` }).where(ofDelivery(p));
});

const getDeliveryStatement = reusableStatement<{ guid: string; installationId: number }, WebhookDelivery[]>("deliveries.get", (db) =>
  db.select().from(webhookDeliveries).where(ofDelivery(placeholders("guid", "installationId"))),
);

function createDeliveries(exec: Executor): DeliveriesRepository {
  return {
    async begin(delivery, options = {}) {
      const rows = await deliveryUpsert(exec.db(), deliveryValues(delivery), options.staleAfterMs);
      return rows.length > 0 ? "new" : "duplicate";
    },
    async beginAndOffer(delivery, work) {
      const [row] = await beginAndOfferStatement(exec.db(), { ...prefixed("delivery", deliveryValues(delivery)), ...prefixed("work", pendingRowValues(work)) });
      if (!row?.begun) return { outcome: "duplicate" };
      if (row.created) return { outcome: "created" };
      // Null: the waiting row was settled meanwhile; `offer` finds out what is there now.
      return { outcome: "pending", locked: row.waiting === null ? undefined : { work: jsonValue(row.waiting) } };
    },
    async finish(guid, installationId, outcome, error) {
      await finishStatement(exec.db(), { guid, installationId: installationId ?? 0, outcome, error: error ?? null });
    },
    async finishPending(guids, installationId, outcome) {
      if (guids.length === 0) return [];
      const rows = await exec
        .db()
        .update(webhookDeliveries)
        .set({ outcome, error: null, finishedAt: sql`now()` })
        .where(and(eq(webhookDeliveries.installationId, installationId ?? 0), inArray(webhookDeliveries.guid, [...guids]), eq(webhookDeliveries.outcome, "pending")))
        .returning({ guid: webhookDeliveries.guid });
      return rows.map((r) => r.guid);
    },
    async get(guid, installationId) {
      const [row] = await getDeliveryStatement(exec.db(), { guid, installationId: installationId ?? 0 });
      return row ?? null;
    },
  };
}

// ------------------------------------------------------------------------------ installations, repositories

export interface InstallationsRepository {
  upsert(installation: { id: number; accountLogin: string; accountType?: string | null }): Promise<void>;
  markSuspended(id: number, suspended: boolean): Promise<void>;
  markDeleted(id: number): Promise<void>;
  get(id: number): Promise<typeof installations.$inferSelect | null>;
}

function createInstallations(exec: Executor): InstallationsRepository {
  return {
    async upsert(i) {
      const fields = { accountLogin: i.accountLogin, accountType: i.accountType ?? null };
      const set = { ...fields, updatedAt: sql`now()`, deletedAt: null };
      await exec.db().insert(installations).values({ id: i.id, ...fields }).onConflictDoUpdate({ target: installations.id, set });
    },
    async markSuspended(id, suspended) {
      await exec
        .db()
        .update(installations)
        .set({ suspendedAt: suspended ? sql`now()` : null, updatedAt: sql`now()` })
        .where(eq(installations.id, id));
    },
    async markDeleted(id) {
      await exec.db().update(installations).set({ deletedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(installations.id, id));
    },
    async get(id) {
      const [row] = await exec.db().select().from(installations).where(eq(installations.id, id));
      return row ?? null;
    },
  };
}

export interface RepositoriesRepository {
  /** Records (or refreshes) a repository seen in an event. The id is GitHub's, stable across renames. */
  seen(repository: { id: number; fullName: string; installationId?: number | null; private?: boolean | null }): Promise<void>;
  get(id: number): Promise<typeof repositories.$inferSelect | null>;
}

function createRepositories(exec: Executor): RepositoriesRepository {
  return {
    async seen(r) {
      const fields = { fullName: r.fullName, installationId: r.installationId ?? null, private: r.private ?? null };
      await exec.db().insert(repositories).values({ id: r.id, ...fields }).onConflictDoUpdate({ target: repositories.id, set: { ...fields, lastSeenAt: sql`now()` } });
    },
    async get(id) {
      const [row] = await exec.db().select().from(repositories).where(eq(repositories.id, id));
      return row ?? null;
    },
  };
}

// --------------------------------------------------------------------------------------------- evaluations

/** A row to record, as its table takes it: without what the database sets itself (the id, when written). */
type NewRow<T extends { $inferInsert: object }> = Omit<T["$inferInsert"], "id" | "createdAt">;

/** One review an evaluation considered (the `approvals` table's columns; see schema.ts). */
export type ApprovalInput = Omit<NewRow<typeof approvals>, "evaluationId">;

/** An evaluation to record (the `evaluations` table's columns; see schema.ts) and the reviews it considered. */
export type EvaluationInput = NewRow<typeof evaluations> & { approvals?: ApprovalInput[] | undefined };

export interface HeadObservation {
  headSha: string;
  headUpdatedAt: Date;
}

export interface EvaluationsRepository {
  /** Records an evaluation and the approvals it considered, in one transaction. */
  record(input: EvaluationInput): Promise<Evaluation>;
  /** The most recently recorded evaluation of a PR (any head), or null. */
  latestFor(repository: string, pullRequest: number): Promise<Evaluation | null>;
  /** When the first evaluation of one head of a PR was recorded, or null (an override must not predate its head). */
  firstDecidedAt(repository: string, pullRequest: number, headSha: string): Promise<Date | null>;
  /** `latestFor` and `latestForHead` together, in one statement. */
  latestForAndHead(repository: string, pullRequest: number, headSha: string): Promise<{ ofPullRequest: Evaluation | null; ofHead: Evaluation | null }>;
  /** The most recent evaluation of one head of a PR, or null (lets a re-run on the same inputs skip work). */
  latestForHead(repository: string, pullRequest: number, headSha: string): Promise<Evaluation | null>;
  /** Sets the check run published for an evaluation (after the GitHub call succeeded). */
  setCheckRun(evaluationId: number, checkRunId: number, conclusion: string): Promise<void>;
  approvalsFor(evaluationId: number): Promise<Approval[]>;
  /**
   * Remembers the head GitHub showed, ordered by the PR's `updated_at` as GitHub reported it. Only moves forward:
   * an older observation never replaces a newer one. A tie goes to the caller (the latest observation wins): the
   * caller passes what GitHub just answered, which is the authority on the head.
   * Returns the newest known head.
   */
  observeHead(repository: string, pullRequest: number, headSha: string, headUpdatedAt: Date): Promise<HeadObservation>;
  /**
   * `observeHead`, answering instead whether this was the PR's first observation (no head was known before).
   * One statement: the upsert returns its row only when it wrote one, and `xmax = 0` tells an insert from an update.
   */
  observeFirstHead(repository: string, pullRequest: number, headSha: string, headUpdatedAt: Date): Promise<boolean>;
  /** The newest head observed for a PR, or null. */
  currentHead(repository: string, pullRequest: number): Promise<HeadObservation | null>;
  /**
   * True when a newer head than `headSha` has been observed for this PR, i.e. publishing a decision for
   * `headSha` now would be stale (invariant 9). Passing `headUpdatedAt` records this observation first
   * (`observeHead`). Call it inside `withPullRequestLock`, right before publishing.
   */
  isStale(repository: string, pullRequest: number, headSha: string, headUpdatedAt?: Date): Promise<boolean>;
}

// Built once (reusableStatement): each evaluation inserts one row, reads the latest two and sets its check run.
const EVALUATION_COLUMNS = [
  "repository", "pullRequest", "headSha", "baseRef", "baseSha", "policySource", "policyCommit", "codeownersPath", "codeownersCommit",
  "inputsDigest", "risk", "findings", "requirements", "decision", "conclusion", "checkRunId", "deliveryId", "overriddenBy", "overrideReason",
] as const satisfies ReadonlyArray<keyof NewRow<typeof evaluations>>;

// Every column needs a value at run time (withNulls fills the optional ones): drizzle refuses a placeholder without one.
type EvaluationColumns = { [K in (typeof EVALUATION_COLUMNS)[number]]?: NewRow<typeof evaluations>[K] | null };

const insertEvaluationStatement = reusableStatement<EvaluationColumns, Evaluation[]>("evaluations.insert", (db) =>
  db.insert(evaluations).values(placeholders(...EVALUATION_COLUMNS)).returning(),
);

// The newest evaluation of the PR and the newest of the head, as two arms of one statement.
const latestForAndHeadStatement = reusableStatement<{ repository: string; pullRequest: number; headSha: string }, Evaluation[]>("evaluations.latestForAndHead", (db) => {
  const p = placeholders("repository", "pullRequest", "headSha");
  const latest = (where: SQL | undefined) => db.select().from(evaluations).where(where).orderBy(desc(evaluations.id)).limit(1);
  const ofThePullRequest = and(eq(evaluations.repository, p.repository), eq(evaluations.pullRequest, p.pullRequest));
  return latest(ofThePullRequest).unionAll(latest(and(ofThePullRequest, eq(evaluations.headSha, p.headSha))));
});

const setCheckRunStatement = reusableStatement<{ evaluationId: number; checkRunId: number; conclusion: string }, unknown>("evaluations.setCheckRun", (db) => {
  const p = placeholders("evaluationId", "checkRunId", "conclusion");
  return db.update(evaluations).set({ checkRunId: sql`${p.checkRunId}`, conclusion: sql`${p.conclusion}` }).where(eq(evaluations.id, p.evaluationId));
});

/** An evaluation row and its approvals, together. */
async function recordEvaluation(exec: Executor, input: EvaluationInput): Promise<Evaluation> {
  const { approvals: considered, ...columns } = input;
  return exec.inTx(async (db) => {
    const [row] = await insertEvaluationStatement(db, {
      ...withNulls(columns, ["policyCommit", "codeownersPath", "codeownersCommit", "conclusion", "checkRunId", "deliveryId", "overriddenBy", "overrideReason"]),
      findings: columns.findings ?? [],
      requirements: columns.requirements ?? [],
    });
    if (!row) throw new Error("evaluations insert returned no row");
    if (considered && considered.length > 0) {
      await db.insert(approvals).values(considered.map((a) => ({ evaluationId: row.id, ...withNulls(a, ["commitId", "reason"]) })));
    }
    return row;
  });
}

/** "This PR" (and "this head" when `headSha` is given) on a table keyed by repository, pull request and head. */
function ofPullRequest(table: typeof evaluations | typeof telemetryRuns, repository: string, pullRequest: number, headSha?: string): SQL | undefined {
  const conditions = [eq(table.repository, repository), eq(table.pullRequest, pullRequest)];
  if (headSha !== undefined) conditions.push(eq(table.headSha, headSha));
  return and(...conditions);
}

/** The newest evaluation of a PR (of one head when `headSha` is given), or null. */
async function latestEvaluation(exec: Executor, repository: string, pullRequest: number, headSha?: string): Promise<Evaluation | null> {
  const where = ofPullRequest(evaluations, repository, pullRequest, headSha);
  const [row] = await exec.db().select().from(evaluations).where(where).orderBy(desc(evaluations.id)).limit(1);
  return row ?? null;
}

/** The head upsert that only moves forward: an older observation (by GitHub's `updated_at`) changes nothing. */
/** A head observation's columns as inserted (or placeholders for them). */
interface HeadValues {
  repository: string | Placeholder;
  pullRequest: number | Placeholder;
  headSha: string | Placeholder;
  headUpdatedAt: Date | Placeholder;
}

const headPlaceholders: HeadValues = { repository: sql.placeholder("repository"), pullRequest: sql.placeholder("pullRequest"), headSha: sql.placeholder("headSha"), headUpdatedAt: sql.placeholder("headUpdatedAt") };

function upsertHead(db: Db, values: HeadValues) {
  return db
    .insert(pullRequestHeads)
    .values(values)
    .onConflictDoUpdate({
      target: [pullRequestHeads.repository, pullRequestHeads.pullRequest],
      set: { headSha: sql`excluded.head_sha`, headUpdatedAt: sql`excluded.head_updated_at`, observedAt: sql`now()` },
      setWhere: sql`${pullRequestHeads.headUpdatedAt} <= excluded.head_updated_at`,
    });
}

function headValues(repository: string, pullRequest: number, headSha: string, headUpdatedAt: Date): HeadValues & Record<string, unknown> {
  if (Number.isNaN(headUpdatedAt.getTime())) throw new TypeError("headUpdatedAt is not a valid date");
  return { repository, pullRequest, headSha, headUpdatedAt };
}

// One statement that always returns the row: the conflict branch writes the newer of the stored and the given
// observation, so an older one leaves the stored head (as `upsertHead`'s WHERE does) and the row still comes back.
const observeHeadStatement = reusableStatement<Record<string, unknown>, HeadObservation[]>("heads.observe", (db) => {
  const newer = sql`${pullRequestHeads.headUpdatedAt} <= excluded.head_updated_at`;
  return db
    .insert(pullRequestHeads)
    .values(headPlaceholders)
    .onConflictDoUpdate({
      target: [pullRequestHeads.repository, pullRequestHeads.pullRequest],
      set: {
        headSha: sql`case when ${newer} then excluded.head_sha else ${pullRequestHeads.headSha} end`,
        headUpdatedAt: sql`case when ${newer} then excluded.head_updated_at else ${pullRequestHeads.headUpdatedAt} end`,
        observedAt: sql`case when ${newer} then now() else ${pullRequestHeads.observedAt} end`,
      },
    })
    .returning({ headSha: pullRequestHeads.headSha, headUpdatedAt: pullRequestHeads.headUpdatedAt });
});

// xmax is 0 on a row version this statement inserted, and the updating transaction's id on one it updated.
const observeFirstHeadStatement = reusableStatement<Record<string, unknown>, Array<{ inserted: boolean }>>("heads.observeFirst", (db) =>
  upsertHead(db, headPlaceholders).returning({ inserted: sql<boolean>`(xmax = 0)` }),
);

async function observeHeadIn(exec: Executor, repository: string, pullRequest: number, headSha: string, headUpdatedAt: Date): Promise<HeadObservation> {
  const [row] = await observeHeadStatement(exec.db(), headValues(repository, pullRequest, headSha, headUpdatedAt));
  if (!row) throw new Error("pull_request_heads upsert returned no row");
  return row;
}

async function observeFirstHeadIn(exec: Executor, repository: string, pullRequest: number, headSha: string, headUpdatedAt: Date): Promise<boolean> {
  const rows = await observeFirstHeadStatement(exec.db(), headValues(repository, pullRequest, headSha, headUpdatedAt));
  return rows[0]?.inserted === true;
}

async function currentHeadIn(exec: Executor, repository: string, pullRequest: number): Promise<HeadObservation | null> {
  const [row] = await exec
    .db()
    .select({ headSha: pullRequestHeads.headSha, headUpdatedAt: pullRequestHeads.headUpdatedAt })
    .from(pullRequestHeads)
    .where(and(eq(pullRequestHeads.repository, repository), eq(pullRequestHeads.pullRequest, pullRequest)));
  return row ?? null;
}

function createEvaluations(exec: Executor): EvaluationsRepository {
  const observeHead = (repository: string, pullRequest: number, headSha: string, headUpdatedAt: Date) => observeHeadIn(exec, repository, pullRequest, headSha, headUpdatedAt);
  const currentHead = (repository: string, pullRequest: number) => currentHeadIn(exec, repository, pullRequest);

  return {
    record: (input) => recordEvaluation(exec, input),
    latestFor: (repository, pullRequest) => latestEvaluation(exec, repository, pullRequest),
    latestForHead: (repository, pullRequest, headSha) => latestEvaluation(exec, repository, pullRequest, headSha),
    async latestForAndHead(repository, pullRequest, headSha) {
      const rows = await latestForAndHeadStatement(exec.db(), { repository, pullRequest, headSha });
      // Two rows at most (the same one twice when that head was decided last); the newest of each kind.
      const newest = (candidates: Evaluation[]) => candidates.reduce<Evaluation | null>((best, row) => (best === null || row.id > best.id ? row : best), null);
      const ofPullRequestRow = newest(rows);
      const ofHead = newest(rows.filter((row) => row.headSha === headSha));
      return { ofPullRequest: ofPullRequestRow, ofHead };
    },
    async firstDecidedAt(repository, pullRequest, headSha) {
      const [row] = await exec
        .db()
        .select({ createdAt: evaluations.createdAt })
        .from(evaluations)
        .where(and(eq(evaluations.repository, repository), eq(evaluations.pullRequest, pullRequest), eq(evaluations.headSha, headSha)))
        .orderBy(evaluations.id)
        .limit(1);
      return row?.createdAt ?? null;
    },
    async setCheckRun(evaluationId, checkRunId, conclusion) {
      await setCheckRunStatement(exec.db(), { evaluationId, checkRunId, conclusion });
    },
    async approvalsFor(evaluationId) {
      return exec.db().select().from(approvals).where(eq(approvals.evaluationId, evaluationId)).orderBy(approvals.id);
    },
    observeHead,
    observeFirstHead: (repository, pullRequest, headSha, headUpdatedAt) => observeFirstHeadIn(exec, repository, pullRequest, headSha, headUpdatedAt),
    currentHead,
    async isStale(repository, pullRequest, headSha, headUpdatedAt) {
      const current = headUpdatedAt
        ? await observeHead(repository, pullRequest, headSha, headUpdatedAt)
        : await currentHead(repository, pullRequest);
      return current !== null && current.headSha !== headSha;
    },
  };
}

// --------------------------------------------------------------------------------------- review requests

export interface ReviewRequestsRepository {
  /** Which of `reviewers` (logins or `@org/team`, any case) were already requested on this PR. Same spelling as given. */
  alreadyRequested(repository: string, pullRequest: number, reviewers: readonly string[]): Promise<Set<string>>;
  /**
   * Records requests and returns the reviewers that were NOT recorded before (same spelling as given).
   * Calling it before the GitHub request and requesting only the returned ones makes "once per owner" race-free.
   */
  record(repository: string, pullRequest: number, reviewers: readonly string[], headSha?: string): Promise<string[]>;
  /** Every reviewer requested on this PR so far (lower case, as stored). */
  listFor(repository: string, pullRequest: number): Promise<string[]>;
}

const reviewerKey = (reviewer: string): string => reviewer.trim().toLowerCase();

function createReviewRequests(exec: Executor): ReviewRequestsRepository {
  return {
    async alreadyRequested(repository, pullRequest, reviewers) {
      if (reviewers.length === 0) return new Set();
      const keys = [...new Set(reviewers.map(reviewerKey))];
      const rows = await exec
        .db()
        .select({ reviewer: reviewRequests.reviewer })
        .from(reviewRequests)
        .where(and(eq(reviewRequests.repository, repository), eq(reviewRequests.pullRequest, pullRequest), inArray(reviewRequests.reviewer, keys)));
      const found = new Set(rows.map((r) => r.reviewer));
      return new Set(reviewers.filter((r) => found.has(reviewerKey(r))));
    },
    async record(repository, pullRequest, reviewers, headSha) {
      if (reviewers.length === 0) return [];
      const keys = [...new Set(reviewers.map(reviewerKey))];
      const inserted = await exec
        .db()
        .insert(reviewRequests)
        .values(keys.map((reviewer) => ({ repository, pullRequest, reviewer, headSha: headSha ?? null })))
        .onConflictDoNothing()
        .returning({ reviewer: reviewRequests.reviewer });
      const fresh = new Set(inserted.map((r) => r.reviewer));
      const out: string[] = [];
      for (const r of reviewers) {
        const key = reviewerKey(r);
        if (fresh.has(key)) {
          out.push(r);
          fresh.delete(key);
        }
      }
      return out;
    },
    async listFor(repository, pullRequest) {
      const rows = await exec
        .db()
        .select({ reviewer: reviewRequests.reviewer })
        .from(reviewRequests)
        .where(and(eq(reviewRequests.repository, repository), eq(reviewRequests.pullRequest, pullRequest)))
        .orderBy(reviewRequests.id);
      return rows.map((r) => r.reviewer);
    },
  };
}

// ------------------------------------------------------------------------------------------ triggered by

export interface TriggersRepository {
  /**
   * The human who triggered the agent run of this PR, as first recorded. When none is recorded yet and `seen`
   * is given, records `seen` and returns it; a later, different `seen` never replaces the first (invariant 4).
   */
  firstTriggeredBy(repository: string, pullRequest: number, seen: string | undefined): Promise<string | undefined>;
}

// Built once (reusableStatement): every evaluation of an agent PR reads it.
const triggeredByStatement = reusableStatement<{ repository: string; pullRequest: number }, Array<{ triggeredBy: string }>>("triggers.read", (db) => {
  const p = placeholders("repository", "pullRequest");
  return db
    .select({ triggeredBy: pullRequestTriggers.triggeredBy })
    .from(pullRequestTriggers)
    .where(and(eq(pullRequestTriggers.repository, p.repository), eq(pullRequestTriggers.pullRequest, p.pullRequest)));
});

function createTriggers(exec: Executor): TriggersRepository {
  return {
    async firstTriggeredBy(repository, pullRequest, seen) {
      // No transaction: the write is idempotent and the read after it sees it (read committed), so one
      // round trip each, not four with begin and commit; inside a caller's transaction both join it.
      const db = exec.db();
      if (seen !== undefined && seen !== "") {
        await db.insert(pullRequestTriggers).values({ repository, pullRequest, triggeredBy: seen }).onConflictDoNothing();
      }
      const [row] = await triggeredByStatement(db, { repository, pullRequest });
      return row?.triggeredBy ?? (seen === "" ? undefined : seen);
    },
  };
}

// ---------------------------------------------------------------------------------------------- telemetry

export interface TelemetryDiscrepancyInput {
  kind: string;
  path?: string | null | undefined;
  detail?: string | null | undefined;
}

export interface TelemetryRunInput {
  repository: string;
  pullRequest: number;
  headSha: string;
  workflowRunId: number;
  workflowPath?: string | null | undefined;
  artifactId?: number | null | undefined;
  format: string;
  accepted: boolean;
  reasons?: string[] | undefined;
  agent?: string | null | undefined;
  model?: string | null | undefined;
  counts?: Record<string, unknown> | undefined;
  /** The normalized trace AFTER redaction (invariant 7). */
  trace?: unknown;
  discrepancies?: TelemetryDiscrepancyInput[] | undefined;
}

export interface TelemetryRepository {
  /**
   * Records a telemetry run and its discrepancies together. Idempotent per (repository, PR, workflow run):
   * a second call returns the first row with `created: false` and writes nothing.
   */
  record(input: TelemetryRunInput): Promise<{ run: TelemetryRun; created: boolean }>;
  latestFor(repository: string, pullRequest: number, headSha?: string): Promise<TelemetryRun | null>;
  discrepanciesFor(runId: number): Promise<TelemetryDiscrepancy[]>;
}

function createTelemetry(exec: Executor): TelemetryRepository {
  return {
    async record(input) {
      const { discrepancies, ...columns } = input;
      return exec.inTx(async (db) => {
        const [created] = await db
          .insert(telemetryRuns)
          .values({
            ...withNulls(columns, ["workflowPath", "artifactId", "agent", "model", "trace"]),
            reasons: columns.reasons ?? [],
            counts: columns.counts ?? {},
          })
          .onConflictDoNothing()
          .returning();
        if (!created) {
          const [existing] = await db
            .select()
            .from(telemetryRuns)
            .where(
              and(
                eq(telemetryRuns.repository, input.repository),
                eq(telemetryRuns.pullRequest, input.pullRequest),
                eq(telemetryRuns.workflowRunId, input.workflowRunId),
              ),
            );
          if (!existing) throw new Error("telemetry_runs conflict without an existing row");
          return { run: existing, created: false };
        }
        if (discrepancies && discrepancies.length > 0) {
          await db.insert(telemetryDiscrepancies).values(discrepancies.map((d) => ({ telemetryRunId: created.id, ...withNulls(d, ["path", "detail"]) })));
        }
        return { run: created, created: true };
      });
    },
    async latestFor(repository, pullRequest, headSha) {
      const where = ofPullRequest(telemetryRuns, repository, pullRequest, headSha);
      const [row] = await exec.db().select().from(telemetryRuns).where(where).orderBy(desc(telemetryRuns.id)).limit(1);
      return row ?? null;
    },
    async discrepanciesFor(runId) {
      return exec.db().select().from(telemetryDiscrepancies).where(eq(telemetryDiscrepancies.telemetryRunId, runId)).orderBy(telemetryDiscrepancies.id);
    },
  };
}

// ------------------------------------------------------------------------------- pull request metadata

export interface PullRequestMetadata {
  repository: string;
  pullRequest: number;
  title: string;
  author?: string | null | undefined;
  openedAt?: Date | null | undefined;
  /**
   * When GitHub last changed the PR as the caller saw it (`updated_at`). A recorded close is cleared only by a view
   * newer than it (a reopen); a job that ran late, on an event from before the close, leaves it. Unknown: cleared.
   */
  asOf?: Date | null | undefined;
}

export interface PullRequestClosed extends PullRequestMetadata {
  closedAt: Date;
  /** Set when the PR was merged (not only closed). */
  mergedAt: Date | null;
  mergedBy: string | null;
}

export interface PullRequestsRepository {
  /**
   * Records what the compliance pages show of a PR; the newest title wins, the opened time is kept once known. A
   * decision is recorded only for an open PR, so it clears a closed or merged state (the PR was reopened).
   */
  upsert(pr: PullRequestMetadata): Promise<void>;
  /** pull_request.closed: the PR is closed, or merged. */
  markClosed(pr: PullRequestClosed): Promise<void>;
}

/**
 * The upsert of what a decision records (built once: one per evaluation). The close columns are cleared when the
 * PR was seen open (`asOf`, ISO text: a raw placeholder has no column to encode a Date) after its recorded close,
 * or when that is unknown (`asOf` null).
 */
const upsertPullRequestStatement = reusableStatement<{ repository: string; pullRequest: number; title: string; author: string | null; openedAt: Date | null; asOf: string | null }, unknown>(
  "pullRequests.upsert",
  (db) => {
    const p = placeholders("repository", "pullRequest", "title", "author", "openedAt", "asOf");
    const reopened = sql`(${p.asOf}::timestamptz is null or ${pullRequests.closedAt} is null or ${p.asOf}::timestamptz > ${pullRequests.closedAt})`;
    return db
      .insert(pullRequests)
      .values({ repository: p.repository, pullRequest: p.pullRequest, title: p.title, author: p.author, openedAt: p.openedAt })
      .onConflictDoUpdate({
        target: [pullRequests.repository, pullRequests.pullRequest],
        set: {
          title: sql`excluded.title`,
          author: sql`coalesce(excluded.author, ${pullRequests.author})`,
          openedAt: sql`coalesce(${pullRequests.openedAt}, excluded.opened_at)`,
          closedAt: sql`case when ${reopened} then null else ${pullRequests.closedAt} end`,
          mergedAt: sql`case when ${reopened} then null else ${pullRequests.mergedAt} end`,
          mergedBy: sql`case when ${reopened} then null else ${pullRequests.mergedBy} end`,
          updatedAt: sql`now()`,
        },
      });
  },
);

function createPullRequests(exec: Executor): PullRequestsRepository {
  return {
    async upsert(pr) {
      await upsertPullRequestStatement(exec.db(), { repository: pr.repository, pullRequest: pr.pullRequest, title: pr.title, author: pr.author ?? null, openedAt: pr.openedAt ?? null, asOf: pr.asOf?.toISOString() ?? null });
    },
    async markClosed(pr) {
      const closed = { closedAt: pr.closedAt, mergedAt: pr.mergedAt, mergedBy: pr.mergedBy };
      await exec
        .db()
        .insert(pullRequests)
        .values({ repository: pr.repository, pullRequest: pr.pullRequest, title: pr.title, author: pr.author ?? null, openedAt: pr.openedAt ?? null, ...closed })
        .onConflictDoUpdate({
          target: [pullRequests.repository, pullRequests.pullRequest],
          set: { title: pr.title, openedAt: sql`coalesce(${pullRequests.openedAt}, excluded.opened_at)`, ...closed, updatedAt: sql`now()` },
        });
    },
  };
}

// ------------------------------------------------------------------------------------------ web sessions

export type WebSession = typeof webSessions.$inferSelect;

export interface WebSessionsRepository {
  create(session: { idHash: string; kind: "github" | "auditor"; login: string; tokenSealed: string | null; expiresAt: Date }): Promise<void>;
  /** The session when it exists and has not expired at `now`. */
  find(idHash: string, now: Date): Promise<WebSession | null>;
  delete(idHash: string): Promise<void>;
  /** Removes expired sessions; returns how many. */
  deleteExpired(now: Date): Promise<number>;
}

function createWebSessions(exec: Executor): WebSessionsRepository {
  return {
    async create(s) {
      await exec.db().insert(webSessions).values(s);
    },
    async find(idHash, now) {
      const [row] = await exec
        .db()
        .select()
        .from(webSessions)
        .where(and(eq(webSessions.idHash, idHash), gt(webSessions.expiresAt, now)));
      return row ?? null;
    },
    async delete(idHash) {
      await exec.db().delete(webSessions).where(eq(webSessions.idHash, idHash));
    },
    async deleteExpired(now) {
      const rows = await exec.db().delete(webSessions).where(lte(webSessions.expiresAt, now)).returning({ idHash: webSessions.idHash });
      return rows.length;
    },
  };
}

export interface Repositories {
  deliveries: DeliveriesRepository;
  installations: InstallationsRepository;
  repositories: RepositoriesRepository;
  evaluations: EvaluationsRepository;
  reviewRequests: ReviewRequestsRepository;
  triggers: TriggersRepository;
  pushers: PushersRepository;
  reviewObservations: ReviewObservationsRepository;
  telemetry: TelemetryRepository;
  pullRequests: PullRequestsRepository;
  webSessions: WebSessionsRepository;
  pendingWork: PendingWorkRepository;
  checkRuns: CheckRunsRepository;
  reconciliation: ReconciliationRepository;
}

export function createAllRepositories(exec: Executor): Repositories {
  return {
    deliveries: createDeliveries(exec),
    installations: createInstallations(exec),
    repositories: createRepositories(exec),
    evaluations: createEvaluations(exec),
    reviewRequests: createReviewRequests(exec),
    triggers: createTriggers(exec),
    pushers: createPushers(exec),
    reviewObservations: createReviewObservations(exec),
    telemetry: createTelemetry(exec),
    pullRequests: createPullRequests(exec),
    webSessions: createWebSessions(exec),
    pendingWork: createPendingWork(exec),
    checkRuns: createCheckRuns(exec),
    reconciliation: createReconciliation(exec),
  };
}

export type { PendingWork, PendingWorkRepository, FoldedDelivery } from "./pending-work.js";
export type { CheckRunsRepository } from "./check-runs.js";
export type { ReconciliationRepository, UndecidedHead } from "./reconciliation.js";
export type { PushersRepository, ReviewObservation, ReviewObservationsRepository } from "./approval-memory.js";
