/** The pages a signed-in reader sees, and the exports. Every query gets the reader's readable repositories. */
import { PassThrough, Readable } from "node:stream";
import type { Hono } from "hono";
import { exportAudit, type ExportFormat } from "../services/audit-export.js";
import { AUDIT_KINDS } from "../store/index.js";
import { renderRationaleMarkdown, type NetworkStep, type Trace } from "../telemetry/index.js";
import type { PullRequestTrail } from "../store/compliance.js";
import type { WebContext, WebDeps, WebEnv } from "./context.js";
import { dayRange, parseListFilters } from "./filters.js";
import type { ChainView } from "./views/audit.js";
import { auditPage } from "./views/audit.js";
import { messagePage } from "./views/layout.js";
import { listPage } from "./views/list.js";
import { renderMarkdown } from "./views/markdown.js";
import { trailPage, type NetworkAttempt } from "./views/trail.js";

export const PAGE_SIZE = 50;
const AUDIT_PAGE_SIZE = 100;

const viewerOf = (c: WebContext) => ({ login: c.get("reader").session.login, kind: c.get("reader").session.kind });

async function chainView(deps: WebDeps, readable: readonly string[]): Promise<ChainView> {
  const { result, verifiedAt } = await deps.chain.status();
  if (result.ok) return { ok: true, count: result.count, headHash: result.headHash, verifiedAt };
  const repository = await deps.queries.auditEntryRepository(result.brokenAt.id);
  const visible = repository !== null && readable.some((r) => r.toLowerCase() === repository.toLowerCase());
  return { ok: false, count: result.count, headHash: null, verifiedAt, brokenAt: { ...result.brokenAt, visible } };
}

function notFound(c: WebContext): Response {
  // The same answer whether the PR does not exist or the reader may not read it: existence is not revealed.
  return c.html(messagePage("Not found", "There is no such page, or you cannot read that repository.", viewerOf(c)), 404);
}

/** The trace of the newest accepted telemetry run: the rationale and the network attempts come from it. */
function acceptedTrace(trail: PullRequestTrail): Trace | null {
  const accepted = [...trail.telemetry].reverse().find((t) => t.accepted && t.trace);
  return accepted ? (accepted.trace as Trace) : null;
}

function networkOf(trace: Trace | null): NetworkAttempt[] {
  if (!trace || !Array.isArray(trace.steps)) return [];
  return trace.steps
    .filter((s): s is NetworkStep => s.kind === "network")
    .map((n) => ({ host: String(n.host), port: Number(n.port), allowed: n.allowed === true, reason: String(n.reason ?? ""), method: n.method ?? null, bytes: Number(n.bytes ?? 0) }));
}

function exportFilters(query: URLSearchParams): { filter: { repository?: string; pullRequest?: number; kind?: string; since?: Date; until?: Date }; errors: string[] } {
  const { filters, errors } = parseListFilters(new URLSearchParams([...query].filter(([k]) => ["repository", "from", "to"].includes(k))));
  const range = dayRange(filters);
  const out: { repository?: string; pullRequest?: number; kind?: string; since?: Date; until?: Date } = {};
  if (filters.repository) out.repository = filters.repository;
  if (range.from) out.since = range.from;
  if (range.to) out.until = range.to;
  const pr = query.get("pr")?.trim();
  if (pr) {
    if (/^[1-9]\d{0,9}$/.test(pr)) out.pullRequest = Number(pr);
    else errors.push("pr must be a pull request number");
  }
  const kind = query.get("kind")?.trim();
  if (kind) {
    if ((AUDIT_KINDS as readonly string[]).includes(kind)) out.kind = kind;
    else errors.push(`kind must be one of ${AUDIT_KINDS.join(", ")}`);
  }
  return { filter: out, errors };
}

function streamExport(c: WebContext, deps: WebDeps, format: ExportFormat): Response {
  const { filter, errors } = exportFilters(new URL(c.req.url).searchParams);
  if (errors.length > 0) return c.text(errors.join("\n"), 400);
  const readable = c.get("reader").readable;
  const out = new PassThrough();
  const { repository, since, ...rest } = filter;
  exportAudit({ audit: deps.audit }, { format, out, repository: undefined, since, filter: { ...rest, repositories: repository ? readable.filter((r) => r.toLowerCase() === repository.toLowerCase()) : readable } })
    .then(() => out.end())
    .catch((error: unknown) => {
      deps.log.error({ err: error }, "compliance pages: audit export failed");
      out.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  const type = format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";
  return new Response(Readable.toWeb(out) as ReadableStream, {
    headers: { "content-type": type, "content-disposition": `attachment; filename="agent-gate-audit.${format}"`, "cache-control": "no-store" },
  });
}

export function registerPageRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  app.get("/audit", async (c) => {
    const { readable } = c.get("reader");
    const { filters, errors } = parseListFilters(new URL(c.req.url).searchParams);
    const query = { readable, repository: filters.repository, risk: filters.risk, decision: filters.decision, agent: filters.agent, ...dayRange(filters) };
    const [page, charts, repositories] = await Promise.all([
      deps.queries.agentPullRequests(query, { limit: PAGE_SIZE, offset: (filters.page - 1) * PAGE_SIZE }),
      deps.queries.charts(query),
      deps.queries.repositories(readable),
    ]);
    return c.html(listPage({ viewer: viewerOf(c), filters, errors, repositories, rows: page.rows, total: page.total, pageSize: PAGE_SIZE, charts, links: deps.config.links }));
  });

  app.get("/audit/pr/:owner/:name/:number", async (c) => {
    const number = Number(c.req.param("number"));
    if (!Number.isInteger(number) || number < 1) return notFound(c);
    const { readable } = c.get("reader");
    const trail = await deps.queries.trail(readable, `${c.req.param("owner") ?? ""}/${c.req.param("name") ?? ""}`, number);
    if (!trail) return notFound(c);
    const trace = acceptedTrace(trail);
    const rendered = trace ? renderRationaleMarkdown(trace) : null;
    // The check's summary and text, one after the other, as GitHub shows them on the check's page.
    const rationale = rendered ? renderMarkdown(`${rendered.summary}\n\n${rendered.text ?? ""}`) : null;
    return c.html(trailPage({ viewer: viewerOf(c), trail, rationale, network: networkOf(trace), chain: await chainView(deps, readable), links: deps.config.links }));
  });

  app.get("/audit/log", async (c) => {
    const { readable } = c.get("reader");
    const params = new URL(c.req.url).searchParams;
    const { filter, errors } = exportFilters(params);
    const before = Number(params.get("before"));
    const entries = await deps.queries.auditEntries({
      readable,
      repository: filter.repository,
      pullRequest: filter.pullRequest,
      kind: filter.kind,
      from: filter.since,
      to: filter.until,
      beforeId: Number.isInteger(before) && before > 0 ? before : undefined,
      limit: AUDIT_PAGE_SIZE,
    });
    const kept = new URLSearchParams([...params].filter(([k]) => ["repository", "from", "to", "kind", "pr"].includes(k) && k !== ""));
    const query = kept.toString() ? `?${kept.toString()}` : "";
    const last = entries[entries.length - 1];
    const olderHref = entries.length === AUDIT_PAGE_SIZE && last ? `/audit/log?${new URLSearchParams([...kept, ["before", String(last.id)]]).toString()}` : null;
    return c.html(
      auditPage({
        viewer: viewerOf(c),
        chain: await chainView(deps, readable),
        entries,
        query,
        olderHref,
        errors,
        repositories: await deps.queries.repositories(readable),
        filters: { repository: filter.repository, kind: filter.kind, from: params.get("from") ?? undefined, to: params.get("to") ?? undefined },
        kinds: AUDIT_KINDS,
        links: deps.config.links,
      }),
    );
  });

  app.get("/audit/export.jsonl", (c) => streamExport(c, deps, "jsonl"));
  app.get("/audit/export.csv", (c) => streamExport(c, deps, "csv"));
}
