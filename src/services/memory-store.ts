/**
 * The in-process GateStore: enough for one App process and for tests. It forgets on restart, which is why the
 * services also derive "already requested" from GitHub itself (requested reviewers and reviews survive restarts).
 */
import type { ReviewObservation } from "../store/index.js";
import type { CommittedDecision, DecisionRecord, GateStore, LabelsRestored, MergeGroupRecord, PullRequestClosedRecord, OverrideRecord, OverrideRefusal, PublishedRecord, PullRequestKey, PullRequestScope, RecordedDecision } from "./types.js";

const MAX_ENTRIES = 10_000;

function keyOf(key: PullRequestKey): string {
  return `${key.installationId ?? "-"}/${key.owner}/${key.repo}#${key.number}`.toLowerCase();
}

/** Drops the oldest entries of a Map used as a bounded memory. */
function bound<K, V>(map: Map<K, V>, max = MAX_ENTRIES): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}

export class MemoryGateStore implements GateStore {
  readonly #deliveries = new Map<string, string>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #requested = new Map<string, Set<string>>();
  readonly #triggeredBy = new Map<string, string>();
  readonly #pushers = new Map<string, string[]>();
  readonly #observations = new Map<string, Map<number, ReviewObservation>>();
  readonly #heads = new Map<string, { headSha: string; at: number }>();
  /** The decisions recorded, newest last (bounded); tests and the lead's store wiring read them. */
  readonly decisions: DecisionRecord[] = [];
  /** Risk labels put back after a hand change, newest last (bounded). */
  readonly labelsRestored: Array<LabelsRestored & { key: PullRequestKey }> = [];
  /** pull_request.closed of PRs with a decision, newest last (bounded). */
  readonly closed: Array<PullRequestClosedRecord & { key: PullRequestKey }> = [];
  /** The merge group checks recorded, newest last (bounded). */
  readonly mergeGroups: MergeGroupRecord[] = [];

  /** Overrides published and refused, newest last (bounded). */
  readonly overrides: Array<{ applied: OverrideRecord } | { refused: OverrideRefusal }> = [];

  async latestDecision(key: PullRequestKey): Promise<RecordedDecision | null> {
    const k = keyOf(key);
    const mine = this.decisions.filter((d) => keyOf(d.key) === k);
    // A "could not evaluate" (no decision) is the latest word too: it does not let a group through.
    const d = mine.at(-1);
    if (!d) return null;
    const first = mine.find((x) => x.headSha === d.headSha) ?? d;
    return {
      headSha: d.headSha,
      baseRef: d.baseRef,
      conclusion: d.conclusion,
      title: d.reason,
      evaluatedAt: d.evaluatedAt,
      headFirstDecidedAt: first.evaluatedAt,
      overriddenBy: d.override?.by ?? null,
    };
  }

  async recordMergeGroup(record: MergeGroupRecord): Promise<void> {
    this.mergeGroups.push(record);
    if (this.mergeGroups.length > 1_000) this.mergeGroups.splice(0, this.mergeGroups.length - 1_000);
  }
  /** The check runs published for them, newest last (bounded). */
  readonly published: PublishedRecord[] = [];

  async withPullRequestLock<T>(key: PullRequestKey, fn: (scope: PullRequestScope) => Promise<T>): Promise<T> {
    const k = keyOf(key);
    const previous = this.#locks.get(k) ?? Promise.resolve();
    const body = () => fn(this.scope(key));
    // Chain on the previous holder whether it succeeded or not; our own failure must not poison the chain.
    const run = previous.then(body, body);
    const tail = run.catch(() => undefined);
    this.#locks.set(k, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(k) === tail) this.#locks.delete(k);
    }
  }

  #remember(record: DecisionRecord): CommittedDecision {
    this.decisions.push(record);
    if (this.decisions.length > 1_000) this.decisions.splice(0, this.decisions.length - 1_000);
    // No audit log in memory: the check names no entry.
    return { evaluationId: null, audit: null };
  }

  /** The break-glass part of a PR's scope: the override in force on a head, and overrides applied or refused. */
  #overrideScope(k: string): Pick<PullRequestScope, "activeOverride" | "recordOverride" | "recordOverrideRefused" | "overrideOfComment"> {
    return {
      activeOverride: async (headSha, baseRef) => {
        const last = this.decisions.filter((d) => keyOf(d.key) === k && d.headSha === headSha && d.baseRef === baseRef).at(-1);
        return last?.override ?? null;
      },
      recordOverride: async (record) => {
        const o = record.overridden;
        this.overrides.push({ applied: record });
        return this.#remember({
          key: record.key,
          deliveryId: record.deliveryId,
          event: record.event,
          headSha: record.headSha,
          baseRef: record.baseRef,
          baseSha: "",
          checkName: record.checkName,
          conclusion: "success",
          risk: null,
          decision: null,
          reason: `Overridden by @${record.comment.by} (was: ${o.title})`,
          policy: { source: "override", ref: "" },
          evaluatedAt: record.evaluatedAt,
          override: { by: record.comment.by, reason: record.comment.reason },
        });
      },
      overrideOfComment: async (commentId) => {
        const found = this.overrides.find((o): o is { applied: OverrideRecord } => "applied" in o && keyOf(o.applied.key) === k && o.applied.comment.id === commentId);
        if (!found) return null;
        const { headSha, comment, overridden } = found.applied;
        // No audit log here to link the check to its entry: the override's check is the one with its title on its head.
        const published = this.published.find((p) => p.headSha === headSha && p.title === `Overridden by @${comment.by}`);
        return { committed: { evaluationId: null, audit: null }, headSha, overrode: { conclusion: overridden.conclusion, title: overridden.title }, checkRunId: published?.checkRunId ?? null };
      },
      recordOverrideRefused: async (refusal) => {
        this.overrides.push({ refused: refusal });
        if (this.overrides.length > 1_000) this.overrides.splice(0, this.overrides.length - 1_000);
      },
    };
  }

  /** What is remembered on first sight (the triggering user, pushers, what each review was given against). */
  #firstSightings(k: string): Pick<PullRequestScope, "firstTriggeredBy" | "observeReviews" | "recordPushers"> {
    return {
      firstTriggeredBy: async (seen) => {
        const first = this.#triggeredBy.get(k);
        if (first !== undefined) return first;
        if (seen !== undefined) {
          this.#triggeredBy.set(k, seen);
          bound(this.#triggeredBy);
        }
        return seen;
      },
      observeReviews: async (observations) => {
        const known = this.#observations.get(k) ?? new Map<number, ReviewObservation>();
        for (const o of observations) if (!known.has(o.reviewId)) known.set(o.reviewId, { ...o });
        this.#observations.set(k, known);
        bound(this.#observations);
        return new Map(observations.flatMap((o) => { const first = known.get(o.reviewId); return first ? [[o.reviewId, first] as const] : []; }));
      },
      recordPushers: async (logins) => {
        const known = this.#pushers.get(k) ?? [];
        for (const login of logins) if (login !== "" && !known.includes(login.toLowerCase())) known.push(login.toLowerCase());
        if (known.length > 0) this.#pushers.set(k, known);
        bound(this.#pushers);
        return [...known];
      },
    };
  }

  /** The PR-bound view; also for tests that prepare state (e.g. a review request made before a restart). */
  scope(key: PullRequestKey): PullRequestScope {
    const k = keyOf(key);
    return {
      isDeliveryDone: async (deliveryId) => this.#deliveries.has(deliveryId),
      markDeliveryDone: async (deliveryId, outcome) => {
        this.#deliveries.set(deliveryId, outcome);
        bound(this.#deliveries);
      },
      isStale: async (headSha, headUpdatedAt) => {
        const at = headUpdatedAt?.getTime();
        const seen = this.#heads.get(k);
        // A tie goes to the caller: it passes what GitHub just answered, which is the authority on the head.
        if (at !== undefined && !Number.isNaN(at) && (!seen || seen.at <= at)) {
          this.#heads.set(k, { headSha, at });
          bound(this.#heads);
          return false;
        }
        return seen !== undefined && seen.headSha !== headSha;
      },
      requestedOwners: async () => this.#requested.get(k) ?? new Set(),
      recordReviewRequests: async (owners) => {
        const set = this.#requested.get(k) ?? new Set<string>();
        for (const owner of owners) set.add(owner.toLowerCase());
        this.#requested.set(k, set);
        bound(this.#requested);
      },
      ...this.#firstSightings(k),
      recordDecision: async (record) => this.#remember(record),
      recordPublished: async (record) => {
        this.published.push(record);
        if (this.published.length > 1_000) this.published.splice(0, this.published.length - 1_000);
      },
      ...this.#overrideScope(k),
      lastDecision: async () => {
        // As the database keeps it: evaluations only, not the "could not evaluate" failures.
        const last = this.decisions.findLast((d) => keyOf(d.key) === k && d.decision !== null);
        return last ? { headSha: last.headSha, baseSha: last.baseSha, risk: last.risk } : null;
      },
      recordClosed: async (closed) => {
        this.closed.push({ ...closed, key });
        if (this.closed.length > 1_000) this.closed.splice(0, this.closed.length - 1_000);
      },
      recordLabelsRestored: async (restored) => {
        this.labelsRestored.push({ ...restored, key });
        if (this.labelsRestored.length > 1_000) this.labelsRestored.splice(0, this.labelsRestored.length - 1_000);
      },
    };
  }
}
