/**
 * Server-rendered SVG charts (no client-side library, no script, no inline style: colours are presentation
 * attributes, which the CSP allows). Pure: data in, markup out.
 */
import type { ChartData } from "../../store/compliance.js";
import { RISK_LEVELS } from "../../store/compliance.js";
import { html, join, type Html } from "./html.js";

export const RISK_COLOURS: Record<string, string> = { low: "#1a7f37", medium: "#9a6700", high: "#bc4c00", critical: "#cf222e" };

const WIDTH = 560;
const HEIGHT = 220;
const PAD = { left: 36, right: 8, top: 10, bottom: 40 };

/** A round axis maximum at or above `max` (1, 2, 5, 10, 20, 50, …). */
export function niceMax(max: number): number {
  if (max <= 1) return 1;
  const pow = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * pow >= max) return step * pow;
  return 10 * pow;
}

interface Bar {
  label: string;
  segments: Array<{ key: string; value: number; colour: string }>;
}

function barChart(title: string, bars: Bar[], legend: Array<{ key: string; colour: string }>): Html {
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.segments.reduce((s, x) => s + x.value, 0))));
  const slot = bars.length > 0 ? innerW / bars.length : innerW;
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const rects: Html[] = [];
  bars.forEach((bar, i) => {
    let acc = 0;
    const x = PAD.left + i * slot + (slot - barW) / 2;
    for (const seg of bar.segments) {
      if (seg.value <= 0) continue;
      const top = y(acc + seg.value);
      rects.push(
        html`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(acc) - top).toFixed(1)}" fill="${seg.colour}"><title>${bar.label}: ${seg.value} ${seg.key}</title></rect>`,
      );
      acc += seg.value;
    }
    const every = Math.ceil(bars.length / 8);
    if (i % every === 0) {
      rects.push(html`<text x="${(x + barW / 2).toFixed(1)}" y="${HEIGHT - PAD.bottom + 14}" font-size="10" text-anchor="middle" fill="#59636e">${bar.label}</text>`);
    }
  });
  const ticks = [0, max / 2, max].map(
    (v) =>
      html`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#d1d9e0"/><text x="${PAD.left - 4}" y="${(y(v) + 3).toFixed(1)}" font-size="10" text-anchor="end" fill="#59636e">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`,
  );
  const legendItems = legend.map(
    (l, i) =>
      html`<rect x="${PAD.left + i * 90}" y="${HEIGHT - 14}" width="10" height="10" fill="${l.colour}"/><text x="${PAD.left + i * 90 + 14}" y="${HEIGHT - 5}" font-size="11" fill="#1f2328">${l.key}</text>`,
  );
  const empty = bars.length === 0 ? html`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#59636e" font-size="12">no data</text>` : "";
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${title}"><title>${title}</title>${join(ticks)}${join(rects)}${join(legendItems)}${empty}</svg>`;
}

const weekLabel = (d: Date) => d.toISOString().slice(5, 10);

/** Agent PRs opened per week (Monday, UTC), stacked by risk level; weeks without PRs are drawn empty. */
export function perWeekChart(perWeek: ChartData["perWeek"]): Html {
  const byWeek = new Map<number, Map<string, number>>();
  for (const row of perWeek) {
    const key = row.week.getTime();
    const risks = byWeek.get(key) ?? new Map<string, number>();
    risks.set(row.risk, (risks.get(row.risk) ?? 0) + row.count);
    byWeek.set(key, risks);
  }
  const keys = [...byWeek.keys()].sort((a, b) => a - b);
  const bars: Bar[] = [];
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (first !== undefined && last !== undefined) {
    // At most a year of weeks, counted back from the newest.
    const start = Math.max(first, last - 52 * 7 * 86_400_000);
    for (let t = start; t <= last; t += 7 * 86_400_000) {
      const risks = byWeek.get(t) ?? new Map<string, number>();
      bars.push({ label: weekLabel(new Date(t)), segments: RISK_LEVELS.map((r) => ({ key: r, value: risks.get(r) ?? 0, colour: RISK_COLOURS[r] ?? "#888" })) });
    }
  }
  return barChart("Agent PRs per week by risk", bars, RISK_LEVELS.map((r) => ({ key: r, colour: RISK_COLOURS[r] ?? "#888" })));
}

export const APPROVAL_BUCKETS: ReadonlyArray<{ label: string; upTo: number }> = [
  { label: "< 1 h", upTo: 3600 },
  { label: "1–4 h", upTo: 4 * 3600 },
  { label: "4–24 h", upTo: 24 * 3600 },
  { label: "1–3 d", upTo: 3 * 86400 },
  { label: "3–7 d", upTo: 7 * 86400 },
  { label: "> 7 d", upTo: Number.POSITIVE_INFINITY },
];

export function approvalBuckets(seconds: readonly number[]): number[] {
  const counts = APPROVAL_BUCKETS.map(() => 0);
  for (const s of seconds) {
    const i = APPROVAL_BUCKETS.findIndex((b) => s < b.upTo);
    const at = i < 0 ? counts.length - 1 : i;
    counts[at] = (counts[at] ?? 0) + 1;
  }
  return counts;
}

/** How long approved agent PRs took from opened to approved. */
export function approvalTimeChart(seconds: readonly number[]): Html {
  const counts = approvalBuckets(seconds);
  const bars: Bar[] = seconds.length === 0 ? [] : APPROVAL_BUCKETS.map((b, i) => ({ label: b.label, segments: [{ key: "approved PRs", value: counts[i] ?? 0, colour: "#0969da" }] }));
  return barChart("Time from opened to approved", bars, [{ key: "approved PRs", colour: "#0969da" }]);
}
