/**
 * What the gate must remember about approvals on first sight (invariants 3 and 4): who pushed to a pull request
 * and what each review was given against. Each row is written once and never updated: a later observation, made
 * after the diff moved on, cannot rebind an old review to the new diff, nor forget a push.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { queryRows } from "./executor.js";
import type { Db, Executor } from "./executor.js";
import { placeholders, reusableStatement } from "./reusable-statement.js";
import { pullRequestPushers, reviewObservations } from "./schema.js";

export interface PushersRepository {
  /**
   * Records `logins` (lower-cased) as pushers of the pull request, keeping the first sighting of each, and returns
   * every pusher recorded for it, oldest first.
   */
  record(repository: string, pullRequest: number, logins: readonly string[], headSha: string | null): Promise<string[]>;
}

/** What one review was given against, as first observed. */
export interface ReviewObservation {
  reviewId: number;
  reviewer: string;
  commitId: string;
  baseRef: string;
  baseSha: string;
  diffFingerprint: string;
}

export interface ReviewObservationsRepository {
  /**
   * Records each observation unless its review was observed before, and returns the first observation of every
   * review named, by review id.
   */
  observe(repository: string, pullRequest: number, observations: readonly ReviewObservation[]): Promise<Map<number, ReviewObservation>>;
}

// Built once (reusableStatement): every evaluation reads the pushers.
const pushersStatement = reusableStatement<{ repository: string; pullRequest: number }, Array<{ login: string }>>("pushers.read", (db) => {
  const p = placeholders("repository", "pullRequest");
  return db
    .select({ login: pullRequestPushers.login })
    .from(pullRequestPushers)
    .where(and(eq(pullRequestPushers.repository, p.repository), eq(pullRequestPushers.pullRequest, p.pullRequest)))
    .orderBy(pullRequestPushers.firstSeenAt, pullRequestPushers.login);
});

export function createPushers(exec: Executor): PushersRepository {
  return {
    async record(repository, pullRequest, logins, headSha) {
      // No transaction: the write is idempotent and the read after it sees it (read committed), so one
      // round trip each, not four with begin and commit; inside a caller's transaction both join it.
      const db = exec.db();
      const unique = [...new Set(logins.map((l) => l.toLowerCase()).filter((l) => l !== ""))];
      if (unique.length > 0) {
        await db
          .insert(pullRequestPushers)
          .values(unique.map((login) => ({ repository, pullRequest, login, headSha })))
          .onConflictDoNothing();
      }
      const rows = await pushersStatement(db, { repository, pullRequest });
      return rows.map((r) => r.login);
    },
  };
}

export function createReviewObservations(exec: Executor): ReviewObservationsRepository {
  const columns = {
    reviewId: reviewObservations.reviewId,
    reviewer: reviewObservations.reviewer,
    commitId: reviewObservations.commitId,
    baseRef: reviewObservations.baseRef,
    baseSha: reviewObservations.baseSha,
    diffFingerprint: reviewObservations.diffFingerprint,
  };
  const firstSeen = (db: Db, repository: string, pullRequest: number, reviewIds: number[]) =>
    db
      .select(columns)
      .from(reviewObservations)
      .where(and(eq(reviewObservations.repository, repository), eq(reviewObservations.pullRequest, pullRequest), inArray(reviewObservations.reviewId, reviewIds)));
  return {
    async observe(repository, pullRequest, observations) {
      if (observations.length === 0) return new Map();
      // No transaction: the write is idempotent. One statement: the rows it inserted, and the rows already there
      // (read in the statement's snapshot, taken before the insert).
      const db = exec.db();
      const reviewIds = observations.map((o) => o.reviewId);
      const insert = db
        .insert(reviewObservations)
        .values(observations.map((o) => ({ repository, pullRequest, ...o })))
        .onConflictDoNothing()
        .returning(columns);
      // Raw SQL: a data-modifying WITH must be at the top level, and drizzle parenthesises each arm of a union.
      const named = sql.raw(`review_id as "reviewId", reviewer, commit_id as "commitId", base_ref as "baseRef", base_sha as "baseSha", diff_fingerprint as "diffFingerprint"`);
      const raw = await queryRows<Omit<ReviewObservation, "reviewId"> & { reviewId: number | string }>(
        db,
        sql`with inserted as (${insert.getSQL()})
            select ${named} from inserted
            union all
            select ${named} from review_observations where repository = ${repository} and pull_request = ${pullRequest} and review_id in ${reviewIds}`,
      );
      // Raw rows carry a bigint as the driver gives it (postgres.js: a string).
      const rows = raw.map((r) => ({ ...r, reviewId: Number(r.reviewId) }));
      const found = new Map(rows.map((r) => [r.reviewId, r]));
      // A review another session inserted after our snapshot and before our insert is in neither half: read
      // again (the PR lock makes this rare; it is never wrong).
      if (reviewIds.some((id) => !found.has(id))) return new Map((await firstSeen(db, repository, pullRequest, reviewIds)).map((r) => [r.reviewId, r]));
      return found;
    },
  };
}
