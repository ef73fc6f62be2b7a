/**
 * How long GitHub asked us to wait, from a failed request: `Retry-After` (secondary rate limits, some 5xx), or
 * `x-ratelimit-reset` when the primary limit is used up (`x-ratelimit-remaining: 0`). Null when GitHub did not
 * say, or the error is not GitHub's (then the job queue's own backoff applies).
 */
interface WithResponse {
  status?: unknown;
  response?: { headers?: Record<string, unknown> };
  cause?: unknown;
}

function headersOf(error: unknown): { status: number | null; headers: Record<string, unknown> } | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const e = current as WithResponse;
    if (e.response?.headers) return { status: typeof e.status === "number" ? e.status : null, headers: e.response.headers };
    current = e.cause;
  }
  return null;
}

/** Seconds to wait before trying again, at most `cap` (default one hour). */
export function retryAfterSeconds(error: unknown, now: number = Date.now(), cap = 3600): number | null {
  const found = headersOf(error);
  if (!found) return null;
  const { headers } = found;
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(cap, Math.ceil(retryAfter));
  if (String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset)) return Math.min(cap, Math.max(1, Math.ceil(reset - now / 1000)));
  }
  return null;
}
