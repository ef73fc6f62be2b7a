/**
 * What each approval was given against (invariant 3): the diff the pull request showed when the review was first
 * observed, remembered once (the store's `review_observations`). An approval whose recorded diff is not the current
 * one does not count: a retarget to another base, or any other change of the diff under the same head.
 */
import type { PullRequestInfo } from "../../github/port.js";
import type { ChangedFile, DiffIdentity, Review } from "../../policy/types.js";
import { canonicalize, sha256Hex } from "../../store/index.js";
import type { EvaluationContext } from "./types.js";

/**
 * The diff's identity: the base branch and every changed file (path, status, old path, counts, the patch's hash).
 * The base commit is left out on purpose: the base branch moving on leaves the PR's three-dot diff unchanged.
 */
export function diffIdentity(baseRef: string, files: readonly ChangedFile[], truncated: boolean): DiffIdentity {
  const listed = files
    .map((f) => [f.filename, f.status, f.previous_filename ?? null, f.additions, f.deletions, f.patch === undefined ? null : sha256Hex(f.patch)])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[2]).localeCompare(String(b[2])));
  return { baseRef, fingerprint: sha256Hex(canonicalize({ baseRef, truncated, files: listed })) };
}

/**
 * Records, on first sight, what each approval on the current head was given against, and returns the reviews
 * with that (`givenFor`). An approval first seen by the evaluation of a retarget, and submitted before it, was
 * given for the old base: it is bound to that base, whose diff no longer exists. Written at once, outside the
 * evaluation's transaction: a failed evaluation must not let a later one bind an old approval to a new diff.
 */
export async function observeReviews(ctx: EvaluationContext, pr: PullRequestInfo, reviews: Review[], current: DiffIdentity): Promise<Review[]> {
  const retarget = ctx.target.retarget;
  const candidates = reviews.filter((r): r is Review & { id: number } => r.state === "APPROVED" && r.id !== undefined && r.commitId === pr.headSha);
  if (candidates.length === 0) return reviews;
  const observations = candidates.map((r) => {
    const before = retarget !== undefined && r.submittedAt !== "" && r.submittedAt <= retarget.at;
    const given = before ? { baseRef: retarget.from, fingerprint: sha256Hex(`given before the retarget from ${retarget.from} at ${retarget.at}`) } : current;
    return { reviewId: r.id, reviewer: r.reviewer, commitId: r.commitId, baseRef: given.baseRef, baseSha: before ? "" : pr.baseSha, diffFingerprint: given.fingerprint };
  });
  const seen = await ctx.scope.observeReviews(observations);
  return reviews.map((r) => {
    const o = r.id === undefined ? undefined : seen.get(r.id);
    return o ? { ...r, givenFor: { baseRef: o.baseRef, fingerprint: o.diffFingerprint } } : r;
  });
}
