/**
 * Break-glass (pure): the `/agent-gate override <reason>` command and who may use it.
 *
 * The App reads the command from a newly created comment only (an edit could turn an old comment into an
 * override after the fact), checks the commenter against the base branch's `override` group (users by login,
 * teams by membership read from GitHub), and refuses bots, an empty reason, and the people the gate exists to
 * check: the pull request's author and the human who triggered its agent (invariant 4 for approvals, here too).
 */
import type { ResolvedPolicy } from "./config.js";
import type { TeamMembership } from "./types.js";

/** Who wrote the comment, as GitHub says (`comment.user`). */
export interface Commenter {
  login: string;
  type: string;
}

export const OVERRIDE_COMMAND = "/agent-gate override";

/** A reason longer than this is cut (it goes into the check, the audit log and the export). */
export const MAX_OVERRIDE_REASON = 1_000;

/**
 * The reason of an override command, or null when the comment is not one. The command must open the comment
 * (leading blank lines aside); the reason is the rest of the comment, trimmed.
 */
export function parseOverrideCommand(body: string): { reason: string } | null {
  const text = body.replace(/^\s+/, "");
  const match = /^\/agent-gate[ \t]+override(?=\s|$)/i.exec(text);
  if (!match) return null;
  const reason = text.slice(match[0].length).trim().slice(0, MAX_OVERRIDE_REASON);
  return { reason };
}

export interface OverrideRequest {
  commenter: Commenter;
  reason: string;
  prAuthor: string;
  /** The human who triggered the agent run, as first seen for this PR. */
  triggeredBy?: string | undefined;
  /** Members of the policy's override teams (`@org/team` -> logins), as GitHub listed them. */
  teams: TeamMembership;
}

export type OverrideVerdict = { allowed: true; via: string } | { allowed: false; why: string };

/** The teams whose membership the verdict needs (none when the commenter is listed by login, or is refused first). */
export function overrideTeamsNeeded(policy: ResolvedPolicy, commenter: Commenter, reason: string): string[] {
  if (commenter.type !== "User" || reason === "") return [];
  const login = commenter.login.toLowerCase();
  if (policy.override.users.some((u) => u.toLowerCase() === login)) return [];
  return policy.override.teams;
}

/** Whether this commenter may override this pull request's approval check, and why not. */
export function judgeOverride(policy: ResolvedPolicy, request: OverrideRequest): OverrideVerdict {
  const { commenter, reason } = request;
  const login = commenter.login.toLowerCase();
  if (commenter.type !== "User" || login.endsWith("[bot]")) return { allowed: false, why: "a bot cannot override the approval check" };
  if (reason === "") return { allowed: false, why: `an override needs a reason: \`${OVERRIDE_COMMAND} <reason>\`` };
  const { users, teams } = policy.override;
  if (users.length === 0 && teams.length === 0) return { allowed: false, why: "this repository's policy names no override group (`override.users` / `override.teams` on the base branch)" };
  if (login === request.prAuthor.toLowerCase()) return { allowed: false, why: "the pull request's author cannot override its check" };
  if (request.triggeredBy && login === request.triggeredBy.toLowerCase()) return { allowed: false, why: "the human who triggered this agent run cannot override its check" };
  if (users.some((u) => u.toLowerCase() === login)) return { allowed: true, via: "override.users" };
  const team = teams.find((t) => (request.teams[t] ?? []).some((m) => m.toLowerCase() === login));
  if (team) return { allowed: true, via: team };
  return { allowed: false, why: "only the policy's override group may override (`override.users` / `override.teams` on the base branch)" };
}
