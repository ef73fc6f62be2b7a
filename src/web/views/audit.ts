/** The audit log page: the chain's status, the entries the reader may see, and the exports of what is shown. */
import type { AuditEntry } from "../../store/audit.js";
import { html, join, when, type Html } from "./html.js";
import { layout, type Viewer } from "./layout.js";
import { checkRunUrl, pullUrl, trailPath, type GitHubLinks } from "./links.js";
import { exportLinks } from "./list.js";

export interface ChainView {
  ok: boolean;
  /** Entries verified (from the first, in order). */
  count: number;
  headHash: string | null;
  verifiedAt: Date;
  /** The first entry that does not verify; `visible` is false when it belongs to a repository the reader cannot read. */
  brokenAt?: { id: number; reason: string; visible: boolean } | undefined;
}

export function chainStatus(chain: ChainView): Html {
  if (chain.ok) {
    return html`<div class="status status-ok" id="chain-status"><strong>Chain intact:</strong> verified up to entry ${chain.count} · head hash <code>${chain.headHash ?? "—"}</code> · last verified ${when(chain.verifiedAt)}</div>`;
  }
  const broken = chain.brokenAt;
  const where = broken
    ? html`at entry <strong>${broken.id}</strong> (${broken.reason})${broken.visible ? html` — <a href="#entry-${broken.id}">show it</a>` : " — an entry of a repository you cannot read"}`
    : "";
  return html`<div class="status status-broken" id="chain-status" role="alert"><strong>Chain BROKEN</strong> ${where}. ${chain.count} entr${chain.count === 1 ? "y" : "ies"} before it verified · last verified ${when(chain.verifiedAt)}</div>`;
}

function payloadCheckRun(entry: AuditEntry): number | null {
  try {
    const payload = JSON.parse(entry.payload) as { checkRunId?: unknown };
    return typeof payload.checkRunId === "number" ? payload.checkRunId : null;
  } catch {
    return null;
  }
}

function entryRow(e: AuditEntry, chain: ChainView, links: GitHubLinks): Html {
  const broken = chain.brokenAt !== undefined && e.id === chain.brokenAt.id;
  const unverified = chain.brokenAt !== undefined && e.id > chain.brokenAt.id;
  const checkRun = payloadCheckRun(e);
  const github =
    e.repository && e.pullRequest !== null
      ? html`<a href="${pullUrl(links, e.repository, e.pullRequest)}">PR</a>${checkRun && e.repository ? html` · <a href="${checkRunUrl(links, e.repository, checkRun)}">check</a>` : ""}`
      : "";
  return html`<tr id="entry-${e.id}" data-entry="${e.id}"${broken ? html` class="broken"` : ""}>
<td>${e.id}${broken ? html` <span class="refused">broken</span>` : unverified ? html` <span class="muted">unverified</span>` : ""}</td>
<td>${when(e.createdAt)}</td><td><code>${e.kind}</code></td>
<td>${e.repository && e.pullRequest !== null ? html`<a href="${trailPath(e.repository, e.pullRequest)}">${e.repository}#${e.pullRequest}</a>` : (e.repository ?? "")}</td>
<td class="mono" title="${e.hash}">${e.hash.slice(0, 16)}…</td><td class="mono" title="${e.prevHash}">${e.prevHash.slice(0, 16)}…</td><td>${github}</td>
</tr>`;
}

export function auditEntriesTable(entries: AuditEntry[], chain: ChainView, links: GitHubLinks): Html {
  if (entries.length === 0) return html`<p class="muted">No audit entries.</p>`;
  return html`<table class="audit-entries"><thead><tr><th>Seq</th><th>Time</th><th>Kind</th><th>Pull request</th><th>Hash</th><th>Previous hash</th><th>GitHub</th></tr></thead><tbody>${join(
    entries.map((e) => entryRow(e, chain, links)),
  )}</tbody></table>`;
}

export interface AuditPageInput {
  viewer: Viewer;
  chain: ChainView;
  entries: AuditEntry[];
  /** The query string of the filters (for the exports and paging). */
  query: string;
  olderHref: string | null;
  errors: string[];
  repositories: string[];
  filters: { repository?: string | undefined; kind?: string | undefined; from?: string | undefined; to?: string | undefined };
  kinds: readonly string[];
  links: GitHubLinks;
}

export function auditPage(input: AuditPageInput): Html {
  const f = input.filters;
  const option = (value: string, current: string | undefined) => html`<option value="${value}"${value === current ? html` selected` : ""}>${value}</option>`;
  const errors = input.errors.length ? html`<div class="status status-broken" role="alert">${join(input.errors.map((e) => html`<div>${e}</div>`))}</div>` : "";
  const body = html`<h1>Audit log</h1>
${chainStatus(input.chain)}
${errors}
<form class="filters" method="get" action="/audit/log">
<label>Repository<select name="repository"><option value="">any</option>${join(input.repositories.map((r) => option(r, f.repository)))}</select></label>
<label>Kind<select name="kind"><option value="">any</option>${join(input.kinds.map((k) => option(k, f.kind)))}</select></label>
<label>From<input type="date" name="from" value="${f.from ?? ""}"></label>
<label>to<input type="date" name="to" value="${f.to ?? ""}"></label>
<button type="submit">Filter</button> <a href="/audit/log">Clear</a>
</form>
${exportLinks(input.query, "these filters")}
${auditEntriesTable(input.entries, input.chain, input.links)}
${input.olderHref ? html`<div class="pager"><a rel="next" href="${input.olderHref}">older →</a></div>` : ""}`;
  return layout({ title: "Audit log", viewer: input.viewer, section: "audit", body });
}
