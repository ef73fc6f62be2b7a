/**
 * Writing `.env`, the file `npm start` reads its credentials from (Node's `util.parseEnv` reads it back). The
 * setup page stores the new App's private key and secrets there, so the file is created readable by its owner
 * only (0600) and existing entries are kept.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseEnv } from "node:util";

/** A value as parseEnv reads it back: bare when plain, double-quoted with `\n` for a multi-line key. */
function formatValue(value: string): string {
  if (/^[\w.,:/@+=-]*$/.test(value)) return value;
  if (value.includes("\n")) {
    if (value.includes('"')) throw new Error("a multi-line .env value cannot contain a double quote");
    return `"${value.replace(/\r?\n/g, "\\n")}"`;
  }
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw new Error("a .env value cannot contain both quote characters");
}

/** Merges `values` into the .env file at `path` (later values win) and leaves it 0600. */
export function updateDotEnv(path: string, values: Record<string, string>): void {
  const current = existsSync(path) ? parseEnv(readFileSync(path, "utf8")) : {};
  const merged: Record<string, string | undefined> = { ...current, ...values };
  const text = Object.entries(merged)
    .map(([key, value]) => `${key}=${formatValue(value ?? "")}`)
    .join("\n");
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
