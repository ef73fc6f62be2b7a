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

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/** GitHub App installations we have heard from. The id is GitHub's installation id. */
export const installations = pgTable("installations", {
  id: bigint("id", { mode: "number" }).primaryKey(),
  accountLogin: text("account_login").notNull(),
  accountType: text("account_type"),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  suspendedAt: timestamp("suspended_at", { withTimezone: true, mode: "date" }),
  deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
});

/** Repositories seen in events. The id is GitHub's repository id (stable across renames). */
export const repositories = pgTable(
  "repositories",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    installationId: bigint("installation_id", { mode: "number" }),
    fullName: text("full_name").notNull(),
    private: boolean("private"),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
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
    id: bigserial("id", { mode: "number" }).primaryKey(),
    guid: text("guid").notNull(),
    /** 0 when the event carries no installation (e.g. a ping from the App's own settings page). */
    installationId: bigint("installation_id", { mode: "number" }).notNull().default(0),
    event: text("event").notNull(),
    action: text("action"),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(1),
    outcome: text("outcome", { enum: ["pending", "processed", "skipped", "failed"] }).notNull().default("pending"),
    error: text("error"),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
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
export const pullRequestHeads = pgTable(
  "pull_request_heads",
  {
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
    headSha: text("head_sha").notNull(),
    headUpdatedAt: timestamp("head_updated_at", { withTimezone: true, mode: "date" }).notNull(),
    observedAt: timestamp("observed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /**
     * The head the reconciliation pass last asked to evaluate because it had no recorded decision
     * (src/services/reconcile.ts): each head is asked for at most once, so a PR that is never decided on purpose
     * (closed, out of scope) does not come back on every pass.
     */
    reconciledHead: text("reconciled_head"),
  },
  (t) => [primaryKey({ name: "pull_request_heads_pk", columns: [t.repository, t.pullRequest] })],
);

/**
 * The human who triggered the agent run, as first seen for a pull request. Written once, never updated: a later
 * edit of the PR body cannot remove the name and so let that person approve their own agent's work (invariant 4),
 * and it must survive restarts, which is why it lives here and not in the App's memory.
 */
export const pullRequestTriggers = pgTable(
  "pull_request_triggers",
  {
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
    /** The GitHub login as the PR body names it (without `@`). */
    triggeredBy: text("triggered_by").notNull(),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "pull_request_triggers_pk", columns: [t.repository, t.pullRequest] })],
);

/**
 * Humans who pushed to a pull request's branch (the `synchronize` sender), as first seen. They cannot approve it
 * (invariant 4, GitHub's "most recent reviewable push" generalised). Written at once, outside the evaluation's
 * transaction, so a failed evaluation does not forget a push. `login` is lower case.
 */
export const pullRequestPushers = pgTable(
  "pull_request_pushers",
  {
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
    login: text("login").notNull(),
    /** The head the push produced, as the event reported it. */
    headSha: text("head_sha"),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "pull_request_pushers_pk", columns: [t.repository, t.pullRequest, t.login] })],
);

/**
 * What each review was given against, as first observed (invariant 3): the head it names and the diff the pull
 * request showed then (base branch and a fingerprint of the changed files). Written once, never updated; a
 * review whose recorded diff differs from the current one does not count.
 */
export const reviewObservations = pgTable(
  "review_observations",
  {
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
    reviewId: bigint("review_id", { mode: "number" }).notNull(),
    reviewer: text("reviewer").notNull(),
    commitId: text("commit_id").notNull(),
    baseRef: text("base_ref").notNull(),
    baseSha: text("base_sha").notNull(),
    /** sha256 (hex) of the base branch and the changed files (see `diffFingerprint`). */
    diffFingerprint: char("diff_fingerprint", { length: 64 }).notNull(),
    observedAt: timestamp("observed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "review_observations_pk", columns: [t.repository, t.pullRequest, t.reviewId] })],
);

/** One policy evaluation of one pull request head: the inputs it used and what it decided. */
export const evaluations = pgTable(
  "evaluations",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
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
export const approvals = pgTable(
  "approvals",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    evaluationId: bigint("evaluation_id", { mode: "number" })
      .notNull()
      .references(() => evaluations.id),
    reviewer: text("reviewer").notNull(),
    state: text("state").notNull(),
    commitId: text("commit_id"),
    counted: boolean("counted").notNull(),
    reason: text("reason"),
    createdAt: createdAt(),
  },
  (t) => [index("approvals_evaluation_idx").on(t.evaluationId)],
);

/** Review requests the App made, so each owner is requested once per PR (no noise on re-runs). */
export const reviewRequests = pgTable(
  "review_requests",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
    /** Lower-cased login, or `@org/team` for a team. GitHub names are case-insensitive. */
    reviewer: text("reviewer").notNull(),
    headSha: text("head_sha"),
    requestedAt: timestamp("requested_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("review_requests_pr_reviewer_uq").on(t.repository, t.pullRequest, t.reviewer)],
);

/** A telemetry bundle found for a pull request, accepted or not, with its redacted trace. */
export const telemetryRuns = pgTable(
  "telemetry_runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
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
export const telemetryDiscrepancies = pgTable(
  "telemetry_discrepancies",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    telemetryRunId: bigint("telemetry_run_id", { mode: "number" })
      .notNull()
      .references(() => telemetryRuns.id),
    kind: text("kind").notNull(),
    path: text("path"),
    detail: text("detail"),
    createdAt: createdAt(),
  },
  (t) => [index("telemetry_discrepancies_run_idx").on(t.telemetryRunId)],
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
    id: bigserial("id", { mode: "number" }).primaryKey(),
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
export const pullRequests = pgTable(
  "pull_requests",
  {
    repository: text("repository").notNull(),
    pullRequest: integer("pull_request").notNull(),
    title: text("title").notNull(),
    author: text("author"),
    openedAt: timestamp("opened_at", { withTimezone: true, mode: "date" }),
    /** When GitHub said the PR was closed (pull_request.closed); null while it is open (a reopen clears it). */
    closedAt: timestamp("closed_at", { withTimezone: true, mode: "date" }),
    /** When it was merged (pull_request.closed with merged=true), and by whom. */
    mergedAt: timestamp("merged_at", { withTimezone: true, mode: "date" }),
    mergedBy: text("merged_by"),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "pull_requests_pk", columns: [t.repository, t.pullRequest] }), index("pull_requests_opened_at_idx").on(t.openedAt)],
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
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
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
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
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
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
