/** The App's memory of branch enforcement answers (which checks a branch requires, and from whom). */
import type { Enforcement, EnforcementCache } from "./types.js";

/** Drops the oldest entries of a Map used as a bounded memory. */
function bound<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}

/** Branch enforcement answers kept for `ttlMs` (default 10 minutes): rules change rarely, events come often. */
export class TtlEnforcementCache implements EnforcementCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { value: Enforcement; at: number }>();

  constructor(ttlMs = 10 * 60_000) {
    this.#ttlMs = ttlMs;
  }

  get(key: string, now: number): Enforcement | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now - entry.at > this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: Enforcement, now: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: now });
    bound(this.#entries, 5_000);
  }
}
