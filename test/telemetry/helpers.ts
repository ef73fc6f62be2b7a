import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "telemetry");
export const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

export function nativeBundle() {
  return {
    manifest: fixture("native-bundle/manifest.json"),
    events: fixture("native-bundle/events.jsonl"),
    network: fixture("native-bundle/network.jsonl"),
  };
}

export function manifestObject(overrides: Record<string, unknown> = {}) {
  return { ...(JSON.parse(fixture("native-bundle/manifest.json")) as Record<string, unknown>), ...overrides };
}

export const utf8Size = (s: string) => Buffer.byteLength(s, "utf8");

/** Every fenced code block that opens also closes (CommonMark: a closing fence is at least as long as the opening). */
export function fencesBalanced(md: string): boolean {
  let open: number | null = null;
  for (const line of md.split("\n")) {
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m) continue;
    const len = m[1]!.length;
    if (open === null) open = len;
    else if (len >= open && m[2]!.trim() === "") open = null;
  }
  return open === null;
}

/** Splits a GFM table row on unescaped pipes. */
function cells(row: string): number {
  let n = 0;
  for (let i = 0; i < row.length; i++) if (row[i] === "|" && row[i - 1] !== "\\") n++;
  return n;
}

/** Every table has a header, a delimiter row, and rows with as many cells as the header. */
export function tablesWellFormed(md: string): boolean {
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("|")) continue;
    const header = cells(lines[i]!);
    const delim = lines[i + 1] ?? "";
    if (!/^\|(\s*:?-+:?\s*\|)+$/.test(delim) || cells(delim) !== header) return false;
    let j = i + 2;
    while (j < lines.length && lines[j]!.startsWith("|")) {
      if (cells(lines[j]!) !== header) return false;
      j++;
    }
    i = j;
  }
  return true;
}

/** Removes fenced code blocks and code spans (where GitHub renders nothing: no HTML, links or mentions). */
export function stripCode(md: string): string {
  const kept: string[] = [];
  let open: number | null = null;
  for (const line of md.split("\n")) {
    const m = /^ {0,3}(`{3,})(.*)$/.exec(line);
    if (open === null && m) {
      open = m[1]!.length;
      continue;
    }
    if (open !== null) {
      if (m && m[1]!.length >= open && m[2]!.trim() === "") open = null;
      continue;
    }
    kept.push(line);
  }
  let text = kept.join("\n");
  let out = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] !== "`") {
      out += text[i];
      i++;
      continue;
    }
    let n = 0;
    while (text[i + n] === "`") n++;
    // find the closing run of exactly n backticks
    let j = i + n;
    let close = -1;
    while (j < text.length) {
      if (text[j] === "`") {
        let k = 0;
        while (text[j + k] === "`") k++;
        if (k === n) {
          close = j;
          break;
        }
        j += k;
      } else j++;
    }
    if (close === -1) {
      out += text.slice(i, i + n);
      i += n;
    } else {
      out += "CODE";
      i = close + n;
    }
  }
  text = out;
  return text;
}
