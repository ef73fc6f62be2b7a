/**
 * Check-run text for the case the policy engine does not render: an evaluation GitHub did not let us finish. Everything that comes from outside (error messages, file names) is fenced or escaped.
 */
import { isGitHubApiError } from "../github/errors.js";
import { CHECK_RUN_TEXT_LIMIT } from "../shared/limits.js";

export const CHECK_NAME_PREFIX = "Agent Gate: approval";

/** Invariant 10: the base branch is part of the name, so a check for `main` cannot satisfy `release`. */
export function approvalCheckName(baseRef: string): string {
  return `${CHECK_NAME_PREFIX} (${baseRef})`;
}

/** The compliance pages' trail of one PR: /audit/pr/OWNER/NAME/NUMBER (each path segment encoded). */
export function trailPath(repository: string, number: number): string {
  return `/audit/pr/${repository.split("/").map(encodeURIComponent).join("/")}/${number}`;
}

/** The approval check's details link: the PR's trail page where the pages are served, else none. */
export function trailUrl(publicUrl: string | null | undefined, repo: { owner: string; repo: string }, number: number): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, "")}${trailPath(`${repo.owner}/${repo.repo}`, number)}` : undefined;
}

/** A fenced block that no backtick run inside `text` can close early. */
export function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}text\n${text}\n${ticks}`;
}

/** Inline code for names we did not write (paths, logins). */
export function code(text: string): string {
  const clean = text.replace(/[\r\n]+/g, " ");
  return clean.includes("`") ? `\`\` ${clean} \`\`` : `\`${clean}\``;
}

export function couldNotEvaluateSummary(error: unknown, deliveryId: string | undefined, notes: string[] = []): { title: string; summary: string } {
  const details: string[] = [];
  let title = "Could not evaluate this pull request";
  if (isGitHubApiError(error)) {
    title = `Could not evaluate: GitHub answered ${error.status ?? "no response"}`;
    details.push(`Request: ${error.request}`, `Status: ${error.status ?? "no response"}`);
    if (error.requestId) details.push(`GitHub request id: ${error.requestId}`);
    details.push(`Message: ${error.message}`);
  } else {
    details.push(`Error: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (deliveryId) details.push(`Webhook delivery: ${deliveryId}`);
  // Name the real cause: only a GitHub error is GitHub's (a database outage is ours).
  const cause = isGitHubApiError(error) ? "could not read everything it needs from GitHub" : "failed on its own side (not GitHub's), e.g. its database was unavailable";
  const summary = [
    "## Could not evaluate",
    "",
    `Agent Gate ${cause}, so it cannot say this pull request may merge. This check fails until an evaluation completes (fail closed).`,
    "",
    "Re-run this check, or push a new commit, to evaluate again.",
    "",
    fence(details.join("\n")),
    ...notesBlock(notes),
  ].join("\n");
  return { title, summary };
}

export function notesBlock(notes: string[]): string[] {
  if (notes.length === 0) return [];
  return ["", "### Notes", "", ...notes.map((n) => `- ${n}`)];
}

/** The audit entry a check run names, as `agent-gate audit verify --head` takes it. */
export function auditEntryRef(audit: { id: number; hash: string }): string {
  return `${audit.id}:${audit.hash}`;
}

/**
 * The last lines of every approval check: the audit entry of its decision. An outside witness of the chain: an
 * auditor who keeps it (or reads it off GitHub later) detects a log cut or rewritten below it (issue 11).
 */
export function auditEntryFooter(audit: { id: number; hash: string }): string {
  const ref = auditEntryRef(audit);
  return `\n\n---\nAudit entry \`${ref}\` · \`agent-gate audit verify --head ${ref}\` fails if the audit log no longer holds this entry unchanged.`;
}

/**
 * A check summary ending with the audit entry of what it shows (the approval check's decision, the rationale
 * check's accepted telemetry). The summary is cut first if it needs the room, so GitHub's limit never cuts the
 * entry off. No entry (a store without an audit log): the summary as it is.
 */
export function summaryWithAuditEntry(summary: string, audit: { id: number; hash: string } | null): string {
  if (audit === null) return summary;
  const footer = auditEntryFooter(audit);
  const room = CHECK_RUN_TEXT_LIMIT - footer.length;
  const note = "\n\n… cut here: GitHub shows at most 65,535 characters.";
  const body = summary.length <= room ? summary : summary.slice(0, room - note.length) + note;
  return body + footer;
}
