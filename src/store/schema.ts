/**
 * The database schema. drizzle-kit reads this file to generate `migrations/` (never edit those by hand);
 * the audit log's append-only trigger lives in a custom migration because drizzle-kit cannot express it.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  char,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { PgColumn, PgColumnBuilderBase, PgTableExtraConfigValue } from "drizzle-orm/pg-core";

/** A timestamp with time zone, read as a Date: every point in time the App keeps. */
const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
/** A point in time the database sets when the row is written (an upsert sets it again where it says so). */
const stamped = (name: string) => at(name).notNull().defaultNow();
const createdAt = () => stamped("created_at");
/** The row's own id, from a sequence: rows no one outside the App names. */
const serialId = () => bigserial("id", { mode: "number" }).primaryKey();
/** A detail row's parent: written with it, never without it. */
const belongsTo = (name: string, parent: () => PgColumn) => bigint(name, { mode: "number" }).notNull().references(parent);
/** The pull request a row is about: the repository (`owner/name`, as the event spelled it) and the PR number. */
const pullRequestColumns = () => ({ repository: text("repository").notNull(), pullRequest: integer("pull_request").notNull() });

/**
 * A table of facts about one pull request, keyed by it (`<name>_pk`: repository, pull request, then `keyAlso`):
 * one row per PR, or per PR and login / review when a PR has several.
 */
function pullRequestTable<N extends string, C extends Record<string, PgColumnBuilderBase>>(
  name: N,
  columns: C,
  keyAlso: ReadonlyArray<keyof C & string> = [],
  extra: (t: Record<keyof C | "repository" | "pullRequest", PgColumn>) => PgTableExtraConfigValue[] = () => [],
) {
  return pgTable(name, { ...pullRequestColumns(), ...columns }, (table) => {
    // drizzle's column map of a generic table is not indexable by name; these are the same columns.
    const t = table as unknown as Record<keyof C | "repository" | "pullRequest", PgColumn>;
    const key = ["repository" as const, "pullRequest" as const, ...keyAlso].map((column) => t[column]);
    return [primaryKey({ name: `${name}_pk`, columns: key as [PgColumn, ...PgColumn[]] }), ...extra(t)];
  });
}

/**
 * Detail rows of one parent row (an evaluation's approvals, a telemetry run's discrepancies): their own id, the
 * parent's id under `parent.key` (indexed: they are always read by parent), the columns, and when written.
 */
function detailTable<N extends string, K extends string, C extends Record<string, PgColumnBuilderBase>>(
  name: N,
  parent: { key: K; column: string; of: () => PgColumn; index: string },
  columns: C,
) {
  const parentColumn = { [parent.key]: belongsTo(parent.column, parent.of) } as Record<K, ReturnType<typeof belongsTo>>;
  return pgTable(name, { id: serialId(), ...parentColumn, ...columns, createdAt: createdAt() }, (table) => [
    // As in pullRequestTable: the generic table's columns, by name.
    index(parent.index).on((table as unknown as Record<K, PgColumn>)[parent.key]),
  ]);
}

/** GitHub App installations we have heard from. The id is GitHub's installation id. */
export const installations = pgTable("installations", {
  id: bigint("id", { mode: "number" }).primaryKey(),
  accountLogin: text("account_login").notNull(),
  accountType: text("account_type"),
  createdAt: createdAt(),
  updatedAt: stamped("updated_at"),
  suspendedAt: at("suspended_at"),
  deletedAt: at("deleted_at"),
});

/** Repositories seen in events. The id is GitHub's repository id (stable across renames). */
export const repositories = pgTable(
  "repositories",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    installationId: bigint("installation_id", { mode: "number" }),
    fullName: text("full_name").notNull(),
    private: boolean("private"),
    firstSeenAt: stamped("first_seen_at"),
    lastSeenAt: stamped("last_seen_at"),
  },
  (t) => [index("repositories_full_name_idx").on(t.fullName)],
);

/**
 * One row per webhook delivery (X-GitHub-Delivery). The unique index is what makes a redelivery a no-op
 * (invariant 9): the second insert of the same GUID for the same installation finds the first.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: serialId(),
    guid: text("guid").notNull(),
    /** 0 when the event carries no installation (e.g. a ping from the App's own settings page). */
    installationId: bigint("installation_id", { mode: "number" }).notNull().default(0),
    event: text("event").notNull(),
    action: text("action"),
    receivedAt: stamped("received_at"),
    attempts: integer("attempts").notNull().default(1),
    outcome: text("outcome", { enum: ["pending", "processed", "skipped", "failed"] }).notNull().default("pending"),
    error: text("error"),
    finishedAt: at("finished_at"),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_installation_guid_uq").on(t.installationId, t.guid),
    check("webhook_deliveries_outcome_ck", sql`${t.outcome} in ('pending', 'processed', 'skipped', 'failed')`),
  ],
);

/**
 * The newest head SHA observed for each pull request, ordered by the PR's `updated_at` from the event.
 * Only moves forward, so an event processed late cannot publish a decision for an older head (invariant 9).
 */
export const pullRequestHeads = pullRequestTable(
  "pull_request_heads",
  {
    headSha: text("head_sha").notNull(),
    headUpdatedAt: at("head_updated_at").notNull(),
    observedAt: stamped("observed_at"),
    /**
     * The head the reconciliation pass last asked to evaluate because it had no recorded decision
     * (src/services/reconcile.ts): each head is asked for at most once, so a PR that is never decided on purpose
     * (closed, out of scope) does not come back on every pass.
     */
    reconciledHead: text("reconciled_head"),
  },
);

/**
 * The human who triggered the agent run, as first seen for a pull request. Written once, never updated: a later
 * edit of the PR body cannot remove the name and so let that person approve their own agent's work (invariant 4),
 * and it must survive restarts, which is why it lives here and not in the App's memory.
 */
export const pullRequestTriggers = pullRequestTable(
  "pull_request_triggers",
  {
    /** The GitHub login as the PR body names it (without `@`). */
    triggeredBy: text("triggered_by").notNull(),
    firstSeenAt: stamped("first_seen_at"),
  },
);

/**
 * Humans who pushed to a pull request's branch (the `synchronize` sender), as first seen. They cannot approve it
 * (invariant 4, GitHub's "most recent reviewable push" generalised). Written at once, outside the evaluation's
 * transaction, so a failed evaluation does not forget a push. `login` is lower case.
 */
export const pullRequestPushers = pullRequestTable(
  "pull_request_pushers",
  {
    login: text("login").notNull(),
    /** The head the push produced, as the event reported it. */
    headSha: text("head_sha"),
    firstSeenAt: stamped("first_seen_at"),
  }, ["login"],
);

/**
 * What each review was given against, as first observed (invariant 3): the head it names and the diff the pull
 * request showed then (base branch and a fingerprint of the changed files). Written once, never updated; a
 * review whose recorded diff differs from the current one does not count.
 */
export const reviewObservations = pullRequestTable(
  "review_observations",
  {
    reviewId: bigint("review_id", { mode: "number" }).notNull(),
    reviewer: text("reviewer").notNull(),
    commitId: text("commit_id").notNull(),
    baseRef: text("base_ref").notNull(),
    baseSha: text("base_sha").notNull(),
    /** sha256 (hex) of the base branch and the changed files (see `diffFingerprint`). */
    diffFingerprint: char("diff_fingerprint", { length: 64 }).notNull(),
    observedAt: stamped("observed_at"),
  }, ["reviewId"],
);

/** One policy evaluation of one pull request head: the inputs it used and what it decided. */
export const evaluations = pgTable(
  "evaluations",
  {
    id: serialId(),
    ...pullRequestColumns(),
    headSha: text("head_sha").notNull(),
    baseRef: text("base_ref").notNull(),
    baseSha: text("base_sha").notNull(),
    /** Where the policy came from, e.g. `.github/agent-gate.yml`, `org:.github`, `default`. */
    policySource: text("policy_source").notNull(),
    policyCommit: text("policy_commit"),
    codeownersPath: text("codeowners_path"),
    codeownersCommit: text("codeowners_commit"),
    /** sha256 (hex) of the canonical JSON of every input the engine saw. */
    inputsDigest: char("inputs_digest", { length: 64 }).notNull(),
    risk: text("risk").notNull(),
    findings: jsonb("findings").notNull(),
    requirements: jsonb("requirements").notNull(),
    decision: text("decision").notNull(),
    /** The check run conclusion published (success, action_required, failure, ...). */
    conclusion: text("conclusion"),
    checkRunId: bigint("check_run_id", { mode: "number" }),
    deliveryId: text("delivery_id"),
    /** Break-glass: the login whose `/agent-gate override` made this head's check pass; null for a normal decision. */
    overriddenBy: text("overridden_by"),
    overrideReason: text("override_reason"),
    createdAt: createdAt(),
  },
  (t) => [
    index("evaluations_pr_idx").on(t.repository, t.pullRequest, t.id),
    index("evaluations_head_idx").on(t.repository, t.headSha),
    // The compliance pages match repositories case-insensitively, as GitHub does.
    index("evaluations_repo_lower_idx").on(sql`lower(${t.repository})`, t.pullRequest, t.id),
  ],
);

/** Each review the engine considered for an evaluation, and whether (and why not) it counted. */
export const approvals = detailTable(
  "approvals",
  { key: "evaluationId", column: "evaluation_id", of: () => evaluations.id, index: "approvals_evaluation_idx" },
  {
    reviewer: text("reviewer").notNull(),
    state: text("state").notNull(),
    commitId: text("commit_id"),
    counted: boolean("counted").notNull(),
    /** Why it did or did not count, e.g. "stale commit", "author of the PR", "code owner of services/**". */
    reason: text("reason"),
  },
);

/** Review requests the App made, so each owner is requested once per PR (no noise on re-runs). */
export const reviewRequests = pgTable(
  "review_requests",
  {
    id: serialId(),
    ...pullRequestColumns(),
    /** Lower-cased login, or `@org/team` for a team. GitHub names are case-insensitive. */
    reviewer: text("reviewer").notNull(),
    headSha: text("head_sha"),
    requestedAt: stamped("requested_at"),
  },
  (t) => [uniqueIndex("review_requests_pr_reviewer_uq").on(t.repository, t.pullRequest, t.reviewer)],
);

/** A telemetry bundle found for a pull request, accepted or not, with its redacted trace. */
export const telemetryRuns = pgTable(
  "telemetry_runs",
  {
    id: serialId(),
    ...pullRequestColumns(),
    headSha: text("head_sha").notNull(),
    workflowRunId: bigint("workflow_run_id", { mode: "number" }).notNull(),
    workflowPath: text("workflow_path"),
    artifactId: bigint("artifact_id", { mode: "number" }),
    format: text("format").notNull(),
    accepted: boolean("accepted").notNull(),
    reasons: jsonb("reasons").notNull().default(sql`'[]'::jsonb`),
    agent: text("agent"),
    model: text("model"),
    /** Counts the rationale shows: commands, files, network allowed/blocked, tokens, duration. */
    counts: jsonb("counts").notNull().default(sql`'{}'::jsonb`),
    /** The normalized trace AFTER redaction. Never store an unredacted trace. */
    trace: jsonb("trace"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("telemetry_runs_pr_run_uq").on(t.repository, t.pullRequest, t.workflowRunId),
    index("telemetry_runs_head_idx").on(t.repository, t.headSha),
    index("telemetry_runs_repo_lower_idx").on(sql`lower(${t.repository})`, t.pullRequest),
  ],
);

/** Differences between what the agent reported and what the diff shows (files changed but not reported, ...). */
export const telemetryDiscrepancies = detailTable(
  "telemetry_discrepancies",
  { key: "telemetryRunId", column: "telemetry_run_id", of: () => telemetryRuns.id, index: "telemetry_discrepancies_run_idx" },
  { kind: text("kind").notNull(), path: text("path"), detail: text("detail") },
);

/**
 * The append-only, hash-chained audit log (invariant 8). `payload` is the canonical JSON text exactly as
 * hashed (text, not jsonb: jsonb would reorder keys and normalise numbers, changing the bytes).
 * hash = sha256(prev_hash || canonical({createdAt, deliveryId, kind, payload, pullRequest, repository})).
 * A trigger (custom migration) refuses UPDATE, DELETE and TRUNCATE; UNIQUE(prev_hash) refuses a fork.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: serialId(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull(),
    kind: text("kind").notNull(),
    repository: text("repository"),
    pullRequest: integer("pull_request"),
    deliveryId: text("delivery_id"),
    payload: text("payload").notNull(),
    prevHash: char("prev_hash", { length: 64 }).notNull().unique("audit_log_prev_hash_uq"),
    hash: char("hash", { length: 64 }).notNull().unique("audit_log_hash_uq"),
  },
  (t) => [
    index("audit_log_repository_idx").on(t.repository, t.id),
    index("audit_log_repo_lower_idx").on(sql`lower(${t.repository})`, t.pullRequest, t.id),
    index("audit_log_created_at_idx").on(t.createdAt),
  ],
);

/**
 * What the compliance pages show of a pull request besides its evaluations: its title, author and when it was
 * opened, as the latest evaluation saw them (a title can change; the newest one is kept).
 */
export const pullRequests = pullRequestTable(
  "pull_requests",
  {
    title: text("title").notNull(),
    author: text("author"),
    openedAt: at("opened_at"),
    /** When GitHub said the PR was closed (pull_request.closed); null while it is open (a reopen clears it). */
    closedAt: at("closed_at"),
    /** When it was merged (pull_request.closed with merged=true), and by whom. */
    mergedAt: at("merged_at"),
    mergedBy: text("merged_by"),
    updatedAt: stamped("updated_at"),
  }, [], (t) => [index("pull_requests_opened_at_idx").on(t.openedAt)],
);

/**
 * Signed-in sessions of the compliance pages. The row is found by the sha256 of the session id (the cookie holds
 * the id itself), and a GitHub user's token is stored encrypted under a key derived from that id: the database
 * alone yields neither a usable cookie nor a usable token.
 */
export const webSessions = pgTable(
  "web_sessions",
  {
    idHash: char("id_hash", { length: 64 }).primaryKey(),
    kind: text("kind", { enum: ["github", "auditor"] }).notNull(),
    login: text("login").notNull(),
    /** AES-256-GCM of the GitHub user token (iv.tag.ciphertext, base64url); null for auditor-token sessions. */
    tokenSealed: text("token_sealed"),
    createdAt: createdAt(),
    expiresAt: at("expires_at").notNull(),
  },
  (t) => [index("web_sessions_expires_at_idx").on(t.expiresAt), check("web_sessions_kind_ck", sql`${t.kind} in ('github', 'auditor')`)],
);

/**
 * Work the webhook edge accepted and a job will do: at most one row per coalescing key (`repo#pr` for an
 * evaluation, so events arriving while one is pending fold into it). The edge inserts or updates the row in the
 * same transaction that records the delivery, and enqueues a job only when it created the row; the job deletes
 * the row when done, unless a newer event changed it meanwhile (`version`), in which case it runs again.
 */
export const pendingWork = pgTable(
  "pending_work",
  {
    key: text("key").primaryKey(),
    kind: text("kind").notNull(),
    installationId: bigint("installation_id", { mode: "number" }),
    /** What the job needs (the latest event's facts), not the whole payload. */
    work: jsonb("work").notNull(),
    /** Every delivery folded into this work since it was last taken: `[{ guid, event }]`. */
    deliveries: jsonb("deliveries").notNull().default(sql`'[]'::jsonb`),
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: stamped("updated_at"),
  },
  (t) => [index("pending_work_updated_idx").on(t.updatedAt)],
);

/**
 * The check run this App created for a head commit and check name: later decisions on that head update it
 * (PATCH) instead of creating another, so a retried POST or a replayed job never leaves two (src/github/check-runs.ts).
 * Written as soon as GitHub answers the create, outside the evaluation's own transaction.
 */
export const checkRuns = pgTable(
  "check_runs",
  {
    repository: text("repository").notNull(),
    headSha: text("head_sha").notNull(),
    name: text("name").notNull(),
    checkRunId: bigint("check_run_id", { mode: "number" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ name: "check_runs_pk", columns: [t.repository, t.headSha, t.name] })],
);

/**
 * Small named values the App keeps across restarts and shares between replicas: the reconciliation pass's cursor
 * into GitHub's webhook deliveries and its lease (src/store/app-state.ts).
 */
export const appState = pgTable("app_state", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: stamped("updated_at"),
});
