/**
 * Invariant 10: the check only protects a branch that requires it from this App. We read that from the rules
 * endpoint (rulesets; metadata permission) and, only when rulesets do not settle it, from the branch's
 * protection summary (classic protection; contents permission). No administration permission is needed.
 */
import type { RepoRef, RequiredCheck } from "../github/port.js";
import type { Enforcement, ServiceDeps } from "./types.js";

export function classifyRequiredChecks(checks: RequiredCheck[], checkName: string, appId: number | null): Enforcement {
  const ours = checks.filter((c) => c.context === checkName);
  const via = [...new Set(ours.map((c) => c.source))];
  if (ours.length === 0) return { state: "not-required", via: [] };
  if (ours.some((c) => c.appId !== null && appId !== null && c.appId === appId)) return { state: "enforced", via };
  if (ours.some((c) => c.appId === null)) return { state: "any-source", via };
  // Pinned to an App id we cannot confirm is ours (or to another App).
  return { state: appId === null ? "any-source" : "other-source", via };
}

/** Never throws: enforcement is reported, not decided on. An unreadable answer is "unknown". */
export async function readEnforcement(deps: ServiceDeps, repo: RepoRef, installationId: number | undefined, branch: string, checkName: string): Promise<Enforcement> {
  const key = `${installationId ?? "-"}/${repo.owner}/${repo.repo}@${branch}`.toLowerCase();
  const now = deps.clock().getTime();
  const cached = deps.enforcement.get(key, now);
  if (cached) return cached;
  let result: Enforcement;
  try {
    const fromRulesets = classifyRequiredChecks(await deps.github.getRulesetRequiredChecks(repo, branch), checkName, deps.appId);
    if (fromRulesets.state === "enforced") {
      result = fromRulesets;
    } else {
      const classic = await deps.github.getBranchProtectionRequiredChecks(repo, branch);
      const fromClassic = classifyRequiredChecks(classic ?? [], checkName, deps.appId);
      result = strongest(fromRulesets, fromClassic);
    }
  } catch (error) {
    deps.log.warn({ err: error, branch }, "could not read whether the branch requires the approval check");
    return { state: "unknown", via: [] };
  }
  deps.enforcement.set(key, result, now);
  return result;
}

const RANK = { enforced: 4, "any-source": 3, "other-source": 2, "not-required": 1, unknown: 0 } as const;

function strongest(a: Enforcement, b: Enforcement): Enforcement {
  if (RANK[a.state] === RANK[b.state]) return { state: a.state, via: [...new Set([...a.via, ...b.via])] };
  return RANK[a.state] > RANK[b.state] ? a : b;
}

/** The sentence the check summary carries; null when there is nothing to warn about. */
export function enforcementNote(enforcement: Enforcement, checkName: string, branch: string): string | null {
  const required = `\`${checkName}\``;
  switch (enforcement.state) {
    case "enforced":
      return null;
    case "not-required":
      return (
        `**Not enforced.** The branch \`${branch}\` does not require ${required}, so this result does not block merging. ` +
        `The gate is not enforced until an admin requires this check from the Agent Gate App (a ruleset or branch protection rule, "Require status checks to pass", source: Agent Gate).`
      );
    case "any-source":
      return (
        `**Not fully enforced.** The branch \`${branch}\` requires ${required} but accepts it from any source, so a workflow could report a check with the same name. ` +
        `An admin should set the required check's source to the Agent Gate App.`
      );
    case "other-source":
      return `**Not enforced.** The branch \`${branch}\` requires ${required} from a different App, so this App's check cannot satisfy it and another App's can. An admin should set the required check's source to the Agent Gate App.`;
    case "unknown":
      return `Agent Gate could not read whether the branch \`${branch}\` requires ${required}. Unless an admin requires it from the Agent Gate App, this result does not block merging.`;
  }
}
