/**
 * Risk labels are the App's (issue 11): someone who adds `agent-risk:low` to a high-risk PR by hand, or removes its
 * `agent-risk:critical`, must not change what reviewers and branch rules see. The labels go back to the last
 * recorded decision for the PR's current head and base: one conditional read (the policy, for its label prefix)
 * and the label writes, not a full evaluation. Without such a decision the caller evaluates.
 *
 * The prefix is the policy's (`labels.prefix`). The edge recognises only the default one without I/O; a label
 * that ends in a level under another prefix (`risk/high`) comes here marked `ifPolicyPrefix`, and is put back only
 * if it carries the policy's prefix. One that does not (`priority-high`) goes on as an ordinary label change: its
 * evaluation reads the policy again, a conditional request GitHub answers 304.
 *
 * No loop on our own label events: the webhook edge skips label events this App's bot sent (src/app/routes.ts),
 * and putting back labels that already match writes nothing.
 */
import { riskLabel } from "../../policy/decision.js";
import { loadPolicy } from "../snapshot.js";
import type { EvaluationOutcome } from "../types.js";
import { planLabels } from "./plan.js";
import { applyLabels } from "./publish.js";
import type { EvaluationContext } from "./types.js";

/** The outcome, or null when there is no decision to put back (the caller evaluates instead). */
export async function restoreRiskLabels(ctx: EvaluationContext): Promise<EvaluationOutcome | null> {
  const { deps, scope, target } = ctx;
  const pr = target.pull;
  const changed = target.restoreLabels;
  if (!pr || !changed || pr.state !== "open") return null;
  const last = await scope.lastDecision();
  if (!last || last.risk === null || last.headSha !== pr.headSha || last.baseSha !== pr.baseSha) {
    deps.log.info({ label: changed.label, sender: changed.sender }, "a risk label changed and no decision is recorded for this head and base: evaluating");
    return null;
  }
  // The base commit did not move, so this is the policy that decided (answered from the conditional cache).
  const policy = await loadPolicy(deps.github, target.repo, pr.baseSha);
  if (!policy.ok) return null;
  if (changed.ifPolicyPrefix && !changed.label.toLowerCase().startsWith(policy.policy.labels.prefix.toLowerCase())) return null;
  const plan = planLabels(pr, { risk: last.risk, labels: [riskLabel(policy.policy, last.risk)] }, policy.policy);
  if (plan.add.length === 0 && plan.remove.length === 0) {
    deps.log.info({ label: changed.label, sender: changed.sender }, "the risk labels already match the decision");
    return { kind: "skipped", reason: "the risk labels already match the decision" };
  }
  const labels = await applyLabels(deps, target.repo, pr.number, plan);
  await scope.recordLabelsRestored({ headSha: pr.headSha, evaluationId: last.evaluationId, ...labels, event: target.event, sender: changed.sender });
  deps.log.warn({ label: changed.label, sender: changed.sender, added: labels.added, removed: labels.removed, risk: last.risk }, "a risk label was changed by hand: put back to the decision");
  return { kind: "labels-restored", risk: last.risk, labels };
}
