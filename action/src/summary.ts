/** The job summary. Hosts, paths and messages come from the agent's activity, so each is defused before rendering. */
import type { BundleManifest, NetworkAttempt } from "../../src/telemetry/bundle.js";
import type { FileChange } from "./git.js";
import type { SecretInDiff } from "./secret-scan.js";

/** Inline code that cannot break out: no backticks, no newlines, bounded length. */
export function code(text: string, max = 120): string {
  const clean = text.replace(/[`\r\n\t]/g, " ").slice(0, max);
  return `\`${clean || " "}\``;
}

function plain(text: string, max = 2_000): string {
  return text.replace(/[<>&|\\`*_[\]]/g, (c) => `&#${c.charCodeAt(0)};`).replace(/\r?\n/g, " ").slice(0, max);
}

const OUTCOME: Record<BundleManifest["outcome"], string> = {
  succeeded: "✅ succeeded",
  no_changes: "⚪ no changes",
  failed: "❌ failed",
  timed_out: "⏱️ timed out",
};

export interface SummaryInput {
  agent: string;
  model?: string;
  outcome: BundleManifest["outcome"];
  failure: string | null;
  pullRequest: { number: number; url: string } | null;
  branch: string | null;
  mode: "block" | "audit";
  attempts: readonly NetworkAttempt[];
  changes: readonly FileChange[];
  /** Secrets the scan found in the diff: file, line and kind only. */
  secrets?: readonly SecretInDiff[];
  decisions: number;
  artifactName: string;
  runUrl: string;
}

export function renderSummary(s: SummaryInput): string {
  const blocked = s.attempts.filter((a) => !a.allowed);
  const flagged = s.mode === "audit" ? s.attempts.filter((a) => !a.reason.startsWith("audit-mode: allowlisted") || a.reason.includes("private-address")) : [];
  const lines = [
    "## Agent Gate",
    "",
    "| | |",
    "|---|---|",
    `| Agent | ${code(s.agent)}${s.model ? ` (${code(s.model)})` : ""} |`,
    `| Outcome | ${OUTCOME[s.outcome]}${s.pullRequest ? ` — opened [#${s.pullRequest.number}](${s.pullRequest.url})` : ""} |`,
    `| Files changed | ${s.changes.length} |`,
    `| Network (${s.mode}) | ${s.attempts.length} attempt(s), ${blocked.length} blocked${s.mode === "audit" ? `, ${flagged.length} outside the allowlist` : ""} |`,
    `| Decisions recorded | ${s.decisions} |`,
    `| Branch | ${s.branch ? code(s.branch) : "—"} |`,
    `| Telemetry | artifact ${code(s.artifactName)} of [this run](${s.runUrl}) |`,
    "",
  ];
  if (s.failure) lines.push(`**Why it failed:** ${plain(s.failure)}`, "");
  if (s.outcome === "no_changes") lines.push("The agent changed no files, so no pull request was opened.", "");
  const secrets = s.secrets ?? [];
  if (secrets.length > 0) {
    lines.push("### Possible secrets in the diff", "", "The matched text is not shown.", "", "| File | Line | What |", "|---|---|---|");
    for (const h of secrets.slice(0, 50)) lines.push(`| ${code(h.path, 200)} | ${h.line} | ${plain(h.what, 120)} |`);
    if (secrets.length > 50) lines.push(`| … and ${secrets.length - 50} more | | |`);
    lines.push("");
  }
  const listed = s.mode === "audit" ? flagged : blocked;
  if (listed.length > 0) {
    lines.push(`### ${s.mode === "audit" ? "Outside the allowlist (audit mode, not blocked)" : "Blocked network attempts"}`, "", "| Host | Port | Method | Reason |", "|---|---|---|---|");
    for (const a of listed.slice(0, 30)) lines.push(`| ${code(a.host, 80)} | ${a.port} | ${code(a.method, 10)} | ${code(a.reason, 120)} |`);
    if (listed.length > 30) lines.push(`| … and ${listed.length - 30} more | | | |`);
    lines.push("");
  }
  if (s.changes.length > 0) {
    lines.push("### Files changed", "");
    for (const c of s.changes.slice(0, 50)) lines.push(`- ${c.kind} ${code(c.path, 200)}${c.oldPath ? ` (from ${code(c.oldPath, 200)})` : ""}`);
    if (s.changes.length > 50) lines.push(`- … and ${s.changes.length - 50} more`);
    lines.push("");
  }
  return lines.join("\n");
}

/** The pull request body: the task in a fence it cannot close, the agent, and the run. */
export function renderPullRequestBody(input: { prompt: string; agent: string; runUrl: string; triggeredBy: string; runId: number; artifactName: string; mode: string; blocked: number }): string {
  const longestTicks = Math.max(2, ...[...input.prompt.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longestTicks + 1);
  const prompt = input.prompt.length > 4_000 ? `${input.prompt.slice(0, 4_000)}\n… (truncated)` : input.prompt;
  // The App reads the first triggered-by marker to keep the triggering user from approving their own agent's
  // work; it goes first so nothing in the prompt below can come before it.
  const login = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/.test(input.triggeredBy) ? input.triggeredBy : "unknown";
  return [
    `<!-- agent-gate: triggered-by=@${login} -->`,
    `Opened by Agent Gate for a ${code(input.agent)} run started by ${code(input.triggeredBy)}. The agent ran unprivileged, without the workflow's token, behind the egress allowlist; the action made this commit.`,
    "",
    "**Task**",
    "",
    `${fence}text`,
    prompt,
    fence,
    "",
    `- Workflow run: ${input.runUrl}`,
    `- Telemetry: artifact ${code(input.artifactName)} of that run`,
    `- Network: ${input.mode}, ${input.blocked} attempt(s) blocked`,
    "",
    `<!-- agent-gate-run: ${input.runId} -->`,
    "",
  ].join("\n");
}
