import { z } from "zod";
import { OWNER_FORMS, isValidOwner } from "./codeowners.js";
import { MAX_GLOB_LENGTH, globProblem } from "./globs.js";
import { RISK_LEVELS } from "./types.js";

/** Schema parts shared by the policy's sections (config.ts) and the approval rules (rules-schema.ts). */

export const level = z.enum(RISK_LEVELS).describe("A risk level: low, medium, high or critical.");

export const glob = z
  .string()
  .superRefine((value, ctx) => {
    const problem = globProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ minLength: 1, maxLength: MAX_GLOB_LENGTH, not: { pattern: "^[/!]" } })
  .describe(
    "A glob over the repository path (no leading slash), dot files included, case-insensitive. `*` stays within one folder, `**` crosses folders: `*.pem` matches only at the root, `**/*.pem` anywhere.",
  );

export const owner = z
  .string()
  .refine((value) => isValidOwner(value), { message: "expected @user, @org/team or an email address" })
  .meta({ maxLength: OWNER_FORMS.maxLength, anyOf: OWNER_FORMS.patterns.map((re) => ({ pattern: re.source })) })
  .describe("A code owner as CODEOWNERS writes it: @user, @org/team or an email address.");

