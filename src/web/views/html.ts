/**
 * The template engine of the pages: Hono's `html` tagged template, which escapes every interpolated string
 * (`& < > " '`) and passes through only what another template (or `raw`) produced. Agent text therefore can
 * never become markup unless a view wraps it in `raw` on purpose (only the Markdown renderer's sanitised output).
 */
import { html as honoHtml, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString;
export { raw };

/** `html` for synchronous templates (ours never await), typed as a plain escaped string. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const out = honoHtml(strings, ...values);
  if (out instanceof Promise) throw new TypeError("page templates must be synchronous");
  return out;
}

/** Joins rendered pieces (an empty list renders nothing). */
export function join(pieces: readonly Html[], separator = ""): Html {
  return raw(pieces.map(String).join(separator));
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "—";
}

/** ISO 8601 in UTC to the minute: the same for every reader, whatever their time zone. */
export function when(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 16).replace("T", " ")} UTC` : "—";
}

export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} d`;
}
