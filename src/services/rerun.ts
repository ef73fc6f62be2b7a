/**
 * "Re-run" on our check (check_run.rerequested) or on its suite (check_suite.rerequested): find the pull
 * requests of that head commit and evaluate each. The payload lists them for same-repository PRs; for forks it
 * lists none, so we ask GitHub which open PRs have that head.
 */
import type { RepoRef } from "../github/port.js";
import { evaluatePullRequest } from "./evaluate-pull-request.js";
import type { EvaluationOutcome, ServiceDeps } from "./types.js";

export interface RerunTarget {
  repo: RepoRef;
  installationId?: number | undefined;
  headSha: string;
  /** PR numbers from the payload, possibly empty. */
  pullNumbers: number[];
  deliveryId?: string | undefined;
  event: string;
  /** See EvaluationTarget.publishFailure. */
  publishFailure?: boolean | undefined;
}

/**
 * @throws {GitHubApiError} when the PRs of the commit cannot be listed, or an evaluation fails.
 */
export async function evaluateCommit(deps: ServiceDeps, target: RerunTarget): Promise<EvaluationOutcome[]> {
  const numbers = target.pullNumbers.length > 0 ? target.pullNumbers : await deps.github.listPullRequestsForCommit(target.repo, target.headSha);
  if (numbers.length === 0) {
    deps.log.info({ headSha: target.headSha, event: target.event }, "skipped: no open pull request has this head commit");
    return [{ kind: "skipped", reason: "no open pull request has this head commit" }];
  }
  const outcomes: EvaluationOutcome[] = [];
  for (const number of [...new Set(numbers)]) {
    outcomes.push(
      await evaluatePullRequest(deps, {
        repo: target.repo,
        installationId: target.installationId,
        number,
        // Dedup is per PR here: one delivery may cover several PRs.
        deliveryId: target.deliveryId ? `${target.deliveryId}#${number}` : undefined,
        event: target.event,
        onlyIfHeadSha: target.headSha,
        publishFailure: target.publishFailure,
      }),
    );
  }
  return outcomes;
}
