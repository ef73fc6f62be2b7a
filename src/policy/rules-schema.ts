import { z } from "zod";
import { prConditionFields } from "./conditions.js";
import { glob, level } from "./schema-common.js";
import { KNOWN_FILE_STATUSES } from "./types.js";

/**
 * The schema of named approval rules (`approvals.rules`) and of the disapproval group (`approvals.disapproval`).
 * The engine is in rules.ts; config.ts puts these under `approvals`.
 */

const userLogin = z
  .string()
  .regex(/^@?[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "expected a GitHub user login, e.g. alice (bots never count as approvers)")
  .describe("A GitHub user login; a leading @ is allowed.");

const teamSlug = z
  .string()
  .regex(/^@?[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "expected a team as org/team or @org/team")
  .describe("A team as `org/team` (or `@org/team`); its members count.");

export const REQUEST_MODES = ["all", "one", "team", "none"] as const;
export type RequestMode = (typeof REQUEST_MODES)[number];

export const requestsSchema = z
  .enum(REQUEST_MODES)
  .describe(
    "Whom Agent Gate asks for a review while the rule waits: `all` its owners (default), `one` owner (the same one on every event: chosen from the pull request and the rule, not at random), `team` only the teams (GitHub then assigns per the team's settings), or `none`. Nobody is asked twice, nor anyone who already reviewed.",
  );

export const approverSetSchema = z
  .strictObject({
    users: z.array(userLogin).min(1).optional().describe("Users whose approval counts."),
    teams: z.array(teamSlug).min(1).optional().describe("Teams whose members' approval counts."),
    codeowners: z
      .boolean()
      .optional()
      .describe(
        "true: the code owners of the files the rule matched count, per owner group, as GitHub's code-owner review works: each group of files with the same owners needs `count` approvals from its own owners (plus the users and teams listed).",
      ),
  })
  .refine((f) => f.users !== undefined || f.teams !== undefined || f.codeowners === true, { message: "say who can approve: users, teams or codeowners: true" })
  .meta({ anyOf: [{ required: ["users"] }, { required: ["teams"] }, { required: ["codeowners"], properties: { codeowners: { const: true } } }] })
  .describe("Who can approve.");

export const requiresSchema = z
  .strictObject({
    count: z.number().int().min(1).max(20).default(1).describe("Distinct approvals needed (default 1)."),
    from: approverSetSchema,
  })
  .describe("What the rule needs: `count` approvals from `from`.");

export type Requires = z.output<typeof requiresSchema>;

const ruleName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "expected lowercase letters, digits, '.', '_' or '-' (at most 64)")
  .describe("The rule's name, shown in the check's table.");

export const approvalRuleSchema = z
  .strictObject({
    name: ruleName,
    if: z
      .strictObject({
        paths: z.array(glob).min(1).optional().describe("The rule applies when a changed file matches (a renamed file by its old or new path)."),
        excludePaths: z.array(glob).optional().describe("Files that never make the rule apply."),
        status: z.array(z.enum(KNOWN_FILE_STATUSES)).min(1).optional().describe("Only files with one of these statuses make the rule apply."),
        level: level.optional().describe("The rule applies when the pull request's risk is at or above this level."),
        ...prConditionFields,
      })
      .optional()
      .describe(
        "When the rule applies; all given must hold. Omitted: always. The files it matched (by paths/status; else, with `level`, the files with findings at or above it; else every changed file) are the ones `codeowners: true` looks at.",
      ),
    requires: requiresSchema.optional(),
    anyOf: z.array(requiresSchema).min(2).max(10).optional().describe("Alternatives: the rule passes when any one of them does."),
    requests: requestsSchema.default("all"),
  })
  .superRefine((rule, ctx) => {
    if ((rule.requires === undefined) === (rule.anyOf === undefined)) {
      ctx.addIssue({ code: "custom", message: "an approval rule needs exactly one of requires or anyOf" });
    }
  })
  .meta({ oneOf: [{ required: ["requires"] }, { required: ["anyOf"] }] })
  .describe("A named approval rule: when it applies (`if`), what it needs (`requires`, or alternatives in `anyOf`) and whom it asks (`requests`).");

export type ApprovalRule = z.output<typeof approvalRuleSchema>;

/** Two rules with one name would show as one row and hide a requirement. */
export function noDuplicateNames(rules: ReadonlyArray<{ name: string }>, ctx: z.core.$RefinementCtx<ReadonlyArray<{ name: string }>>): void {
  const first = new Map<string, number>();
  rules.forEach((rule, index) => {
    const earlier = first.get(rule.name);
    if (earlier === undefined) first.set(rule.name, index);
    else ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate rule name "${rule.name}" (approvals.rules[${earlier}] has it too)` });
  });
}

export const disapprovalSchema = z
  .strictObject({
    name: ruleName.default("disapproval"),
    // Users and teams only: code owners already block their own files.
    from: z
      .strictObject({
        users: z.array(userLogin).min(1).optional().describe("Users in the group."),
        teams: z.array(teamSlug).min(1).optional().describe("Teams whose members are in the group."),
      })
      .refine((f) => f.users !== undefined || f.teams !== undefined, { message: "say who is in the group: users, teams or both" })
      .meta({ anyOf: [{ required: ["users"] }, { required: ["teams"] }] })
      .describe("The group: users and teams (code owners already block their own files)."),
  })
  .describe(
    "A group whose \"changes requested\" blocks the whole pull request until the same person approves or the review is dismissed (a code owner's blocks their own files anyway).",
  );

export type Disapproval = z.output<typeof disapprovalSchema>;
