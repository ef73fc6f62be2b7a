import { z } from "zod";
import { MAX_GLOB_LENGTH, globMatcher, globProblem } from "./globs.js";
import type { ResolvedPolicy } from "./config.js";
import type { PullRequestFacts } from "./types.js";

/**
 * Conditions on the pull request as a whole, shared by risk rules (`when:`) and approval rules (`if:`): the base
 * branch, the author, whether it is an agent's, its labels and title, and its size. All given must hold.
 *
 * The title is the attacker's (an agent writes it), so it is matched with globs by a linear matcher, never with a
 * policy-supplied regular expression: JavaScript's backtracking engine can take exponential time on one.
 */

/** GitHub caps a pull request title at 256 characters; a longer one is cut before matching. */
export const MAX_TITLE_LENGTH = 1024;
const MAX_TITLE_GLOB = 200;

const branchGlob = z
  .string()
  .superRefine((value, ctx) => {
    const problem = globProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem.replace("repository paths", "branch names") });
  })
  .meta({ minLength: 1, maxLength: MAX_GLOB_LENGTH, not: { pattern: "^[/!]" } })
  .describe("A glob over the base branch name, case-insensitive: `release/**`, `main`.");

const login = z
  .string()
  .regex(/^@?[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, "expected a GitHub login, e.g. alice or copilot-swe-agent[bot]")
  .describe("A GitHub login (a leading @ is allowed), case-insensitive.");

const titleGlob = z
  .string()
  .min(1)
  .max(MAX_TITLE_GLOB)
  .describe("A glob over the pull request title, case-insensitive: `*` is any text, `?` one character, e.g. `[WIP]*` or `*hotfix*`.");

export const thresholdSchema = z
  .strictObject({
    gt: z.number().int().min(0).optional().describe("Holds when the count is greater than this."),
    lt: z.number().int().min(1).optional().describe("Holds when the count is less than this."),
  })
  .refine((t) => t.gt !== undefined || t.lt !== undefined, { message: "a threshold needs gt, lt or both" })
  .meta({ anyOf: [{ required: ["gt"] }, { required: ["lt"] }] })
  .describe("A numeric threshold: `gt`, `lt` or both (a range).");

export type Threshold = z.infer<typeof thresholdSchema>;

/** The pull-request-level conditions, as zod fields (spread into `when:` and `if:`). */
export const prConditionFields = {
  targets: z
    .array(branchGlob)
    .min(1)
    .optional()
    .describe("The base branch must match one of these globs, e.g. `[\"release/**\"]`."),
  authors: z.array(login).min(1).optional().describe("The author must be one of these logins."),
  agent: z
    .boolean()
    .optional()
    .describe(
      "true: only agent pull requests (the policy's `agents` match, or telemetry for the head was accepted); false: only the others.",
    ),
  labels: z.array(z.string().min(1).max(50)).min(1).optional().describe("The pull request must carry one of these labels (case-insensitive)."),
  title: z.array(titleGlob).min(1).optional().describe("The title must match one of these globs (case-insensitive; never a regular expression)."),
  changedLines: thresholdSchema.optional().describe("The whole pull request's changed lines (additions + deletions)."),
  changedFiles: thresholdSchema.optional().describe("The whole pull request's changed file count."),
};

export interface PrConditions {
  targets?: string[] | undefined;
  authors?: string[] | undefined;
  agent?: boolean | undefined;
  labels?: string[] | undefined;
  title?: string[] | undefined;
  changedLines?: Threshold | undefined;
  changedFiles?: Threshold | undefined;
}

/** What the conditions look at, computed once per evaluation. */
export interface ConditionFacts {
  pr: PullRequestFacts;
  /** The policy's `agents` match or accepted telemetry for the head. */
  isAgent: boolean;
  changedLines: number;
  changedFiles: number;
}

export function thresholdHolds(t: Threshold, value: number): boolean {
  return (t.gt === undefined || value > t.gt) && (t.lt === undefined || value < t.lt);
}

export function describeThreshold(t: Threshold): string {
  if (t.gt !== undefined && t.lt !== undefined) return `between ${t.gt} and ${t.lt}, exclusive`;
  return t.gt !== undefined ? `over ${t.gt}` : `under ${String(t.lt)}`;
}

const stripAt = (login: string) => (login.startsWith("@") ? login.slice(1) : login).toLowerCase();

/** Whether every condition given holds (none given: true). */
export function conditionsHold(c: PrConditions, facts: ConditionFacts): boolean {
  const { pr } = facts;
  if (c.targets && !globMatcher(c.targets)(pr.baseRef)) return false;
  if (c.authors && !c.authors.some((a) => stripAt(a) === pr.author.toLowerCase())) return false;
  if (c.agent !== undefined && c.agent !== facts.isAgent) return false;
  if (c.labels) {
    const have = new Set(pr.labels.map((l) => l.toLowerCase()));
    if (!c.labels.some((l) => have.has(l.toLowerCase()))) return false;
  }
  if (c.title && !c.title.some((g) => titleMatches(g, pr.title ?? ""))) return false;
  if (c.changedLines && !thresholdHolds(c.changedLines, facts.changedLines)) return false;
  if (c.changedFiles && !thresholdHolds(c.changedFiles, facts.changedFiles)) return false;
  return true;
}

/** Whether the policy uses the `agent` condition anywhere (only then is accepted telemetry worth reading). */
export function usesAgentCondition(policy: Pick<ResolvedPolicy, "risk" | "approvals">): boolean {
  return policy.risk.rules.some((r) => r.when?.agent !== undefined) || policy.approvals.rules.some((r) => r.if?.agent !== undefined);
}

/** Every condition of the policy: risk rules' `when:` and approval rules' `if:`. */
function allConditions(policy: Pick<ResolvedPolicy, "risk" | "approvals">): PrConditions[] {
  const out: PrConditions[] = [];
  for (const r of policy.risk.rules) if (r.when) out.push(r.when);
  for (const r of policy.approvals.rules) if (r.if) out.push(r.if);
  return out;
}

/** Whether a title change can alter a decision: some rule has a `title:` condition. */
export function usesTitleCondition(policy: Pick<ResolvedPolicy, "risk" | "approvals">): boolean {
  return allConditions(policy).some((c) => c.title !== undefined);
}

/** The labels (lowercased) some rule's `labels:` condition names: adding or removing one can alter a decision. */
export function conditionLabels(policy: Pick<ResolvedPolicy, "risk" | "approvals">): Set<string> {
  return new Set(allConditions(policy).flatMap((c) => (c.labels ?? []).map((l) => l.toLowerCase())));
}

/**
 * `*` and `?` wildcard matching, case-insensitive, in O(title × glob) time whatever the input: the classic
 * two-pointer walk that, on a mismatch, only retries from the last `*` (no nested backtracking).
 */
export function titleMatches(glob: string, title: string): boolean {
  const p = glob.toLowerCase();
  const s = title.slice(0, MAX_TITLE_LENGTH).toLowerCase();
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (i < s.length) {
    if (j < p.length && (p[j] === "?" || p[j] === s[i])) {
      i++;
      j++;
    } else if (j < p.length && p[j] === "*") {
      star = j++;
      resume = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j] === "*") j++;
  return j === p.length;
}
