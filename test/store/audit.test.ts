import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditHash, canonicalize, CanonicalizeError, GENESIS_HASH, inputsDigest, openStore, sha256Hex } from "../../src/store/index.js";
import postgres from "postgres";
import { LOCK_NAMESPACE } from "../../src/store/executor.js";
import { openTestStore, rawSql, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";

describe("canonicalize (RFC 8785)", () => {
  it("sorts keys by UTF-16 code units and drops whitespace", () => {
    expect(canonicalize({ b: 1, a: { d: [true, null, "x"], c: -0 }, "\u00e9": 1, Z: 2 })).toBe(
      '{"Z":2,"a":{"c":0,"d":[true,null,"x"]},"b":1,"é":1}',
    );
  });
  it("serialises numbers like ECMAScript and omits undefined members", () => {
    expect(canonicalize({ n: 1e21, f: 0.1, u: undefined, arr: [undefined] })).toBe('{"arr":[null],"f":0.1,"n":1e+21}');
  });
  it("refuses values JSON cannot represent", () => {
    expect(() => canonicalize({ x: Number.NaN })).toThrow(CanonicalizeError);
    expect(() => canonicalize({ x: 1n })).toThrow(CanonicalizeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalize(cyclic)).toThrow(/circular/);
  });
  it("gives the same digest for the same inputs in any key order", () => {
    expect(inputsDigest({ a: 1, b: [1, 2] })).toBe(inputsDigest({ b: [1, 2], a: 1 }));
    expect(inputsDigest({ a: 1 })).toBe(sha256Hex('{"a":1}'));
  });
});

describe.each(TEST_DRIVERS)("audit log on %s", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("chains entries: the first links to 64 zeros, each next to the previous hash, hashes recomputable", async () => {
    const { store } = ctx;
    const a = await store.audit.append({ kind: "evaluation_decided", repository: "octo/repo", pullRequest: 7, deliveryId: "d-1", payload: { risk: "high", z: 1, a: 2 } });
    const b = await store.audit.append({ kind: "label_set", repository: "octo/repo", pullRequest: 7, payload: { label: "agent-risk:high" } });
    expect(a.prevHash).toBe(GENESIS_HASH);
    expect(b.prevHash).toBe(a.hash);
    expect(a.payload).toBe('{"a":2,"risk":"high","z":1}');
    expect(auditHash(a.prevHash, a)).toBe(a.hash);
    // kind, repository, PR and time are part of the hashed material, not only the payload.
    expect(auditHash(a.prevHash, { ...a, kind: "label_set" })).not.toBe(a.hash);
    expect(auditHash(a.prevHash, { ...a, pullRequest: 8 })).not.toBe(a.hash);
    expect(auditHash(a.prevHash, { ...a, createdAt: new Date(a.createdAt.getTime() + 1) })).not.toBe(a.hash);
    expect(await store.audit.verify()).toEqual({ ok: true, count: 2, headHash: b.hash, headId: b.id });
  });

  it("refuses unknown kinds and non-JSON payloads without writing anything", async () => {
    const before = await ctx.store.audit.head();
    await expect(ctx.store.audit.append({ kind: "nope" as never, payload: {} })).rejects.toThrow(/unknown audit kind/);
    await expect(ctx.store.audit.append({ kind: "label_set", payload: { x: Number.POSITIVE_INFINITY } })).rejects.toThrow(CanonicalizeError);
    expect(await ctx.store.audit.head()).toEqual(before);
  });

  it("invariant 8 (append-only): the database refuses UPDATE, DELETE and TRUNCATE on audit_log", async () => {
    const { store } = ctx;
    await store.audit.append({ kind: "check_published", repository: "octo/repo", pullRequest: 7, payload: { conclusion: "success" } });
    await expect(rawSql(store, `update audit_log set payload = '{"conclusion":"failure"}'`)).rejects.toThrow();
    await expect(rawSql(store, "delete from audit_log")).rejects.toThrow();
    await expect(rawSql(store, "truncate audit_log")).rejects.toThrow();
    const result = await store.audit.verify();
    expect(result.ok).toBe(true);
    expect(result.count).toBe(3);
  });

  it("appends commit or roll back with the caller's transaction", async () => {
    const { store } = ctx;
    const before = await store.audit.head();
    await expect(
      store.transaction(async (tx) => {
        await tx.evaluations.record(evaluation("octo/repo", 99, "aaa"));
        await tx.audit.append({ kind: "evaluation_decided", repository: "octo/repo", pullRequest: 99, payload: { decision: "x" } });
        throw new Error("crash after the audit entry");
      }),
    ).rejects.toThrow(/crash/);
    expect(await store.audit.head()).toEqual(before);
    expect(await store.evaluations.latestFor("octo/repo", 99)).toBeNull();

    await store.transaction(async (tx) => {
      const e = await tx.evaluations.record(evaluation("octo/repo", 99, "aaa"));
      await tx.audit.append({ kind: "evaluation_decided", repository: "octo/repo", pullRequest: 99, payload: { evaluationId: e.id } });
    });
    expect((await store.audit.head()).count).toBe(before.count + 1);
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: before.count + 1 });
  });

  it("using the top-level store inside a transaction is refused (it would deadlock PGlite)", async () => {
    await expect(ctx.store.transaction(async () => ctx.store.audit.head())).rejects.toThrow(/use the tx argument/);
  });

  // Off in production (its AsyncLocalStorage costs every promise a hook on Node 20 and 22). On Postgres the
  // misuse then runs on another pooled connection instead of being refused; on PGlite it would wait forever.
  it.skipIf(driver !== "postgres")("with guardTransactions: false the store is not refused inside a transaction", async () => {
    const unguarded = await openStore({ ...ctx.options, guardTransactions: false });
    try {
      const head = await unguarded.transaction(async () => unguarded.audit.head());
      expect(head.count).toBe((await ctx.store.audit.head()).count);
    } finally {
      await unguarded.close();
    }
  });

  it("invariant 8 (tamper-evident): a row altered with the trigger disabled is caught by verify, naming the entry", async () => {
    const { store } = ctx;
    const target = await store.audit.append({ kind: "approval_counted", repository: "octo/repo", pullRequest: 7, payload: { reviewer: "alice" } });
    await store.audit.append({ kind: "approval_refused", repository: "octo/repo", pullRequest: 7, payload: { reviewer: "mallory" } });
    await rawSql(store, "alter table audit_log disable trigger audit_log_no_update_delete");
    await rawSql(store, `update audit_log set payload = '{"reviewer":"mallory"}' where id = ${target.id}`);
    await rawSql(store, "alter table audit_log enable trigger audit_log_no_update_delete");
    const result = await store.audit.verify({ batchSize: 2 });
    expect(result).toEqual({ ok: false, count: expect.any(Number), brokenAt: { id: target.id, reason: "hash mismatch" } });
  });
});

describe.each(TEST_DRIVERS)("audit log on %s: deletions and rewritten hashes", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("invariant 8 (tamper-evident): a deleted entry, and a rewritten entry with a recomputed hash, break the link at the next entry", async () => {
    const { store } = ctx;
    const entries = [];
    for (let i = 0; i < 6; i++) entries.push(await store.audit.append({ kind: "label_set", repository: "o/r", pullRequest: i + 1, payload: { i } }));
    await rawSql(store, "alter table audit_log disable trigger audit_log_no_update_delete");
    await rawSql(store, `delete from audit_log where id = ${entries[1]!.id}`);
    expect(await store.audit.verify()).toEqual({ ok: false, count: 1, brokenAt: { id: entries[2]!.id, reason: "prev_hash does not link" } });

    // An attacker who rewrites entry 4 AND recomputes its hash still breaks entry 5's link.
    const forged = { ...entries[3]!, payload: '{"i":333}' };
    const forgedHash = auditHash(forged.prevHash, forged);
    await rawSql(store, `insert into audit_log (id, created_at, kind, repository, pull_request, payload, prev_hash, hash) values (${entries[1]!.id}, now(), 'label_set', null, null, '{}', '${entries[0]!.hash}', '${entries[1]!.hash}')`);
    await rawSql(store, `update audit_log set payload = '${forged.payload}', hash = '${forgedHash}' where id = ${entries[3]!.id}`);
    await rawSql(store, "alter table audit_log enable trigger audit_log_no_update_delete");
    const result = await store.audit.verify();
    expect(result.ok).toBe(false);
    // The re-inserted entry 2 has the right links but not the right content.
    expect(result).toMatchObject({ brokenAt: { id: entries[1]!.id, reason: "hash mismatch" } });
  });
});

function evaluation(repository: string, pullRequest: number, headSha: string) {
  return {
    repository,
    pullRequest,
    headSha,
    baseRef: "main",
    baseSha: "b".repeat(40),
    policySource: ".github/agent-gate.yml",
    policyCommit: "c".repeat(40),
    inputsDigest: inputsDigest({ headSha }),
    risk: "high",
    findings: [{ rule: "payments", level: "high", paths: ["services/payments/a.ts"], message: "payments" }],
    requirements: [],
    decision: "action_required",
  };
}

describe.each(TEST_DRIVERS)("audit log on %s: witnesses from outside the database", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("invariant 8 (truncation is detectable): deleting the newest entries passes a plain verify but not one with a witness", async () => {
    const { store } = ctx;
    const entries = [];
    for (let i = 0; i < 5; i++) entries.push(await store.audit.append({ kind: "evaluation_decided", repository: "o/r", pullRequest: i + 1, payload: { i } }));
    const witness = { id: entries[3]!.id, hash: entries[3]!.hash };
    expect(await store.audit.verify({ witnesses: [witness] })).toMatchObject({ ok: true, count: 5, headId: entries[4]!.id });

    await rawSql(store, "alter table audit_log disable trigger audit_log_no_update_delete");
    await rawSql(store, `delete from audit_log where id >= ${entries[3]!.id}`);
    await rawSql(store, "alter table audit_log enable trigger audit_log_no_update_delete");
    // The attack: what is left is a perfectly linked chain.
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: 3 });
    expect(await store.audit.verify({ witnesses: [witness] })).toEqual({ ok: false, count: 3, brokenAt: { id: witness.id, reason: "witness entry missing" } });
  });

  it("invariant 8 (truncation is detectable): a chain rewritten after the witness, with recomputed hashes, differs from it", async () => {
    const { store } = ctx;
    const before = await store.audit.head();
    const original = await store.audit.append({ kind: "approval_counted", repository: "o/r", pullRequest: 9, payload: { reviewer: "alice" } });
    // Rewritten in place with a consistent hash: prev_hash links and the hash recomputes, only the witness knows.
    const forged = { ...original, payload: '{"reviewer":"mallory"}' };
    const forgedHash = auditHash(forged.prevHash, forged);
    await rawSql(store, "alter table audit_log disable trigger audit_log_no_update_delete");
    await rawSql(store, `update audit_log set payload = '${forged.payload}', hash = '${forgedHash}' where id = ${original.id}`);
    await rawSql(store, "alter table audit_log enable trigger audit_log_no_update_delete");
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: before.count + 1 });
    expect(await store.audit.verify({ witnesses: [{ id: original.id, hash: original.hash }] })).toEqual({
      ok: false,
      count: before.count,
      brokenAt: { id: original.id, reason: "witness hash differs" },
    });
  });
});

describe.each(TEST_DRIVERS)("audit log on %s: several entries in one append", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("appendAll chains a batch in order, after the entries before it, and verifies like single appends", async () => {
    const { store } = ctx;
    const before = await store.audit.append({ kind: "label_set", repository: "octo/repo", pullRequest: 9, payload: { n: 0 } });
    const batch = await store.audit.appendAll(
      Array.from({ length: 25 }, (_, n) => ({ kind: n % 2 ? ("approval_counted" as const) : ("approval_refused" as const), repository: "octo/repo", pullRequest: 9, deliveryId: `d-${n}`, payload: { n } })),
    );
    expect(batch.map((e) => JSON.parse(e.payload) as unknown)).toEqual(Array.from({ length: 25 }, (_, n) => ({ n })));
    expect(batch[0]!.prevHash).toBe(before.hash);
    batch.forEach((e, i) => {
      expect(e.id).toBe(before.id + 1 + i);
      if (i > 0) expect(e.prevHash).toBe(batch[i - 1]!.hash);
      expect(auditHash(e.prevHash, e)).toBe(e.hash);
    });
    const after = await store.audit.append({ kind: "label_set", repository: "octo/repo", pullRequest: 9, payload: { n: 26 } });
    expect(after.prevHash).toBe(batch.at(-1)!.hash);
    expect(await store.audit.verify()).toMatchObject({ ok: true, headHash: after.hash });
    expect(await store.audit.appendAll([])).toEqual([]);
  });

  it("appendAll with one bad entry writes none of the batch", async () => {
    const before = await ctx.store.audit.head();
    const good = { kind: "label_set" as const, payload: { ok: true } };
    await expect(ctx.store.audit.appendAll([good, { kind: "nope" as never, payload: {} }])).rejects.toThrow(/unknown audit kind/);
    await expect(ctx.store.audit.appendAll([good, { kind: "label_set", payload: { x: Number.NaN } }])).rejects.toThrow(CanonicalizeError);
    expect(await ctx.store.audit.head()).toEqual(before);
  });
});

// Its own database: the row appended from outside is not chained by the App, so a chain checked later would break there.
describe("audit log on postgres: the chain lock and the head read sent together", () => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore("postgres");
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  // appendEntries sends the chain lock and the head read together (one round trip). The read must still run after
  // the lock is granted: here another session holds the lock and appends while ours waits on it.
  it("pipelining the chain lock with the head read still chains after an append made while it waited", async () => {
    const { store } = ctx;
    const before = await store.audit.append({ kind: "label_set", repository: "octo/repo", pullRequest: 9, payload: { label: "before" } });
    const other = postgres(ctx.options.databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      const reserved = await other.reserve();
      await reserved.unsafe("begin");
      await reserved.unsafe(`select pg_advisory_xact_lock(${LOCK_NAMESPACE.auditChain}, 0)`);
      const waiting = store.audit.append({ kind: "label_set", repository: "octo/repo", pullRequest: 9, payload: { label: "waited" } });
      // Give the waiting append time to send both statements and block on the lock.
      await new Promise((r) => setTimeout(r, 300));
      const sneaked = "f".repeat(64);
      await reserved.unsafe(
        "insert into audit_log (created_at, kind, repository, pull_request, payload, prev_hash, hash) values (now(), 'label_set', 'octo/repo', 9, '{}', $1, $2)",
        [before.hash, sneaked],
      );
      await reserved.unsafe("commit");
      reserved.release();
      // Had the head been read before the lock, it would link to `before` again: the unique prev_hash would refuse it.
      expect((await waiting).prevHash).toBe(sneaked);
    } finally {
      await other.end({ timeout: 5 });
    }
  });
});
