import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "csv-parse/sync";
import { auditHash, GENESIS_HASH, type AuditEntry } from "../../src/store/index.js";
import { stringify } from "csv-stringify/sync";
import { CSV_COLUMNS, exportAudit } from "../../src/cli/commands/audit.js";
import { copyCsv, openTestStore, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";

const TOTAL = 100_000;
const REPOS = ["octo/alpha", "octo/beta", "octo/gamma"] as const;
const BASE = Date.parse("2026-01-01T00:00:00.000Z");
const SINCE = new Date(BASE + 90_000 * 1000);

/** Loads a valid chain of TOTAL entries computed in JS, with one COPY (the trigger allows inserts). */
async function seedChain(ctx: TestStoreContext): Promise<void> {
  let prevHash = GENESIS_HASH;
  const rows: Array<Array<string | number>> = [];
  for (let i = 0; i < TOTAL; i++) {
    const entry = {
      createdAt: new Date(BASE + i * 1000),
      kind: "label_set",
      repository: REPOS[i % 3]!,
      pullRequest: (i % 50) + 1,
      deliveryId: null,
      payload: `{"i":${i},"label":"agent-risk:low"}`,
    };
    const hash = auditHash(prevHash, entry);
    rows.push([entry.createdAt.toISOString(), entry.kind, entry.repository, entry.pullRequest, entry.payload, prevHash, hash]);
    prevHash = hash;
  }
  await copyCsv(ctx.store, "audit_log (created_at, kind, repository, pull_request, payload, prev_hash, hash)", stringify(rows));
}

/** A slow consumer with a small buffer that counts what it actually consumed. */
function slowSink(onLine: () => void) {
  const chunks: string[] = [];
  let maxBuffered = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    decodeStrings: false,
    write(chunk: string, _enc, callback) {
      for (let i = chunk.indexOf("\n"); i !== -1; i = chunk.indexOf("\n", i + 1)) onLine();
      chunks.push(chunk);
      setImmediate(callback);
    },
  });
  const origWrite = sink.write.bind(sink);
  sink.write = ((chunk: string, ...rest: unknown[]) => {
    const ok = (origWrite as (c: string, ...r: unknown[]) => boolean)(chunk, ...rest);
    maxBuffered = Math.max(maxBuffered, sink.writableLength);
    return ok;
  }) as typeof sink.write;
  return { sink, text: () => chunks.join(""), maxBuffered: () => maxBuffered };
}

describe.each(TEST_DRIVERS)("audit export of 100,000 entries on %s", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
    await seedChain(ctx);
  }, 120_000);
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("the exporter streams: it never holds more than one batch ahead of the consumer", async () => {
    const batchSize = 1000;
    let fetched = 0;
    let consumed = 0;
    let maxAhead = 0;
    let queries = 0;
    let lastId = 0;
    let ordered = true;
    for await (const entry of ctx.store.audit.export({
      batchSize,
      onBatch: (n) => {
        queries++;
        fetched += n;
      },
    })) {
      maxAhead = Math.max(maxAhead, fetched - consumed);
      consumed++;
      if (entry.id <= lastId) ordered = false;
      lastId = entry.id;
    }
    expect(consumed).toBe(TOTAL);
    expect(ordered).toBe(true);
    expect(maxAhead).toBeLessThanOrEqual(batchSize);
    expect(queries).toBe(TOTAL / batchSize + 1); // the last query finds nothing more
  });

  it("verify walks all of it in batches", async () => {
    let maxBatch = 0;
    const result = await ctx.store.audit.verify({ batchSize: 2000, onBatch: (n) => (maxBatch = Math.max(maxBatch, n)) });
    expect(result).toMatchObject({ ok: true, count: TOTAL });
    expect(maxBatch).toBe(2000);
  });

  it("jsonl: every entry, verifiable offline, written with backpressure to a slow consumer", async () => {
    const batchSize = 500;
    let fetched = 0;
    let written = 0;
    let maxAhead = 0;
    const { sink, text, maxBuffered } = slowSink(() => {
      written++;
    });
    const count = await exportAudit(ctx.store, {
      format: "jsonl",
      out: sink,
      batchSize,
      onBatch: (n) => {
        fetched += n;
        maxAhead = Math.max(maxAhead, fetched - written);
      },
    });
    expect(count).toBe(TOTAL);
    // Constant memory: what was fetched but not yet consumed stays within about one batch plus one output chunk,
    // far below the 100,000 rows of the log.
    expect(maxAhead).toBeLessThan(3 * batchSize + 1000);
    expect(maxBuffered()).toBeLessThan(256 * 1024);
    const lines = text().trimEnd().split("\n");
    expect(lines).toHaveLength(TOTAL);
    // Recompute the chain from the export alone.
    let prev = GENESIS_HASH;
    for (const line of [lines[0]!, lines[1]!, lines[TOTAL - 1]!]) {
      const e = JSON.parse(line) as Omit<AuditEntry, "createdAt" | "payload"> & { createdAt: string; payload: unknown };
      const payload = JSON.stringify(e.payload);
      expect(auditHash(e.prevHash, { ...e, createdAt: new Date(e.createdAt), payload })).toBe(e.hash);
      if (e.id <= 2) {
        expect(e.prevHash).toBe(prev);
        prev = e.hash;
      }
    }
  });

  it("csv: header plus one row per entry, filtered by --repo", async () => {
    const { sink, text } = slowSink(() => {});
    const count = await exportAudit(ctx.store, { format: "csv", out: sink, repository: "octo/beta", batchSize: 2000 });
    expect(count).toBe(Math.floor(TOTAL / 3));
    const records = parse(text(), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(records[0]!)).toEqual([...CSV_COLUMNS]);
    expect(records).toHaveLength(count);
    expect(new Set(records.map((r) => r.repository))).toEqual(new Set(["octo/beta"]));
    expect(records[0]).toMatchObject({ id: "2", kind: "label_set", payload: '{"i":1,"label":"agent-risk:low"}', pull_request: "2" });
  });

  it("--since keeps only entries created at or after the date, combined with --repo", async () => {
    let n = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for await (const e of ctx.store.audit.export({ since: SINCE, batchSize: 5000 })) {
      earliest = Math.min(earliest, e.createdAt.getTime());
      n++;
    }
    expect(n).toBe(TOTAL - 90_000);
    expect(earliest).toBe(SINCE.getTime());
    let m = 0;
    const repos = new Set<string | null>();
    for await (const e of ctx.store.audit.export({ since: SINCE, repository: "octo/alpha" })) {
      repos.add(e.repository);
      m++;
    }
    expect(repos).toEqual(new Set(["octo/alpha"]));
    expect(m).toBe(Array.from({ length: TOTAL - 90_000 }, (_, k) => 90_000 + k).filter((i) => i % 3 === 0).length);
  });
});
