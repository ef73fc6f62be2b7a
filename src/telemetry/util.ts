/** Small, defensive helpers for reading untrusted JSON. Nothing here trusts the shape of its input. */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Own property only: `get(obj, "constructor")` on a parsed object is undefined, never Object's. */
export function get(obj: unknown, key: string): unknown {
  return isObject(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  // OTLP JSON encodes 64-bit integers as strings.
  if (typeof v === "string" && /^-?\d{1,20}(?:\.\d+)?$/.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function int(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * JSON.stringify with a depth limit and an output budget: hostile arguments (deeply nested, huge, cyclic-free but
 * enormous) come out as a bounded string instead of a stack overflow or a multi-megabyte copy.
 */
/**
 * The text of message content: a string as it is, else the `text` of up to 100 blocks, one a line; blocks after
 * `maxChars` characters were gathered are left out.
 */
export function blocksText(content: unknown, maxChars = Infinity): string {
  if (typeof content === "string") return content;
  const parts: string[] = [];
  let size = 0;
  for (const block of arr(content).slice(0, 100)) {
    const t = str(get(block, "text"));
    if (t !== undefined && size < maxChars) {
      parts.push(t);
      size += t.length;
    }
  }
  return parts.join("\n");
}

export function safeStringify(value: unknown, maxChars: number, maxDepth = 12): string {
  const out: string[] = [];
  let size = 0;
  let full = false;
  const push = (s: string) => {
    if (full) return;
    if (size + s.length > maxChars) {
      out.push(s.slice(0, Math.max(0, maxChars - size)));
      size = maxChars;
      full = true;
      return;
    }
    out.push(s);
    size += s.length;
  };
  const walk = (v: unknown, depth: number): void => {
    if (full) return;
    if (v === null || typeof v === "boolean" || typeof v === "number") {
      push(typeof v === "number" && !Number.isFinite(v) ? "null" : String(v));
    } else if (typeof v === "string") {
      push(JSON.stringify(v.length > maxChars ? v.slice(0, maxChars) : v));
    } else if (Array.isArray(v)) {
      if (depth >= maxDepth) return push("[…]");
      push("[");
      for (let i = 0; i < v.length && !full; i++) {
        if (i > 0) push(",");
        walk(v[i], depth + 1);
      }
      push("]");
    } else if (isObject(v)) {
      if (depth >= maxDepth) return push("{…}");
      push("{");
      let first = true;
      for (const k of Object.keys(v)) {
        if (full) break;
        if (!first) push(",");
        first = false;
        push(JSON.stringify(k.length > 200 ? k.slice(0, 200) : k));
        push(":");
        walk(v[k], depth + 1);
      }
      push("}");
    } else {
      push("null");
    }
  };
  walk(value, 0);
  const s = out.join("");
  return full ? `${s}…` : s;
}

/** Parses one JSON value; returns an error message instead of throwing (deep nesting overflows are caught too). */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: msg.length > 200 ? `${msg.slice(0, 200)}…` : msg };
  }
}

/** Splits text into lines without building an array of them. */
export function* iterateLines(text: string): Generator<string> {
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) {
      if (start < text.length) yield stripCr(text.slice(start));
      return;
    }
    yield stripCr(text.slice(start, nl));
    start = nl + 1;
  }
}

function stripCr(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}

/** Millisecond ISO time from OTLP nanoseconds (string or number), or undefined. */
export function nanosToIso(v: unknown): string | undefined {
  let ms: number | undefined;
  if (typeof v === "string" && /^\d{1,25}$/.test(v)) ms = Number(BigInt(v) / 1_000_000n);
  else if (typeof v === "number" && Number.isFinite(v) && v > 0) ms = Math.floor(v / 1e6);
  if (ms === undefined || ms <= 0) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An ISO-ish timestamp we can sort on, or undefined. */
export function isoTime(v: unknown): string | undefined {
  if (typeof v !== "string" || v.length > 64) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * Makes an agent-reported path comparable with the PR's repository-relative paths: strips the working
 * directory (when known), a GitHub Actions workspace prefix, `./` and backslashes.
 */
export function normalizePath(p: string, cwd?: string | null): string {
  let s = p.replace(/\\/g, "/").trim();
  if (cwd) {
    const c = trimTrailingSlashes(cwd.replace(/\\/g, "/"));
    if (c && s.startsWith(`${c}/`)) s = s.slice(c.length + 1);
  }
  s = s.replace(/^\/home\/runner\/work\/[^/]+\/[^/]+\//, "").replace(/^\/github\/workspace\//, "");
  while (s.startsWith("./")) s = s.slice(2);
  return s.replace(/\/{2,}/g, "/");
}

/**
 * Drops trailing slashes in one pass. `/\/+$/` is quadratic on a string with many slashes not at its end (the
 * engine retries the run from every slash), and an agent's `cwd` is attacker-chosen.
 */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * Splits streamed text into lines. A line longer than `maxChars` is dropped while it streams in (never held) and
 * handed on as null, so one endless line costs no memory.
 */
export class LineSplitter {
  private carry = "";
  private skipping = false;

  constructor(
    private readonly maxChars: number,
    private readonly onLine: (line: string | null) => void,
  ) {}

  write(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf("\n", start); nl !== -1; nl = chunk.indexOf("\n", start)) {
      this.append(chunk.slice(start, nl));
      this.emit();
      start = nl + 1;
    }
    this.append(chunk.slice(start));
  }

  end(): void {
    if (this.carry !== "" || this.skipping) this.emit();
  }

  private append(s: string): void {
    if (this.skipping) return;
    if (this.carry.length + s.length > this.maxChars) {
      this.skipping = true;
      this.carry = "";
      return;
    }
    this.carry += s;
  }

  private emit(): void {
    const line = this.skipping ? null : stripCr(this.carry);
    this.carry = "";
    this.skipping = false;
    this.onLine(line);
  }
}
