/**
 * Reading a download (a workflow artifact's zip) without trusting its size: capped whatever Content-Length says,
 * cancelled past the cap. Used by the Octokit adapter only.
 */
import { ArtifactTooLargeError } from "./errors.js";

export function headerNumber(value: unknown): number | null {
  const n = typeof value === "string" ? Number(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export async function cancelBody(body: unknown): Promise<void> {
  if (body instanceof ReadableStream) await body.cancel().catch(() => undefined);
}

/** Reads a response body into memory, refusing (and cancelling) past `maxBytes`, whatever Content-Length claims. */
export async function readCapped(body: unknown, declared: number | null, maxBytes: number): Promise<Uint8Array> {
  if (declared !== null && declared > maxBytes) {
    await cancelBody(body);
    throw new ArtifactTooLargeError(maxBytes, declared);
  }
  if (body instanceof ArrayBuffer) return capBytes(new Uint8Array(body), maxBytes);
  if (body instanceof Uint8Array) return capBytes(body, maxBytes);
  if (typeof body === "string") return capBytes(new TextEncoder().encode(body), maxBytes);
  if (!(body instanceof ReadableStream)) return new Uint8Array(0);
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ArtifactTooLargeError(maxBytes, null);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function capBytes(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes.byteLength > maxBytes) throw new ArtifactTooLargeError(maxBytes, bytes.byteLength);
  return bytes;
}
