/**
 * The append-only, hash-chained audit log (invariant 8).
 *
 * Entry hash (hex) = sha256(prev_hash || material), where prev_hash is the previous entry's hash (64 zeros for
 * the first entry) and material is the canonical JSON (RFC 8785) of
 * `{ createdAt, deliveryId, kind, payload, pullRequest, repository }` with `createdAt` as an ISO-8601 UTC
 * string with milliseconds and `payload` the entry's canonical payload. Everything an auditor reads is hashed,
 * so none of it can be altered without `verify` noticing.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, lte, max, sql, type SQL } from "drizzle-orm";
import { canonicalize, sha256Hex } from "./canonical.js";
import { LOCK_NAMESPACE, queryRows, toDate, type Db, type Executor } from "./executor.js";
import { reusableStatement } from "./reusable-statement.js";
import { auditLog } from "./schema.js";

export const AUDIT_KINDS = [
  "evaluation_decided",
  "label_set",
  "check_published",
  "review_requested",
  "approval_counted",
  "approval_refused",
  "policy_invalid",
  "delivery_duplicate",
  "delivery_coalesced",
  "telemetry_accepted",
  "telemetry_rejected",
  "telemetry_discrepancy",
  "telemetry_published",
  "merge_group_checked",
  "override_applied",
  "override_refused",
  "pull_request_closed",
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export const GENESIS_HASH = "0".repeat(64);

export interface AuditAppend {
  kind: AuditKind;
  repository?: string | null | undefined;
  pullRequest?: number | null | undefined;
  deliveryId?: string | null | undefined;
  /** Any JSON value. Stored as its canonical JSON text. Never put a secret here. */
  payload: unknown;
}

export interface AuditEntry {
  id: number;
  createdAt: Date;
  kind: string;
  repository: string | null;
  pullRequest: number | null;
  deliveryId: string | null;
  /** Canonical JSON text of the payload, exactly as hashed. `JSON.parse` it to read it. */
  payload: string;
  prevHash: string;
  hash: string;
}

export interface AuditExportFilter {
  /** `owner/name`; matched exactly as the App recorded it. */
  repository?: string | undefined;
  /** Entries created at or after this instant. */
  since?: Date | undefined;
  /** Entries created before this instant. */
  until?: Date | undefined;
  /** Only entries of these repositories (case-insensitive; an empty list matches nothing): what a reader may read. */
  repositories?: readonly string[] | undefined;
  /** Only entries of this pull request. */
  pullRequest?: number | undefined;
  /** Only entries of this kind. */
  kind?: string | undefined;
  /** Rows fetched per query (default 1000). At most one batch is held in memory. */
  batchSize?: number | undefined;
  /** Called with the number of rows each query returned (for progress and for tests). */
  onBatch?: ((rows: number) => void) | undefined;
}

/**
 * An entry known from outside the database (a check run on GitHub, a checkpoint file): its id (the sequence
 * number) and hash. The chain must still contain exactly this entry, so deleting the newest entries, or
 * rewriting the chain from some point with recomputed hashes, is detected.
 */
export interface AuditWitness {
  id: number;
  hash: string;
}

export type AuditBreak = "hash mismatch" | "prev_hash does not link" | "witness entry missing" | "witness hash differs";

export type AuditVerifyResult =
  | { ok: true; count: number; headHash: string; headId: number | null }
  | { ok: false; count: number; brokenAt: { id: number; reason: AuditBreak } };

export interface AuditVerifyOptions {
  batchSize?: number | undefined;
  onBatch?: ((rows: number) => void) | undefined;
  /** Entries that must be in the chain, unchanged (`agent-gate audit verify --head SEQ:HASH`, `--checkpoint FILE`). */
  witnesses?: readonly AuditWitness[] | undefined;
}

export interface AuditRepository {
  /**
   * Appends one entry. Inside `store.transaction`/`withPullRequestLock` it commits or rolls back with the
   * caller's other writes; appends from all processes on one database are serialised (advisory lock), so the
   * chain cannot fork. The lock is held until the surrounding transaction ends: keep such transactions short.
   */
  append(entry: AuditAppend): Promise<AuditEntry>;
  /** Appends several entries in this order, as `append` each would, in three statements whatever their number. */
  appendAll(entries: readonly AuditAppend[]): Promise<AuditEntry[]>;
  /** Entries in id (= chain) order, fetched in keyset-paginated batches; constant memory. */
  export(filter?: AuditExportFilter): AsyncIterable<AuditEntry>;
  /** Walks the whole chain in batches and names the first broken entry. */
  verify(options?: AuditVerifyOptions): Promise<AuditVerifyResult>;
  /** Number of entries and the current head hash (GENESIS_HASH when empty). */
  head(): Promise<{ count: number; lastId: number | null; hash: string }>;
}

/** The material hashed after prev_hash. `payload` must already be canonical JSON text. */
export function auditMaterial(entry: Pick<AuditEntry, "createdAt" | "kind" | "repository" | "pullRequest" | "deliveryId" | "payload">): string {
  // Keys in RFC 8785 order; the payload is spliced in as already-canonical JSON.
  return (
    `{"createdAt":${JSON.stringify(entry.createdAt.toISOString())}` +
    `,"deliveryId":${canonicalize(entry.deliveryId)}` +
    `,"kind":${canonicalize(entry.kind)}` +
    `,"payload":${entry.payload}` +
    `,"pullRequest":${canonicalize(entry.pullRequest)}` +
    `,"repository":${canonicalize(entry.repository)}}`
  );
}

export function auditHash(prevHash: string, entry: Parameters<typeof auditMaterial>[0]): string {
  return sha256Hex(prevHash + auditMaterial(entry));
}

/** An audit_log row as an entry (the id and time normalised whatever the driver returned). */
export function normaliseRow(row: typeof auditLog.$inferSelect): AuditEntry {
  return {
    id: Number(row.id),
    createdAt: toDate(row.createdAt),
    kind: row.kind,
    repository: row.repository,
    pullRequest: row.pullRequest,
    deliveryId: row.deliveryId,
    payload: row.payload,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

const DEFAULT_BATCH = 1000;

function batchSizeOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_BATCH;
  if (!Number.isInteger(value) || value < 1 || value > 100_000) throw new RangeError("batchSize must be an integer in 1..100000");
  return value;
}

/** The export filter as SQL conditions (an empty `repositories` list matches nothing: the caller stops first). */
function filterConditions(filter: AuditExportFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.repository !== undefined) conditions.push(eq(auditLog.repository, filter.repository));
  if (filter.since !== undefined) conditions.push(gte(auditLog.createdAt, filter.since));
  if (filter.until !== undefined) conditions.push(lt(auditLog.createdAt, filter.until));
  if (filter.pullRequest !== undefined) conditions.push(eq(auditLog.pullRequest, filter.pullRequest));
  if (filter.kind !== undefined) conditions.push(eq(auditLog.kind, filter.kind));
  if (filter.repositories !== undefined) {
    conditions.push(inArray(sql`lower(${auditLog.repository})`, [...new Set(filter.repositories.map((r) => r.toLowerCase()))]));
  }
  return conditions;
}

/** An entry checked and canonicalised, ready to be chained (done before the lock: a bad payload holds up no one). */
function prepared(entry: AuditAppend): Omit<AuditEntry, "id" | "createdAt" | "prevHash" | "hash"> {
  if (!(AUDIT_KINDS as readonly string[]).includes(entry.kind)) throw new TypeError(`unknown audit kind: ${String(entry.kind)}`);
  return { kind: entry.kind, repository: entry.repository ?? null, pullRequest: entry.pullRequest ?? null, deliveryId: entry.deliveryId ?? null, payload: canonicalize(entry.payload ?? null) };
}

/** Batches up to this many entries are inserted by a statement built once per size; larger ones are built anew. */
const REUSED_BATCH_SIZES = 4;

type ChainedRow = Omit<AuditEntry, "id" | "payload"> & { payload: string };

/** Row `r`'s placeholders, named `r.column`. */
function rowPlaceholders(r: number) {
  const p = (column: keyof ChainedRow) => sql.placeholder(`${r}.${column}`);
  return { createdAt: p("createdAt"), kind: p("kind"), repository: p("repository"), pullRequest: p("pullRequest"), deliveryId: p("deliveryId"), payload: p("payload"), prevHash: p("prevHash"), hash: p("hash") };
}

/** `insertChained[n - 1]` inserts n entries (the append's last statement, one per decision). */
const insertChained = Array.from({ length: REUSED_BATCH_SIZES }, (_, i) =>
  reusableStatement<Record<string, unknown>, Array<typeof auditLog.$inferSelect>>(`audit.append.${i + 1}`, (db) =>
    db
      .insert(auditLog)
      .values(Array.from({ length: i + 1 }, (_, r) => rowPlaceholders(r)))
      .returning(),
  ),
);

async function insertChainedRows(db: Db, values: readonly ChainedRow[]): Promise<Array<typeof auditLog.$inferSelect>> {
  const reused = insertChained[values.length - 1];
  if (!reused) return db.insert(auditLog).values([...values]).returning();
  const placeholderValues: Record<string, unknown> = {};
  values.forEach((row, r) => {
    for (const [column, value] of Object.entries(row)) placeholderValues[`${r}.${column}`] = value;
  });
  return reused(db, placeholderValues);
}

/**
 * Appends entries in order, chained one to the next, in three statements whatever their number and two round
 * trips: the chain lock with the previous hash and the database clock, then one multi-row insert. Every round trip
 * here is made while holding the chain, so each one is paid by every appender queued behind it.
 */
async function appendEntries(exec: Executor, entries: readonly AuditAppend[]): Promise<AuditEntry[]> {
  const rows = entries.map(prepared);
  if (rows.length === 0) return [];
  return exec.inTx(async (db) => {
    // One chain, one writer at a time, across every process on this database. Read committed: the
    // SELECT takes a fresh snapshot when it starts, after the lock is granted, so it sees the previous append.
    // Both are sent at once (one round trip, not two): a transaction's statements run in the order sent. Were
    // the SELECT ever to run first, two appenders would chain to one hash, and the unique prev_hash refuses that.
    // drizzle's queries are lazy (sent on `then`): `then` is called here so that the lock is sent first.
    const lock = db.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(LOCK_NAMESPACE.auditChain))}, 0)`).then(() => undefined);
    // One clock for all App processes, at millisecond precision so it hashes exactly; one instant for the batch.
    const chainHead = queryRows<{ hash: string | null; now: unknown }>(
      db,
      sql`select (select ${auditLog.hash} from ${auditLog} order by ${auditLog.id} desc limit 1) as hash, date_trunc('milliseconds', clock_timestamp()) as now`,
    );
    const [, [head]] = await Promise.all([lock, chainHead]);
    const createdAt = toDate(head?.now);
    let prevHash = head?.hash ?? GENESIS_HASH;
    const values = rows.map((row) => {
      const hash = auditHash(prevHash, { ...row, createdAt });
      const value = { ...row, createdAt, prevHash, hash };
      prevHash = hash;
      return value;
    });
    // Ids follow the order of `values` (one insert, the sequence taken row by row), so the chain reads in id order.
    const inserted = await insertChainedRows(db, values);
    if (inserted.length !== values.length) throw new Error(`audit_log insert returned ${inserted.length} of ${values.length} rows`);
    const appended = inserted.map(normaliseRow).sort((a, b) => a.id - b.id);
    // Postgres numbers a multi-row insert in VALUES order; were it ever not so, the chain would not verify: refuse it.
    if (appended.some((e, i) => e.hash !== values[i]!.hash)) throw new Error("audit_log rows were numbered out of chain order");
    return appended;
  });
}

async function* exportEntries(exec: Executor, filter: AuditExportFilter = {}): AsyncGenerator<AuditEntry> {
  const batch = batchSizeOf(filter.batchSize);
  const db = exec.db();
  // A consistent prefix: entries appended while we export are left for the next export.
  const [top] = await db.select({ maxId: max(auditLog.id) }).from(auditLog);
  const maxId = top?.maxId == null ? 0 : Number(top.maxId);
  if (maxId === 0 || filter.repositories?.length === 0) return;
  let lastId = 0;
  for (;;) {
    const conditions = [gt(auditLog.id, lastId), lte(auditLog.id, maxId), ...filterConditions(filter)];
    const rows = await exec
      .db()
      .select()
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(asc(auditLog.id))
      .limit(batch);
    filter.onBatch?.(rows.length);
    for (const row of rows) yield normaliseRow(row);
    const last = rows[rows.length - 1];
    if (!last || rows.length < batch) return;
    lastId = Number(last.id);
  }
}

async function verifyChain(exec: Executor, options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const witnesses = new Map((options.witnesses ?? []).map((w) => [w.id, w.hash.toLowerCase()]));
  let expectedPrev = GENESIS_HASH;
  let count = 0;
  let headId: number | null = null;
  for await (const entry of exportEntries(exec, { batchSize: options.batchSize, onBatch: options.onBatch })) {
    if (entry.prevHash !== expectedPrev) return { ok: false, count, brokenAt: { id: entry.id, reason: "prev_hash does not link" } };
    if (auditHash(entry.prevHash, entry) !== entry.hash) return { ok: false, count, brokenAt: { id: entry.id, reason: "hash mismatch" } };
    const witnessed = witnesses.get(entry.id);
    if (witnessed !== undefined && witnessed !== entry.hash) return { ok: false, count, brokenAt: { id: entry.id, reason: "witness hash differs" } };
    witnesses.delete(entry.id);
    expectedPrev = entry.hash;
    headId = entry.id;
    count++;
  }
  // Ids only grow, so a witness the walk did not meet was deleted (truncation) or never existed here.
  const missing = [...witnesses.keys()].sort((a, b) => a - b)[0];
  if (missing !== undefined) return { ok: false, count, brokenAt: { id: missing, reason: "witness entry missing" } };
  return { ok: true, count, headHash: expectedPrev, headId };
}

async function chainHead(exec: Executor): Promise<{ count: number; lastId: number | null; hash: string }> {
  const db = exec.db();
  const [last] = await db.select({ id: auditLog.id, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
  const [counted] = await db.select({ n: sql<string>`count(*)` }).from(auditLog);
  return { count: Number(counted?.n ?? 0), lastId: last ? Number(last.id) : null, hash: last?.hash ?? GENESIS_HASH };
}


export function createAuditRepository(exec: Executor): AuditRepository {
  return {
    append: async (entry) => (await appendEntries(exec, [entry]))[0]!,
    appendAll: (entries) => appendEntries(exec, entries),
    export: (filter) => exportEntries(exec, filter),
    verify: (options) => verifyChain(exec, options),
    head: () => chainHead(exec),
  };
}
