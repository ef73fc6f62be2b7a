/**
 * The publish stage: the one path that writes to GitHub, for every outcome (a decision, an invalid policy, an
 * evaluation that could not finish). The check run first (it is the gate); labels and review requests after it,
 * whose failures are logged, not fatal.
 */
import { isGitHubApiError } from "../../github/errors.js";
import type { RepoRef } from "../../github/port.js";
import { trailUrl } from "../render.js";
import type { ServiceDeps } from "../types.js";
import type { LabelPlan, PublicationPlan, Published, ReviewRequestPlan } from "./types.js";

/** @throws {GitHubApiError} when the check run cannot be created (nothing else was written then). */
export async function publish(deps: ServiceDeps, repo: RepoRef, plan: PublicationPlan): Promise<Published> {
  // The details link leads compliance from the check to the PR's trail page (when the pages are served).
  const detailsUrl = plan.check.detailsUrl ?? trailUrl(deps.publicUrl, repo, plan.number);
  const check = await deps.github.createCheckRun(repo, detailsUrl === undefined ? plan.check : { ...plan.check, detailsUrl });
  const labels = plan.labels ? await applyLabels(deps, repo, plan.number, plan.labels) : { added: [], removed: [] };
  const reviewRequested = plan.reviews ? await requestReviews(deps, repo, plan.number, plan.reviews) : [];
  return { checkRunId: check.id, labels, reviewRequested };
}

/** A label GitHub creates on the fly comes back grey (`ededed`): it then gets the level's colour, once. */
export async function applyLabels(deps: ServiceDeps, repo: RepoRef, number: number, plan: LabelPlan): Promise<Published["labels"]> {
  const added: string[] = [];
  const removed: string[] = [];
  try {
    if (plan.add.length > 0) {
      const after = await deps.github.addLabels(repo, number, plan.add);
      added.push(...plan.add);
      const { color } = plan.style;
      for (const label of after) {
        if (plan.add.some((l) => l.toLowerCase() === label.name.toLowerCase()) && label.color === "ededed" && color.toLowerCase() !== "ededed") {
          await deps.github.updateLabel(repo, label.name, plan.style);
        }
      }
    }
    for (const label of plan.remove) {
      await deps.github.removeLabel(repo, number, label);
      removed.push(label);
    }
  } catch (error) {
    deps.log.warn({ err: isGitHubApiError(error) ? error.toLog() : error, toAdd: plan.add, toRemove: plan.remove }, "could not update the risk labels");
  }
  return { added, removed };
}

async function requestReviews(deps: ServiceDeps, repo: RepoRef, number: number, plan: ReviewRequestPlan): Promise<string[]> {
  try {
    await deps.github.requestReviewers(repo, number, { users: plan.users, teams: plan.teams });
    deps.log.info({ owners: plan.owners }, "requested code-owner reviews");
    return plan.owners;
  } catch (error) {
    deps.log.warn({ err: isGitHubApiError(error) ? error.toLog() : error, owners: plan.owners }, "GitHub refused the review request");
    return [];
  }
}
