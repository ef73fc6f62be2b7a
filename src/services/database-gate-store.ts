/**
 * The App's `GateStore`, its only one, on the database (Postgres or PGlite; in tests an in-memory PGlite): kept in
 * the store's tables so that it survives restarts and is shared by every App process on one database.
 *
 * - `withPullRequestLock` holds the PR's advisory lock for the whole evaluation: two App processes evaluating one
 *   PR run one after the other, and the second sees the head the first observed.
 * - The lock is a session-level one on Postgres (`store.withPullRequestSessionLock`) and no connection is held
 *   while the evaluation waits on GitHub (seconds: one write a second per installation): reads go to the pool,
 *   writes are queued and committed in one short transaction at the end. Holding a pooled transaction for the
 *   whole round trip capped the App at (pool size) evaluations in flight: about 40 deliveries/s with 60
 *   connections in `npm run bench`. The head observation (`firstAttempt`, then `isStale`) is written at once: heads only move
 *   forward, and the evaluation's second look must see its first.
 * - On PGlite (one connection, one process) the same, with the in-process queue as the lock: no transaction is
 *   held across GitHub calls, since PGlite's one connection would otherwise stall every other statement
 *   (the job queue's, `/healthz`'s) until the evaluation ends.
 * - The decision (evaluation row, approvals, its `evaluation_decided` audit entry) commits in a short
 *   transaction of its own before its check is published, so no check run exists on GitHub without its audit
 *   entry (invariant 9); the check run names that entry (`SEQ:HASH`).
 * - The triggering user, the humans who pushed (and what each review was first seen against) are written at
 *   once too, each on its own: first sightings that a failed evaluation must not forget (invariant 4).
 * - Everything else an evaluation writes (delivery row, review requests, the published check run and labels
 *   with their audit entries) commits together when the evaluation ends, or not at all; so does the job's settle
 *   of its pending work when the job passes it (`commitWith`).
 * - Audit entries are buffered and appended right before the commit: appending takes the chain's global lock
 *   until the commit, so taking it last keeps other pull requests' evaluations from waiting on GitHub calls.
 * - When an evaluation fails, its final transaction rolls back; the delivery is then recorded as `failed` (it
 *   can be redelivered and will run again), with any check run that was published, in a new transaction.
 */
import { inputsDigest } from "../store/index.js";
import type { ApprovalInput, AuditAppend, DeliveryOutcome, Evaluation, HeldLock, Store, StoreTx, WebhookDelivery } from "../store/index.js";
import { RISK_LEVELS } from "../policy/types.js";
import type { Conclusion, RiskLevel } from "../policy/types.js";
import type { CommitWith, CommittedDecision, DecisionRecord, GateStore, MergeGroupRecord, OverrideRecord, PublishedRecord, PullRequestKey, PullRequestScope, RecordedDecision, RecordedOverride } from "./types.js";

const isRiskLevel = (s: string): s is RiskLevel => (RISK_LEVELS as readonly string[]).includes(s);

export interface DatabaseGateStoreOptions {
  /** Told when even the failure of an evaluation could not be recorded (the database is probably gone). */
  onRecordError?: ((error: unknown) => void) | undefined;
}

/** `owner/repo`, as GitHub spells it in payloads: the form the audit log and `audit export --repo` use. */
export function repositoryName(key: PullRequestKey): string {
  return `${key.owner}/${key.repo}`;
}

const field = (value: unknown, key: string): unknown => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined);

/**
 * The `override_applied` entry this comment made on this PR, and the `check_published` entry naming it (`decidedIn`)
 * if the check reached GitHub. Read from the audit log, the record itself: one comment's override is recorded once
 * however often its job runs (a retry after a failed check POST) or GitHub delivers it (a redelivery). Only this
 * PR's entries are read (the `lower(repository), pull_request` index); overrides are rare.
 */
async function findOverrideOfComment(store: Store, repository: string, number: number, commentId: number): Promise<RecordedOverride | null> {
  const scope = { repositories: [repository], pullRequest: number };
  let found: RecordedOverride | null = null;
  // Two passes, each of one kind: a PR that was never overridden (the usual case) costs one read of no rows.
  for await (const entry of store.audit.export({ ...scope, kind: "override_applied" })) {
    const payload: unknown = JSON.parse(entry.payload);
    if (field(field(payload, "comment"), "id") !== commentId) continue;
    const overrode = field(payload, "overrode");
    const evaluationId = field(payload, "evaluationId");
    found = {
      committed: { evaluationId: typeof evaluationId === "number" ? evaluationId : null, audit: { id: entry.id, hash: entry.hash } },
      headSha: String(field(payload, "headSha")),
      overrode: { conclusion: String(field(overrode, "conclusion")), title: String(field(overrode, "title")) },
      checkRunId: null,
    };
    break;
  }
  if (!found) return null;
  for await (const entry of store.audit.export({ ...scope, kind: "check_published" })) {
    const payload: unknown = JSON.parse(entry.payload);
    const checkRunId = field(payload, "checkRunId");
    if (field(payload, "decidedIn") === found.committed.audit?.id && typeof checkRunId === "number") found.checkRunId = checkRunId;
  }
  return found;
}

/** `pull_request.opened` -> event `pull_request`, action `opened`. */
function splitEvent(event: string | undefined): { event: string; action: string | null } {
  if (!event) return { event: "unknown", action: null };
  const dot = event.indexOf(".");
  if (dot < 0) return { event, action: null };
  const action = event.slice(dot + 1);
  return { event: event.slice(0, dot), action: action === "" ? null : action };
}

/** The service's outcome kinds (published, superseded, skipped) as the deliveries table's outcomes. */
function deliveryOutcome(outcome: string): DeliveryOutcome {
  if (outcome === "published" || outcome === "labels-restored" || outcome === "closed-recorded") return "processed";
  if (outcome === "failed") return "failed";
  // Superseded: handled on purpose without publishing (the newer event publishes). Skipped: out of scope.
  return "skipped";
}

/**
 * A `pending` row the edge wrote less than half of `deliveries.begin`'s stale window (10 minutes) ago: `begin`
 * would change nothing on it. The margin covers a clock skew between this process and the database.
 */
function isFreshPending(previous: WebhookDelivery | null, now: number): boolean {
  return previous !== null && previous.outcome === "pending" && now - previous.receivedAt.getTime() < FRESH_PENDING_MS;
}

const FRESH_PENDING_MS = 5 * 60 * 1000;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? "").slice(0, 500);
}

/**
 * First sightings, written at once, each on its own (invariants 3 and 4): queued with the rest, a failed
 * evaluation would roll them back, and an edited PR body (or a retarget) could then hide what was seen.
 */
function firstSightings(store: Store, repository: string, number: number): Pick<PullRequestScope, "firstTriggeredBy" | "observeReviews" | "recordPushers"> {
  return {
    firstTriggeredBy: (seen) => store.triggers.firstTriggeredBy(repository, number, seen === "" ? undefined : seen),
    recordPushers: (logins, headSha) => store.pushers.record(repository, number, logins, headSha),
    observeReviews: (observations) => store.reviewObservations.observe(repository, number, observations),
  };
}

/** What one `withPullRequestLock` call has seen and must write; survives a rollback so a failure can be recorded. */
class Session {
  readonly repository: string;
  delivery: { guid: string; installationId: number | null; event: string; action: string | null } | undefined;
  headSha: string | undefined;
  /** Check runs published on GitHub during this call (replayed after a rollback: they did happen). */
  readonly published: PublishedRecord[] = [];
  audit: AuditAppend[] = [];
  /** Writes queued by `bufferedScope`, in the order the evaluation made them. */
  readonly ops: Array<(tx: StoreTx) => Promise<void>> = [];
  /**
   * The PR's and one head's newest evaluations, read together by `activeOverride` so that `lastDecision` costs no
   * statement. Under the lock only this call writes evaluations, and recording one forgets the read.
   */
  latest: { headSha: string; read: Promise<{ ofPullRequest: Evaluation | null; ofHead: Evaluation | null }> } | undefined;

  /** When the lock was taken: the clock a delivery's `pending` row is judged fresh by. */
  readonly startedAt = Date.now();

  constructor(readonly key: PullRequestKey) {
    this.repository = repositoryName(key);
  }

  entry(kind: AuditAppend["kind"], payload: unknown, deliveryId?: string | null): void {
    this.audit.push({ kind, repository: this.repository, pullRequest: this.key.number, deliveryId: deliveryId ?? this.delivery?.guid ?? null, payload });
  }

  async flush(tx: StoreTx): Promise<void> {
    const entries = this.audit;
    this.audit = [];
    await tx.audit.appendAll(entries);
  }

  /**
   * The evaluation row, its approvals and its audit entries, before the check is published. The witness is the
   * decision's `evaluation_decided` entry: the check run names it.
   */
  async writeDecision(tx: StoreTx, record: DecisionRecord): Promise<CommittedDecision> {
    const decision = record.decision;
    const deliveryId = record.deliveryId ?? null;
    let evaluationId: number | null = null;
    // The decision says which approvals counted and why the others did not (the engine knows; no re-deriving).
    const approvals: ApprovalInput[] = decision?.approvals ?? [];
    if (record.pullRequest) await tx.pullRequests.upsert({ repository: this.repository, pullRequest: this.key.number, ...record.pullRequest });
    const risk = record.risk ?? decision?.risk ?? null;
    if (decision) {
      const row = await tx.evaluations.record({
        repository: this.repository,
        pullRequest: this.key.number,
        headSha: record.headSha,
        baseRef: record.baseRef,
        baseSha: record.baseSha,
        policySource: record.policy.source,
        policyCommit: record.policy.ref,
        codeownersPath: decision.codeowners.path,
        codeownersCommit: decision.codeowners.path ? record.baseSha : null,
        // Without the service's digest (invalid policy), the digest of what that decision rested on.
        inputsDigest: record.inputsDigest ?? inputsDigest({ policy: record.policy, headSha: record.headSha, baseSha: record.baseSha, policyErrors: decision.policyErrors ?? [] }),
        risk: risk ?? decision.risk,
        findings: decision.findings,
        requirements: decision.approval.requirements,
        decision: decision.title,
        conclusion: record.conclusion,
        // Set once GitHub took the check (`writePublished`): a decision whose check never reached GitHub has none.
        checkRunId: null,
        deliveryId,
        approvals,
        // An override in force on this head stays on the record of every decision on it (it ends with a push).
        overriddenBy: record.override?.by ?? null,
        overrideReason: record.override?.reason ?? null,
      });
      evaluationId = row.id;
    }
    const entry = (kind: AuditAppend["kind"], payload: unknown): AuditAppend => ({ kind, repository: this.repository, pullRequest: this.key.number, deliveryId, payload });
    const invalid = decision?.policyErrors && decision.policyErrors.length > 0 ? [entry("policy_invalid", { headSha: record.headSha, baseSha: record.baseSha, policy: record.policy, errors: decision.policyErrors })] : [];
    const decidedEntry = entry("evaluation_decided", {
      evaluationId,
      event: record.event,
      headSha: record.headSha,
      baseRef: record.baseRef,
      baseSha: record.baseSha,
      policy: record.policy,
      codeowners: decision?.codeowners.path ?? null,
      inputsDigest: record.inputsDigest ?? null,
      risk,
      conclusion: record.conclusion,
      title: record.reason,
      checkName: record.checkName,
      ...(record.override ? { overriddenBy: record.override.by, overrideReason: record.override.reason } : {}),
    });
    const approvalEntries = approvals.map((approval) =>
      entry(approval.counted ? "approval_counted" : "approval_refused", {
        evaluationId,
        reviewer: approval.reviewer,
        commitId: approval.commitId ?? null,
        headSha: record.headSha,
        reason: approval.reason ?? null,
      }),
    );
    // One append for all of them (three statements): the decision is the entry after any policy_invalid one.
    const appended = await tx.audit.appendAll([...invalid, decidedEntry, ...approvalEntries]);
    const decided = appended[invalid.length]!;
    return { evaluationId, audit: { id: decided.id, hash: decided.hash } };
  }

  /** The check run GitHub took for a recorded decision, and the labels set with it. */
  async writePublished(tx: StoreTx, record: PublishedRecord): Promise<void> {
    const { evaluationId, audit } = record.decided;
    const deliveryId = record.deliveryId ?? null;
    if (evaluationId !== null) await tx.evaluations.setCheckRun(evaluationId, record.checkRunId, record.conclusion);
    this.entry(
      "check_published",
      { evaluationId, decidedIn: audit?.id ?? null, checkName: record.checkName, checkRunId: record.checkRunId, headSha: record.headSha, conclusion: record.conclusion, title: record.title },
      deliveryId,
    );
    if (record.labels && (record.labels.added.length > 0 || record.labels.removed.length > 0)) {
      this.entry("label_set", { evaluationId, headSha: record.headSha, added: record.labels.added, removed: record.labels.removed }, deliveryId);
    }
  }

  /**
   * Break-glass: a copy of the overridden evaluation, now `success` and marked with who overrode it and why (so
   * the compliance pages and a merge group see it as the head's decision), and the audit entry with the reason and
   * the decision it overrode.
   */
  async writeOverride(tx: StoreTx, record: OverrideRecord): Promise<CommittedDecision> {
    const overridden = await tx.evaluations.latestForHead(this.repository, this.key.number, record.headSha);
    if (!overridden) throw new Error(`no evaluation of ${record.headSha} to override`);
    const { id: overriddenId, createdAt: _createdAt, ...rest } = overridden;
    const row = await tx.evaluations.record({
      ...rest,
      decision: `Overridden by @${record.comment.by}`,
      conclusion: "success",
      // Set once GitHub took the check (`writePublished`).
      checkRunId: null,
      deliveryId: record.deliveryId ?? null,
      overriddenBy: record.comment.by,
      overrideReason: record.comment.reason,
    });
    const applied = await tx.audit.append({
      kind: "override_applied",
      repository: this.repository,
      pullRequest: this.key.number,
      deliveryId: record.deliveryId ?? null,
      payload: {
        evaluationId: row.id,
        headSha: record.headSha,
        baseRef: record.baseRef,
        by: record.comment.by,
        via: record.via,
        reason: record.comment.reason,
        comment: { id: record.comment.id, url: record.comment.url, createdAt: record.comment.createdAt },
        overrode: { evaluationId: overriddenId, conclusion: overridden.conclusion, title: overridden.decision, risk: overridden.risk },
        checkName: record.checkName,
      },
    });
    return { evaluationId: row.id, audit: { id: applied.id, hash: applied.hash } };
  }

  /** Runs the queued writes, then `commitWith`, and appends all their audit entries, in one transaction. */
  async commit(tx: StoreTx, commitWith: CommitWith | undefined): Promise<void> {
    for (const op of this.ops) await op(tx);
    if (commitWith) this.audit.push(...(await commitWith(tx)));
    await this.flush(tx);
  }

  /** The break-glass part of the scope: the override in force, and overrides applied or refused. */
  overrideScope(store: Store, lock: HeldLock): Pick<PullRequestScope, "activeOverride" | "recordOverride" | "recordOverrideRefused" | "overrideOfComment"> {
    const { repository } = this;
    const number = this.key.number;
    return {
      activeOverride: async (headSha, baseRef) => {
        if (this.latest?.headSha !== headSha) {
          const read = store.evaluations.latestForAndHead(repository, number, headSha);
          // A failed read is not kept: the next call reads again.
          read.catch(() => (this.latest?.read === read ? (this.latest = undefined) : undefined));
          this.latest = { headSha, read };
        }
        const row = (await this.latest.read).ofHead;
        return row && row.baseRef === baseRef && row.overriddenBy ? { by: row.overriddenBy, reason: row.overrideReason ?? "" } : null;
      },
      recordOverride: (record) =>
        // Its own short transaction, now: the check that follows names the committed entry (invariant 9).
        store.transaction(async (tx) => {
          this.latest = undefined;
          await lock.assertHeld();
          return this.writeOverride(tx, record);
        }),
      overrideOfComment: (commentId) => findOverrideOfComment(store, repository, number, commentId),
      recordOverrideRefused: (refusal) => {
        const { comment } = refusal;
        this.entry("override_refused", { headSha: refusal.headSha, by: comment.by, reason: comment.reason, why: refusal.why, comment: { id: comment.id, url: comment.url, createdAt: comment.createdAt } }, refusal.deliveryId);
        return Promise.resolve();
      },
    };
  }

  /**
   * The scope outside a transaction (the PR's session lock is held): reads and the head observation go to the
   * store at once, other writes are queued for `commit`. Reads that follow a queued write of the same call see it.
   */
  bufferedScope(store: Store, lock: HeldLock): PullRequestScope {
    const { repository } = this;
    const number = this.key.number;
    const installationId = this.key.installationId ?? null;
    const pendingOwners: string[] = [];
    return {
      isDeliveryDone: async (deliveryId, event) => {
        const { event: name, action } = splitEvent(event);
        const delivery = { guid: deliveryId, installationId, event: name, action };
        this.delivery = delivery;
        const previous = await store.deliveries.get(deliveryId, installationId);
        // `pending`: the edge recorded it and queued its work; this is that work (two copies of one delivery
        // cannot both get here at once: dedup runs inside the PR lock). `failed`: an earlier attempt failed.
        const takenAgain = previous !== null && (previous.outcome === "failed" || previous.outcome === "pending");
        if (previous === null || takenAgain) {
          // The edge's own fresh `pending` row needs nothing more (`begin` would change nothing): one statement
          // fewer per job. A new, failed or stale row is (re)begun with the rest.
          if (!isFreshPending(previous, this.startedAt)) {
            this.ops.push(async (tx) => {
              await tx.deliveries.begin(delivery);
            });
          }
          return false;
        }
        this.entry("delivery_duplicate", { event: name, action, previousOutcome: previous.outcome, firstReceivedAt: previous.receivedAt.toISOString() }, deliveryId);
        this.delivery = undefined;
        return true;
      },
      markDeliveryDone: (deliveryId, outcome) => {
        this.ops.push((tx) => tx.deliveries.finish(deliveryId, installationId, deliveryOutcome(outcome)));
        return Promise.resolve();
      },
      isStale: async (headSha, headUpdatedAt) => {
        // No lock check here: every publish follows `recordDecision`, whose transaction checks that the PR is
        // still ours (a lost lock connection releases it), and a superseded evaluation publishes nothing and
        // checks it when it commits. One round trip fewer per evaluation.
        this.headSha = headSha;
        return store.evaluations.isStale(repository, number, headSha, headUpdatedAt);
      },
      firstAttempt: async (headSha, headUpdatedAt) => {
        if (!headUpdatedAt) return false;
        // One statement: the observation is written, and it tells whether the store knew any head of this PR before.
        return store.evaluations.observeFirstHead(repository, number, headSha, headUpdatedAt);
      },
      requestedOwners: async () => new Set([...(await store.reviewRequests.listFor(repository, number)), ...pendingOwners]),
      recordReviewRequests: (owners) => {
        const headSha = this.headSha;
        pendingOwners.push(...owners.map((o) => o.trim().toLowerCase()));
        this.ops.push(async (tx) => {
          const added = await tx.reviewRequests.record(repository, number, owners, headSha);
          if (added.length > 0) this.entry("review_requested", { owners: added, headSha: headSha ?? null });
        });
        return Promise.resolve();
      },
      ...firstSightings(store, repository, number),
      recordDecision: (record) =>
        // Its own short transaction, now: the check that follows names the committed entry (invariant 9).
        store.transaction(async (tx) => {
          this.latest = undefined;
          await lock.assertHeld();
          return this.writeDecision(tx, record);
        }),
      recordPublished: (record) => {
        this.published.push(record);
        this.ops.push((tx) => this.writePublished(tx, record));
        return Promise.resolve();
      },
      lastDecision: async () => {
        const row = this.latest ? (await this.latest.read).ofPullRequest : await store.evaluations.latestFor(repository, number);
        // An invalid policy's record carries `critical`; its labels are never set, and the caller re-reads the policy.
        return row ? { headSha: row.headSha, baseSha: row.baseSha, risk: isRiskLevel(row.risk) ? row.risk : null, evaluationId: row.id } : null;
      },
      recordClosed: (closed) => {
        const { title, author, openedAt, closedAt, merged, mergedAt, mergedBy, mergeCommitSha, event } = closed;
        this.ops.push((tx) => tx.pullRequests.markClosed({ repository, pullRequest: number, title, author, openedAt, closedAt, mergedAt: merged ? (mergedAt ?? closedAt) : null, mergedBy }));
        this.entry("pull_request_closed", { event, merged, mergedAt: mergedAt?.toISOString() ?? null, mergedBy, mergeCommitSha, closedAt: closedAt.toISOString() });
        return Promise.resolve();
      },
      recordLabelsRestored: (restored) => {
        const { headSha, evaluationId, added, removed, event, sender } = restored;
        this.entry("label_set", { evaluationId: evaluationId ?? null, headSha, added, removed, restoredAfter: { event, sender: sender ?? null } });
        return Promise.resolve();
      },
      ...this.overrideScope(store, lock),
    };
  }
}

export class DatabaseGateStore implements GateStore {
  readonly #onRecordError: ((error: unknown) => void) | undefined;

  constructor(
    readonly store: Store,
    options: DatabaseGateStoreOptions = {},
  ) {
    this.#onRecordError = options.onRecordError;
  }

  async latestDecision(key: PullRequestKey): Promise<RecordedDecision | null> {
    const row = await this.store.evaluations.latestFor(repositoryName(key), key.number);
    if (!row) return null;
    // A row without a published conclusion never counts as a success; nor does a decision recorded but not (yet)
    // published (no check run: the process died in between, and the job's next run publishes).
    const published = row.checkRunId !== null;
    const conclusion: Conclusion = published && (row.conclusion === "success" || row.conclusion === "action_required") ? row.conclusion : "failure";
    const first = await this.store.evaluations.firstDecidedAt(repositoryName(key), key.number, row.headSha);
    return { headSha: row.headSha, baseRef: row.baseRef, conclusion, title: row.decision, evaluatedAt: row.createdAt, headFirstDecidedAt: first ?? row.createdAt, overriddenBy: row.overriddenBy };
  }

  async recordMergeGroup(record: MergeGroupRecord): Promise<void> {
    const { repo, members, evaluatedAt: _at, installationId: _id, deliveryId, ...check } = record;
    await this.store.transaction((tx) =>
      tx.audit.append({
        kind: "merge_group_checked",
        repository: `${repo.owner}/${repo.repo}`,
        pullRequest: null,
        deliveryId: deliveryId ?? null,
        payload: { ...check, members: members.map((m) => ({ number: m.number, headSha: m.headSha, approved: m.approved, reason: m.reason, decided: m.decision })) },
      }),
    );
  }

  async withPullRequestLock<T>(key: PullRequestKey, fn: (scope: PullRequestScope) => Promise<T>, options: { commitWith?: CommitWith | undefined } = {}): Promise<T> {
    const session = new Session(key);
    try {
      return await this.store.withPullRequestSessionLock(session.repository, key.number, async (lock) => {
        const result = await fn(session.bufferedScope(this.store, lock));
        await this.store.transaction(async (tx) => {
          // Published under the lock; committed only if it is still ours (a lost connection releases it).
          await lock.assertHeld();
          await session.commit(tx, options.commitWith);
        });
        return result;
      });
    } catch (error) {
      await this.#recordFailure(session, error);
      throw error;
    }
  }

  /** After a rollback: the delivery as `failed` (so a redelivery runs again) and the decisions GitHub did get. */
  async #recordFailure(session: Session, error: unknown): Promise<void> {
    const delivery = session.delivery;
    if (!delivery && session.published.length === 0) return;
    try {
      await this.store.transaction(async (tx) => {
        if (delivery && (await tx.deliveries.begin(delivery)) === "new") {
          await tx.deliveries.finish(delivery.guid, delivery.installationId, "failed", firstLine(error));
        }
        const replay = new Session(session.key);
        replay.delivery = delivery;
        for (const record of session.published) await replay.writePublished(tx, record);
        await replay.flush(tx);
      });
    } catch (recordError) {
      this.#onRecordError?.(recordError);
    }
  }
}
