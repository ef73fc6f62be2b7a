/**
 * Storage for conditional requests. A response GitHub answers `304 Not Modified` to does not count against the
 * installation's primary rate limit, so remembering the ETag and body of what rarely changes (policy,
 * CODEOWNERS, branch rules) makes repeat events cheaper. Keys are `installation id + URL`: one installation must
 * never be served another installation's cached body.
 *
 * The interface is async so a later phase can persist it (e.g. in Postgres) without touching the adapter.
 */

export interface CachedResponse {
  etag: string;
  /** The parsed response body as the adapter stored it. */
  data: unknown;
}

export interface ConditionalCache {
  get(key: string): Promise<CachedResponse | undefined> | CachedResponse | undefined;
  set(key: string, value: CachedResponse): Promise<void> | void;
}

/** In-memory least-recently-used cache; a Map keeps insertion order, so the first key is the oldest. */
export class LruConditionalCache implements ConditionalCache {
  readonly #max: number;
  readonly #entries = new Map<string, CachedResponse>();

  constructor(max = 2_000) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`cache size must be a positive integer, got ${max}`);
    this.#max = max;
  }

  get(key: string): CachedResponse | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: CachedResponse): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
