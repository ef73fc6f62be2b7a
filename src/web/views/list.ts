/** The "Agent PRs" page: filters, charts, and one row per agent PR the reader may read. */
import type { AgentPullRequestRow, ChartData } from "../../store/compliance.js";
import { DECISIONS, RISK_LEVELS } from "../../store/compliance.js";
import { filterQuery, type ListFilters } from "../filters.js";
import { approvalTimeChart, perWeekChart } from "./charts.js";
import { html, join, shortSha, when, type Html } from "./html.js";
import { layout, type Viewer } from "./layout.js";
import { commitUrl, pullUrl, trailPath, type GitHubLinks } from "./links.js";

export interface ListPageInput {
  viewer: Viewer;
  filters: ListFilters;
  errors: string[];
  repositories: string[];
  rows: AgentPullRequestRow[];
  total: number;
  pageSize: number;
  charts: ChartData;
  links: GitHubLinks;
}

function select(name: string, label: string, choices: readonly string[], current: string | undefined): Html {
  const options = choices.map((c) => html`<option value="${c}"${c === current ? html` selected` : ""}>${c}</option>`);
  return html`<label>${label}<select name="${name}"><option value="">any</option>${join(options)}</select></label>`;
}

function filterForm(input: ListPageInput): Html {
  const f = input.filters;
  return html`<form class="filters" method="get" action="/audit">
  ${select("repository", "Repository", input.repositories, f.repository)}
  ${select("risk", "Risk", RISK_LEVELS, f.risk)}
  ${select("decision", "Decision", DECISIONS, f.decision)}
  <label>Agent, model or author<input name="agent" value="${f.agent ?? ""}" size="14"></label>
  <label>Opened from<input type="date" name="from" value="${f.from ?? ""}"></label>
  <label>to<input type="date" name="to" value="${f.to ?? ""}"></label>
  <button type="submit">Filter</button> <a href="/audit">Clear</a>
</form>`;
}

function telemetryCell(row: AgentPullRequestRow): Html {
  const t = row.telemetry;
  if (!t) return html`<span class="muted">none</span>`;
  if (t.accepted) return html`<span class="counted">accepted</span>`;
  return html`<span class="refused">rejected</span><br><span class="muted">${t.reasons.join("; ")}</span>`;
}

function approvedCell(row: AgentPullRequestRow, links: GitHubLinks): Html {
  if (row.approvedBy.length === 0) return html`<span class="muted">—</span>`;
  return join(
    row.approvedBy.map((a) => html`${a.reviewer} at ${a.commitId ? html`<a href="${commitUrl(links, row.repository, a.commitId)}"><code>${shortSha(a.commitId)}</code></a>` : "?"}`),
    "<br>",
  );
}

function rowHtml(row: AgentPullRequestRow, links: GitHubLinks): Html {
  const agent = row.telemetry?.agent ?? null;
  const model = row.telemetry?.model ?? null;
  return html`<tr data-repo="${row.repository}" data-pr="${row.pullRequest}">
  <td>${row.repository}</td>
  <td><a href="${trailPath(row.repository, row.pullRequest)}">#${row.pullRequest}</a> <a class="muted" href="${pullUrl(links, row.repository, row.pullRequest)}" title="on GitHub">↗</a></td>
  <td>${row.title ?? html`<span class="muted">(title not recorded)</span>`}${row.author ? html`<br><span class="muted">by ${row.author}</span>` : ""}</td>
  <td>${agent ?? html`<span class="muted">—</span>`}${model ? html`<br><span class="muted">${model}</span>` : ""}</td>
  <td><span class="risk risk-${row.risk}">${row.risk}</span></td>
  <td><span class="decision decision-${row.decision}">${row.decision}</span></td>
  <td>${approvedCell(row, links)}</td>
  <td>${telemetryCell(row)}</td>
  <td>${when(row.openedAt)}</td>
  <td>${when(row.decidedAt)}</td>
</tr>`;
}

function pager(input: ListPageInput): Html {
  const pages = Math.max(1, Math.ceil(input.total / input.pageSize));
  const page = input.filters.page;
  const prev = page > 1 ? html`<a rel="prev" href="/audit${filterQuery(input.filters, { page: page - 1 })}">← newer</a>` : "";
  const next = page < pages ? html`<a rel="next" href="/audit${filterQuery(input.filters, { page: page + 1 })}">older →</a>` : "";
  return html`<div class="pager"><span>${input.total} agent PR${input.total === 1 ? "" : "s"} · page ${page} of ${pages}</span>${prev}${next}</div>`;
}

/** Links to the audit entries behind what is on screen, in the formats of `agent-gate audit export`. */
export function exportLinks(query: string, what = "these filters"): Html {
  return html`<p class="exports">Export the audit entries of ${what}: <a href="/audit/export.jsonl${query}">JSONL</a><a href="/audit/export.csv${query}">CSV</a></p>`;
}

export function listPage(input: ListPageInput): Html {
  const errors = input.errors.length ? html`<div class="status status-broken" role="alert">${join(input.errors.map((e) => html`<div>${e}</div>`))}</div>` : "";
  const exportQuery = filterQuery({ page: 1, repository: input.filters.repository, from: input.filters.from, to: input.filters.to });
  const body = html`<h1>Agent PRs</h1>
${errors}
${filterForm(input)}
<div class="charts">
  <figure class="chart" id="chart-per-week"><h3>Agent PRs per week by risk</h3>${perWeekChart(input.charts.perWeek)}</figure>
  <figure class="chart" id="chart-approval-time"><h3>Time from opened to approved</h3>${approvalTimeChart(input.charts.approvalSeconds)}</figure>
</div>
${pager(input)}
<table id="prs">
<thead><tr><th>Repository</th><th>PR</th><th>Title</th><th>Agent / model</th><th>Risk</th><th>Decision</th><th>Approved by (commit)</th><th>Telemetry</th><th>Opened</th><th>Decided</th></tr></thead>
<tbody>${input.rows.length ? join(input.rows.map((r) => rowHtml(r, input.links))) : html`<tr><td colspan="10" class="muted">No agent PRs match.</td></tr>`}</tbody>
</table>
${exportLinks(exportQuery)}`;
  return layout({ title: "Agent PRs", viewer: input.viewer, section: "prs", body });
}
