/**
 * The list's filters live in the URL (so a page can be linked in a ticket): parsed here from the query string,
 * and written back for links (paging, exports). Bad values are reported, never silently widened to "all".
 */
import { DECISIONS, RISK_LEVELS, type DecisionState } from "../store/compliance.js";

export interface ListFilters {
  repository?: string | undefined;
  risk?: string | undefined;
  decision?: DecisionState | undefined;
  agent?: string | undefined;
  /** YYYY-MM-DD, inclusive. */
  from?: string | undefined;
  /** YYYY-MM-DD, inclusive. */
  to?: string | undefined;
  page: number;
}

export interface ParsedFilters {
  filters: ListFilters;
  errors: string[];
}

/** GitHub's `owner/name`: an owner of letters, digits and hyphens; a name that is not `.` or `..`. */
export const REPO = /^[A-Za-z0-9][A-Za-z0-9-]*\/(?!\.\.?$)[A-Za-z0-9_.-]+$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function validDay(value: string): boolean {
  return DAY.test(value) && !Number.isNaN(new Date(`${value}T00:00:00Z`).getTime());
}

export function parseListFilters(query: URLSearchParams): ParsedFilters {
  const errors: string[] = [];
  const filters: ListFilters = { page: 1 };
  const get = (name: string) => query.get(name)?.trim() || undefined;
  const repository = get("repository");
  if (repository !== undefined) {
    if (REPO.test(repository)) filters.repository = repository;
    else errors.push(`repository must look like OWNER/NAME, got "${repository}"`);
  }
  const risk = get("risk");
  if (risk !== undefined) {
    if ((RISK_LEVELS as readonly string[]).includes(risk)) filters.risk = risk;
    else errors.push(`risk must be one of ${RISK_LEVELS.join(", ")}`);
  }
  const decision = get("decision");
  if (decision !== undefined) {
    if ((DECISIONS as readonly string[]).includes(decision)) filters.decision = decision as DecisionState;
    else errors.push(`decision must be one of ${DECISIONS.join(", ")}`);
  }
  const agent = get("agent");
  if (agent !== undefined) filters.agent = agent.slice(0, 100);
  for (const name of ["from", "to"] as const) {
    const value = get(name);
    if (value === undefined) continue;
    if (validDay(value)) filters[name] = value;
    else errors.push(`${name} must be a date like 2026-01-31`);
  }
  const page = get("page");
  if (page !== undefined) {
    const n = Number(page);
    if (Number.isInteger(n) && n >= 1 && n <= 100_000) filters.page = n;
    else errors.push("page must be a positive whole number");
  }
  return { filters, errors };
}

/** The query string of `filters` (without `page` unless asked), in a fixed order. */
export function filterQuery(filters: ListFilters, overrides: Partial<ListFilters> = {}): string {
  const merged = { ...filters, ...overrides };
  const params = new URLSearchParams();
  for (const name of ["repository", "risk", "decision", "agent", "from", "to"] as const) {
    const value = merged[name];
    if (value) params.set(name, value);
  }
  if (merged.page > 1) params.set("page", String(merged.page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The day range as instants: from 00:00 UTC of `from` to 00:00 UTC of the day after `to`. */
export function dayRange(filters: Pick<ListFilters, "from" | "to">): { from?: Date; to?: Date } {
  const out: { from?: Date; to?: Date } = {};
  if (filters.from) out.from = new Date(`${filters.from}T00:00:00Z`);
  if (filters.to) out.to = new Date(new Date(`${filters.to}T00:00:00Z`).getTime() + 86_400_000);
  return out;
}
