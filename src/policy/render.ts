import { CHECK_RUN_TEXT_LIMIT } from "../shared/limits.js";
import { escapeInline, escapeMarkdown, sanitizeText } from "../shared/markdown.js";
import type { Decision, Finding, RequirementStatus, RiskLevel } from "./types.js";

/** Label colours (hex without `#`, as the labels API takes them). */
export const RISK_LABEL_COLORS: Record<RiskLevel, string> = {
  low: "0e8a16",
  medium: "fbca04",
  high: "d93f0b",
  critical: "b60205",
};

export const RISK_LABEL_DESCRIPTIONS: Record<RiskLevel, string> = {
  low: "Agent Gate: low-risk agent change",
  medium: "Agent Gate: medium-risk agent change",
  high: "Agent Gate: high-risk agent change, code-owner approval needed",
  critical: "Agent Gate: critical agent change, code-owner approval needed",
};

// ---------------------------------------------------------------------------------------------------------
// Escaping (src/shared/markdown.ts). File paths, and the finding messages that quote them and the hosts an added
// line calls, were chosen by the agent: they are escaped like telemetry text (`escapeInline`: no live @mention,
// link, autolink, #reference or HTML), since GitHub autolinks `https://…` and `www.…` even inside `<code>`.
// Owners, rule ids and the policy's own sentences come from the base branch and keep `escapeMarkdown`.

/** Agent-chosen text for a table cell. */
function untrusted(text: string): string {
  return escapeInline(text, 2000);
}

function code(text: string): string {
  return `<code>${untrusted(text)}</code>`;
}

export { CHECK_RUN_TEXT_LIMIT, escapeMarkdown, sanitizeText };

const utf8 = new TextEncoder();
function size(s: string): number {
  return utf8.encode(s).length;
}

const LEVEL_ICON: Record<RiskLevel, string> = { low: "🟢", medium: "🟡", high: "🟠", critical: "🔴" };
const MAX_PATHS_PER_FINDING = 10;

function ownersCell(r: RequirementStatus): string {
  if (r.source === "unowned") return "_none_";
  const owners = r.owners.map(escapeMarkdown).join(", ");
  const from = r.source === "fallback" ? " (fallback)" : r.codeownersLine !== undefined ? ` (CODEOWNERS line ${r.codeownersLine})` : r.disapproval ? " (disapproval group)" : "";
  return owners + from;
}

/** A named approval rule shows its name (and which alternative); a code-owner requirement the risk rules behind it. */
function ruleCell(r: RequirementStatus): string {
  if (r.name === undefined) return escapeMarkdown(r.rules.join(", "));
  const alt = r.alternative ? ` (alternative ${r.alternative.index} of ${r.alternative.of})` : "";
  return `${r.disapproval ? "disapproval " : "approval rule "}${code(r.name)}${alt}`;
}

function statusCell(r: RequirementStatus): string {
  // The reason may quote GitHub's CODEOWNERS errors (logins, paths someone wrote): no live @mention or link.
  if (!r.satisfiable) return `⛔ ${untrusted(r.reason ?? "nobody can approve")}`;
  if (r.met) return r.metByAlternative !== undefined ? `✅ met by alternative ${r.metByAlternative}` : "✅ met";
  if (r.blockedBy.length > 0) return `✋ changes requested by ${r.blockedBy.map((b) => escapeMarkdown(`@${b}`)).join(", ")}`;
  const have = r.approvedBy.length;
  return `⏳ ${have} of ${r.count}; waiting on ${r.waitingOn.map(escapeMarkdown).join(", ") || "an eligible owner"}`;
}

function findingPaths(f: Finding): string {
  if (f.paths.length === 0) return "_whole pull request_";
  const shown = f.paths.slice(0, MAX_PATHS_PER_FINDING).map(code).join("<br>");
  const more = f.paths.length - MAX_PATHS_PER_FINDING;
  return more > 0 ? `${shown}<br>and ${more} more` : shown;
}

/**
 * The approval check run's summary: what was decided, the table sensitive path → rule → owners → approved
 * by / waiting on, then the findings. Always under GitHub's 65,535-character limit: rows that do not fit are
 * dropped whole and counted in a closing note.
 */
export function renderDecisionMarkdown(decision: Decision, notes: string[] = [], limit = CHECK_RUN_TEXT_LIMIT): string {
  const summary = new SummaryLines(limit - TRUNCATION_RESERVE);
  headerSection(summary, decision, notes);
  policyErrorsSection(summary, decision);
  approvalsSection(summary, decision);
  findingsSection(summary, decision);
  ignoredReviewsSection(summary, decision);
  codeownersSection(summary, decision);
  return summary.text();
}

/** Room kept for the closing "N more lines not shown" note. */
const TRUNCATION_RESERVE = 400;

/** A summary's lines within a character budget (the limit less room for the closing note). */
class SummaryLines {
  private readonly out: string[] = [];
  private used = 0;
  private dropped = 0;
  private full = false;

  constructor(private readonly budget: number) {}

  /** Adds a line unless it no longer fits; `required` lines (headings, the decision itself) always go in. */
  push(s: string, required = false): boolean {
    const n = size(s) + 1;
    // Once one line did not fit, later ones are dropped too, so nothing is shown out of order or out of place.
    if (!required && (this.full || this.used + n > this.budget)) {
      this.full = true;
      if (s !== "") this.dropped++;
      return false;
    }
    this.out.push(s);
    this.used += n;
    return true;
  }

  text(): string {
    const out = [...this.out];
    if (this.dropped > 0) {
      const d = this.dropped;
      out.push(`_${d} more line${d === 1 ? "" : "s"} not shown: GitHub limits a check run summary to ${CHECK_RUN_TEXT_LIMIT.toLocaleString("en-US")} characters._`);
    }
    return out.join("\n");
  }
}

function headerSection(summary: SummaryLines, decision: Decision, notes: string[]): void {
  summary.push(`### ${LEVEL_ICON[decision.risk]} ${escapeMarkdown(decision.title)}`, true);
  summary.push("", true);
  const policyRef = decision.policy.ref ? ` at ${code(decision.policy.ref.slice(0, 12))}` : "";
  summary.push(
    `**Risk:** ${escapeMarkdown(decision.labels.join(", "))} · **Conclusion:** ${decision.conclusion} · **Policy:** ${escapeMarkdown(decision.policy.source)}${policyRef}`,
    true,
  );
  summary.push("", true);
  for (const note of notes) {
    // Notes are the App's own sentences (trusted markup), capped so they cannot crowd out the table.
    summary.push(note.length > 4000 ? `${note.slice(0, 4000)}…` : note, true);
    summary.push("", true);
  }
}

function policyErrorsSection(summary: SummaryLines, decision: Decision): void {
  if (!decision.policyErrors || decision.policyErrors.length === 0) return;
  summary.push("#### The policy file is invalid", true);
  summary.push("", true);
  summary.push("Every pull request fails closed until it is fixed:", true);
  summary.push("", true);
  for (const e of decision.policyErrors) summary.push(`- ${escapeMarkdown(e)}`);
  summary.push("");
}

function approvalsSection(summary: SummaryLines, decision: Decision): void {
  const reqs = decision.approval.requirements;
  if (reqs.length === 0) {
    if (!decision.policyErrors) {
      summary.push("No file needs a code owner's approval under this policy.");
      summary.push("");
    }
    return;
  }
  summary.push("#### Approvals", true);
  summary.push("", true);
  summary.push("| Sensitive path | Rule | Owners | Approved by | Status |", true);
  summary.push("|---|---|---|---|---|", true);
  for (const r of reqs) {
    const approved = r.approvedBy.length > 0 ? r.approvedBy.map((a) => escapeMarkdown(`@${a}`)).join(", ") : "—";
    const rest = `${ruleCell(r)} | ${ownersCell(r)} | ${approved} | ${statusCell(r)} |`;
    if (r.paths.length === 0) summary.push(`| _whole pull request_ | ${rest}`);
    for (const p of r.paths) summary.push(`| ${code(p)} | ${rest}`);
  }
  summary.push("");
}

function findingsSection(summary: SummaryLines, decision: Decision): void {
  if (decision.findings.length === 0) return;
  summary.push("#### Findings");
  summary.push("");
  summary.push("| Level | Rule | Paths | Why |");
  summary.push("|---|---|---|---|");
  for (const f of decision.findings) {
    summary.push(`| ${LEVEL_ICON[f.level]} ${f.level} | ${escapeMarkdown(f.rule)} | ${findingPaths(f)} | ${untrusted(f.message)} |`);
  }
  summary.push("");
}

function ignoredReviewsSection(summary: SummaryLines, decision: Decision): void {
  if (decision.ignoredReviews.length === 0) return;
  summary.push("#### Reviews that do not count");
  summary.push("");
  for (const r of decision.ignoredReviews) summary.push(`- ${untrusted(r.reason)}`);
  summary.push("");
}

function codeownersSection(summary: SummaryLines, decision: Decision): void {
  const co = decision.codeowners;
  if (!co.tooLarge && co.errors.length === 0) return;
  const path = co.path ?? "CODEOWNERS";
  summary.push("#### CODEOWNERS");
  summary.push("");
  if (co.tooLarge) summary.push(`- ${escapeMarkdown(path)} is 3 MB or larger; GitHub and Agent Gate ignore it.`);
  for (const e of co.errors.slice(0, 50)) summary.push(`- ${escapeMarkdown(`${path}:${e.line}: ${e.message}`)} (line skipped, as GitHub skips it)`);
  if (co.errors.length > 50) summary.push(`- and ${co.errors.length - 50} more invalid lines`);
  summary.push("");
}

/** Plain text for the CLI. */
export function renderDecisionText(decision: Decision): string {
  const s = sanitizeText;
  const lines: string[] = [];
  lines.push(`Agent Gate: ${s(decision.title)}`);
  lines.push(`  risk:       ${decision.risk} (label ${s(decision.labels.join(", "))})`);
  lines.push(`  conclusion: ${decision.conclusion}`);
  lines.push(`  policy:     ${s(decision.policy.source)}${decision.policy.ref ? ` at ${s(decision.policy.ref.slice(0, 12))}` : ""}`);
  lines.push(`  scope:      ${s(decision.scope.reason)}`);
  if (decision.policyErrors) {
    lines.push("", "Policy errors:");
    for (const e of decision.policyErrors) lines.push(`  ${s(e)}`);
  }
  lines.push("");
  if (decision.findings.length === 0) {
    lines.push("Findings: none");
  } else {
    lines.push("Findings:");
    for (const f of decision.findings) {
      lines.push(`  [${f.level}] ${s(f.rule)}: ${s(f.message)}`);
      for (const p of f.paths.slice(0, 20)) lines.push(`      ${s(p)}`);
      if (f.paths.length > 20) lines.push(`      … and ${f.paths.length - 20} more`);
    }
  }
  lines.push("");
  const reqs = decision.approval.requirements;
  if (reqs.length === 0) {
    lines.push("Approvals: no file needs a code owner's approval");
  } else {
    lines.push("Approvals:");
    for (const r of reqs) {
      const state = r.met ? "met" : !r.satisfiable ? "unsatisfiable" : r.blockedBy.length > 0 ? "blocked" : "waiting";
      const who =
        r.source === "unowned"
          ? "no owner"
          : `${r.count} approval${r.count === 1 ? "" : "s"} from ${s(r.owners.join(", "))}${r.source === "fallback" ? " (fallback)" : r.codeownersLine !== undefined ? ` (CODEOWNERS line ${r.codeownersLine})` : ""}`;
      const rule = r.name === undefined ? `rules ${s(r.rules.join(", "))}` : `${r.disapproval ? "disapproval" : "approval rule"} ${s(r.name)}${r.alternative ? ` (alternative ${r.alternative.index} of ${r.alternative.of})` : ""}`;
      lines.push(`  [${state}] ${r.level}: ${who}; ${rule}`);
      if (!r.satisfiable && r.reason) lines.push(`      ${s(r.reason)}`);
      if (r.approvedBy.length > 0) lines.push(`      approved by ${s(r.approvedBy.map((a) => `@${a}`).join(", "))}`);
      if (r.blockedBy.length > 0) lines.push(`      changes requested by ${s(r.blockedBy.map((a) => `@${a}`).join(", "))}`);
      if (r.satisfiable && !r.met && r.waitingOn.length > 0) lines.push(`      waiting on ${s(r.waitingOn.join(", "))}`);
      for (const p of r.paths.slice(0, 20)) lines.push(`      ${s(p)}`);
      if (r.paths.length > 20) lines.push(`      … and ${r.paths.length - 20} more`);
    }
  }
  for (const r of decision.ignoredReviews) lines.push(`  not counted: ${s(r.reason)}`);
  if (decision.codeowners.tooLarge) lines.push("", `${s(decision.codeowners.path ?? "CODEOWNERS")} is 3 MB or larger and was ignored.`);
  for (const e of decision.codeowners.errors) lines.push(`${s(decision.codeowners.path ?? "CODEOWNERS")}:${e.line}: ${s(e.message)} (skipped)`);
  return lines.join("\n") + "\n";
}
