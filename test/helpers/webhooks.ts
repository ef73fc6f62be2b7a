/**
 * Signed webhook deliveries over HTTP, as GitHub sends them (X-GitHub-Event, X-GitHub-Delivery,
 * X-Hub-Signature-256 over the raw body), and small polling helpers for tests that wait on jobs.
 */
import { createHmac, randomUUID } from "node:crypto";

export const WEBHOOK_SECRET = "durable-test-secret";

export interface SentDelivery {
  id: string;
  status: number;
  ms: number;
}

export async function sendWebhook(url: string, event: { name: string; payload: unknown }, options: { id?: string; secret?: string } = {}): Promise<SentDelivery> {
  const id = options.id ?? randomUUID();
  const body = JSON.stringify(event.payload);
  const signature = `sha256=${createHmac("sha256", options.secret ?? WEBHOOK_SECRET).update(body).digest("hex")}`;
  const t0 = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": event.name, "x-github-delivery": id, "x-hub-signature-256": signature, "user-agent": "GitHub-Hookshot/test" },
    body,
  });
  await response.arrayBuffer();
  return { id, status: response.status, ms: performance.now() - t0 };
}

/** Polls `check` every `intervalMs` until it returns true, or throws after `timeoutMs` with `what` in the message. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, intervalMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
