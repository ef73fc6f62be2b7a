/** One PR's trail: its evaluations in order, approvals counted or refused, the rationale, network, audit entries. */
import type { AuditEntry } from "../../store/audit.js";
import type { PullRequestTrail, TrailEvaluation, TrailTelemetry } from "../../store/compliance.js";
import { auditEntriesTable, chainStatus, type ChainView } from "./audit.js";
import { html, join, shortSha, when, type Html } from "./html.js";
import { layout, type Viewer } from "./layout.js";
import { checkRunUrl, commitUrl, pullUrl, trailPath, workflowRunUrl, type GitHubLinks } from "./links.js";
import { exportLinks } from "./list.js";

export interface TrailPageInput {
  viewer: Viewer;
  trail: PullRequestTrail;
  /** The rationale of the latest accepted telemetry, rendered; null when there is none. */
  rationale: Html | null;
  network: NetworkAttempt[];
  chain: ChainView;
  links: GitHubLinks;
}

export interface NetworkAttempt {
  host: string;
  port: number;
  allowed: boolean;
  reason: string;
  method: string | null;
  bytes: number;
}

const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));

function findingsTable(findings: unknown): Html {
  const rows = list(findings).map(record);
  if (rows.length === 0) return html`<p class="muted">No findings.</p>`;
  return html`<table class="findings"><thead><tr><th>Rule</th><th>Level</th><th>Paths</th><th>Why</th></tr></thead><tbody>${join(
    rows.map(
      (f) =>
        html`<tr><td><code>${text(f.rule)}</code></td><td><span class="risk risk-${text(f.level)}">${text(f.level)}</span></td><td>${join(
          list(f.paths)
            .slice(0, 20)
            .map((p) => html`<code>${text(p)}</code>`),
          "<br>",
        )}</td><td>${text(f.message)}</td></tr>`,
    ),
  )}</tbody></table>`;
}

function requirementsTable(requirements: unknown): Html {
  const rows = list(requirements).map(record);
  if (rows.length === 0) return html`<p class="muted">No approval required.</p>`;
  return html`<table class="requirements"><thead><tr><th>Paths</th><th>Owners</th><th>Needed</th><th>Approved by</th><th>Status</th></tr></thead><tbody>${join(
    rows.map(
      (r) =>
        html`<tr><td>${join(
          list(r.paths)
            .slice(0, 10)
            .map((p) => html`<code>${text(p)}</code>`),
          "<br>",
        )}</td><td>${list(r.owners).map(text).join(", ")}</td><td>${text(r.count)}</td><td>${list(r.approvedBy).map(text).join(", ") || "—"}</td><td>${
          r.met === true ? html`<span class="counted">met</span>` : html`<span class="refused">waiting${list(r.waitingOn).length ? ` on ${list(r.waitingOn).map(text).join(", ")}` : ""}</span>`
        }${r.satisfiable === false ? html`<br><span class="refused">cannot be met: ${text(r.reason)}</span>` : ""}</td></tr>`,
    ),
  )}</tbody></table>`;
}

function approvalsList(e: TrailEvaluation, repository: string, links: GitHubLinks): Html {
  if (e.approvals.length === 0) return html`<p class="muted">No approving reviews considered.</p>`;
  return html`<ul class="approvals">${join(
    e.approvals.map(
      (a) =>
        html`<li data-reviewer="${a.reviewer}"><strong>${a.reviewer}</strong> ${a.counted ? html`<span class="counted">counted</span>` : html`<span class="refused">refused</span>`} — ${a.reason ?? ""} ${
          a.commitId ? html`(at <a href="${commitUrl(links, repository, a.commitId)}"><code>${shortSha(a.commitId)}</code></a>)` : ""
        }</li>`,
    ),
  )}</ul>`;
}

function evaluationBlock(e: TrailEvaluation, repository: string, links: GitHubLinks): Html {
  const check = e.checkRunId ? html` · <a href="${checkRunUrl(links, repository, e.checkRunId)}">check run</a>` : "";
  return html`<section class="evaluation" id="evaluation-${e.id}">
<h3>Evaluation ${e.id} · ${when(e.createdAt)} · <span class="risk risk-${e.risk}">${e.risk}</span> · ${e.conclusion ?? "not published"}${check}</h3>
<p>${e.decision}</p>${
    e.override ? html`<p class="override"><span class="decision decision-overridden">overridden</span> by <strong>@${e.override.by}</strong> (break-glass): ${e.override.reason}</p>` : ""
  }
<p class="mono">head <a href="${commitUrl(links, repository, e.headSha)}">${shortSha(e.headSha)}</a> · base ${e.baseRef} @ <a href="${commitUrl(links, repository, e.baseSha)}">${shortSha(e.baseSha)}</a> · policy ${e.policySource}${
    e.policyCommit ? html` @ ${shortSha(e.policyCommit)}` : ""
  }${e.codeownersPath ? html` · CODEOWNERS ${e.codeownersPath}` : ""}</p>
<h4>Findings</h4>${findingsTable(e.findings)}
<h4>Requirements</h4>${requirementsTable(e.requirements)}
<h4>Approvals</h4>${approvalsList(e, repository, links)}
</section>`;
}

function telemetryBlock(t: TrailTelemetry, repository: string, links: GitHubLinks): Html {
  return html`<li>${when(t.createdAt)} · <a href="${workflowRunUrl(links, repository, t.workflowRunId)}">workflow run ${t.workflowRunId}</a> (${t.workflowPath ?? "?"}) · ${t.format} · ${
    t.accepted ? html`<span class="counted">accepted</span>` : html`<span class="refused">rejected: ${t.reasons.join("; ")}</span>`
  } · head <code>${shortSha(t.headSha)}</code>${t.agent ? html` · ${t.agent}` : ""}${t.model ? html` (${t.model})` : ""}${
    t.discrepancies.length ? html`<br><span class="refused">${t.discrepancies.length} discrepanc${t.discrepancies.length === 1 ? "y" : "ies"}:</span> ${t.discrepancies.map((d) => `${d.kind} ${d.path ?? ""}`).join("; ")}` : ""
  }</li>`;
}

function networkTable(attempts: NetworkAttempt[]): Html {
  if (attempts.length === 0) return html`<p class="muted">No network attempts recorded.</p>`;
  const sorted = [...attempts].sort((a, b) => Number(a.allowed) - Number(b.allowed));
  return html`<table id="network"><thead><tr><th></th><th>Host</th><th>Port</th><th>Method</th><th>Reason</th><th>Bytes</th></tr></thead><tbody>${join(
    sorted.map(
      (n) =>
        html`<tr><td>${n.allowed ? html`<span class="allowed">allowed</span>` : html`<span class="blocked">blocked</span>`}</td><td><code>${n.host}</code></td><td>${n.port}</td><td>${n.method ?? ""}</td><td>${n.reason}</td><td>${n.bytes}</td></tr>`,
    ),
  )}</tbody></table>`;
}

/** Merged or closed (pull_request.closed), as the list names it; nothing while the PR is open. */
function stateLine(t: PullRequestTrail): Html | "" {
  if (t.mergedAt) {
    return html`<p class="state" id="state"><span class="decision decision-merged">merged</span>${t.mergedBy ? html` by <strong>${t.mergedBy}</strong>` : ""} · ${when(t.mergedAt)}</p>`;
  }
  if (t.closedAt) return html`<p class="state" id="state"><span class="decision decision-closed">closed</span> without merging · ${when(t.closedAt)}</p>`;
  return "";
}

export function trailPage(input: TrailPageInput): Html {
  const t = input.trail;
  const name = `${t.repository}#${t.pullRequest}`;
  const entries: AuditEntry[] = t.audit;
  const body = html`<p><a href="/audit">← Agent PRs</a></p>
<h1>${name}: ${t.title ?? "(title not recorded)"}</h1>
<p>${t.author ? html`Opened by <strong>${t.author}</strong> · ` : ""}${when(t.openedAt)} · <a href="${pullUrl(input.links, t.repository, t.pullRequest)}">on GitHub</a> · <a href="${trailPath(t.repository, t.pullRequest)}">permalink</a></p>
${stateLine(t)}
<h2>Evaluations (${t.evaluations.length})</h2>
${join(t.evaluations.map((e) => evaluationBlock(e, t.repository, input.links)))}
<h2>Telemetry</h2>
${t.telemetry.length ? html`<ul class="telemetry">${join(t.telemetry.map((x) => telemetryBlock(x, t.repository, input.links)))}</ul>` : html`<p class="muted">No telemetry received.</p>`}
<h2>Rationale</h2>
${input.rationale ? html`<div class="rationale" id="rationale">${input.rationale}</div>` : html`<p class="muted">No accepted telemetry, so no rationale to show (a rejected trace is never rendered).</p>`}
<h2>Network attempts</h2>
${networkTable(input.network)}
<h2>Audit entries (${entries.length})</h2>
${chainStatus(input.chain)}
${auditEntriesTable(entries, input.chain, input.links)}
${exportLinks(`?repository=${encodeURIComponent(t.repository)}&pr=${t.pullRequest}`, "this PR")}`;
  return layout({ title: name, viewer: input.viewer, section: "prs", body });
}
