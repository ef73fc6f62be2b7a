/**
 * What the gate must remember about approvals on first sight (invariants 3 and 4): who pushed to a pull request
 * and what each review was given against. Each row is written once and never updated: a later observation, made
 * after the diff moved on, cannot rebind an old review to the new diff, nor forget a push.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Executor } from "./executor.js";
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
      const rows = await db
        .select({ login: pullRequestPushers.login })
        .from(pullRequestPushers)
        .where(and(eq(pullRequestPushers.repository, repository), eq(pullRequestPushers.pullRequest, pullRequest)))
        .orderBy(pullRequestPushers.firstSeenAt, pullRequestPushers.login);
      return rows.map((r) => r.login);
    },
  };
}

export function createReviewObservations(exec: Executor): ReviewObservationsRepository {
  return {
    async observe(repository, pullRequest, observations) {
      if (observations.length === 0) return new Map();
      // No transaction: the write is idempotent and the read after it sees it (read committed), so one
      // round trip each, not four with begin and commit; inside a caller's transaction both join it.
      const db = exec.db();
      await db
        .insert(reviewObservations)
        .values(observations.map((o) => ({ repository, pullRequest, ...o })))
        .onConflictDoNothing();
      const rows = await db
        .select({
          reviewId: reviewObservations.reviewId,
          reviewer: reviewObservations.reviewer,
          commitId: reviewObservations.commitId,
          baseRef: reviewObservations.baseRef,
          baseSha: reviewObservations.baseSha,
          diffFingerprint: reviewObservations.diffFingerprint,
        })
        .from(reviewObservations)
        .where(
          and(
            eq(reviewObservations.repository, repository),
            eq(reviewObservations.pullRequest, pullRequest),
            inArray(
              reviewObservations.reviewId,
              observations.map((o) => o.reviewId),
            ),
          ),
        );
      return new Map(rows.map((r) => [r.reviewId, r]));
    },
  };
}
