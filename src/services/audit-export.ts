/**
 * The audit log's export formats, shared by `agent-gate audit export` and the compliance pages' downloads so both
 * give the same bytes for the same entries: JSON Lines (the payload spliced in as the canonical JSON that was
 * hashed) and CSV (one header row, then one row per entry).
 */
import type { Writable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import type { AuditEntry, AuditExportFilter, Store } from "../store/index.js";

export type ExportFormat = "jsonl" | "csv";

export interface ExportOptions {
  repository?: string | undefined;
  since?: Date | undefined;
  /** The rest of the store's filter (until, repositories a reader may read, one pull request). */
  filter?: Omit<AuditExportFilter, "repository" | "since" | "batchSize" | "onBatch"> | undefined;
  format: ExportFormat;
  out: Writable;
  /** Rows per database query (default 1000). */
  batchSize?: number | undefined;
  onBatch?: ((rows: number) => void) | undefined;
}

export const CSV_COLUMNS = ["id", "created_at", "kind", "repository", "pull_request", "delivery_id", "payload", "prev_hash", "hash"] as const;

/** One JSON Lines record. `payload` is spliced in as the canonical JSON that was hashed, byte for byte. */
export function entryToJsonLine(e: AuditEntry): string {
  return (
    `{"id":${e.id},"createdAt":${JSON.stringify(e.createdAt.toISOString())},"kind":${JSON.stringify(e.kind)}` +
    `,"repository":${JSON.stringify(e.repository)},"pullRequest":${JSON.stringify(e.pullRequest)}` +
    `,"deliveryId":${JSON.stringify(e.deliveryId)},"payload":${e.payload}` +
    `,"prevHash":${JSON.stringify(e.prevHash)},"hash":${JSON.stringify(e.hash)}}\n`
  );
}

function entryToCsvRow(e: AuditEntry): Array<string | number> {
  return [e.id, e.createdAt.toISOString(), e.kind, e.repository ?? "", e.pullRequest ?? "", e.deliveryId ?? "", e.payload, e.prevHash, e.hash];
}

/** Chunks written to the output are at most about this big, so a batch is not one huge string either. */
const CHUNK_CHARS = 64 * 1024;

/** Writes, waiting for 'drain' whenever the destination's buffer is full (backpressure). */
async function write(out: Writable, chunk: string): Promise<void> {
  if (out.destroyed || out.writableEnded) throw Object.assign(new Error("output closed"), { code: "EPIPE" });
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onDrain);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onDrain);
  });
}

/**
 * Streams the audit log to `out` in constant memory: one database batch at a time, written in chunks that
 * respect the destination's backpressure. Returns the number of entries written.
 */
export async function exportAudit(store: Pick<Store, "audit">, options: ExportOptions): Promise<number> {
  let count = 0;
  let pending = "";
  let pendingRows: Array<Array<string | number>> = [];
  if (options.format === "csv") await write(options.out, stringify([[...CSV_COLUMNS]]));
  const flush = async () => {
    if (pendingRows.length > 0) {
      pending += stringify(pendingRows);
      pendingRows = [];
    }
    if (pending) {
      const chunk = pending;
      pending = "";
      await write(options.out, chunk);
    }
  };
  for await (const entry of store.audit.export({ ...options.filter, repository: options.repository, since: options.since, batchSize: options.batchSize, onBatch: options.onBatch })) {
    if (options.format === "csv") {
      pendingRows.push(entryToCsvRow(entry));
      if (pendingRows.length >= 200) {
        pending += stringify(pendingRows);
        pendingRows = [];
      }
    } else {
      pending += entryToJsonLine(entry);
    }
    count++;
    if (pending.length >= CHUNK_CHARS) await flush();
  }
  await flush();
  return count;
}

