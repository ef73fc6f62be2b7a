/**
 * The storage room: the drizzle schema, the database factory (postgres.js with DATABASE_URL, embedded PGlite
 * otherwise; both run migrations/), typed repositories and the hash-chained audit log.
 *
 * How the App uses it, one webhook at a time, through `DatabaseGateStore` (src/services/database-gate-store.ts):
 *   const store = await openStore({ ...storeOptionsFromEnv(), migrate: true, log });   // StoreUnavailableError -> one line, exit
 *   store.withPullRequestSessionLock(repo, pr, async (lock) => {                         // per-PR advisory lock, no tx held
 *     reads go to the store as the evaluation needs them: deliveries.get (redelivery?), triggers.firstTriggeredBy,
 *     reviewRequests.listFor, and evaluations.isStale right before publishing (written at once: heads only move forward);
 *     ...the service loads, decides, publishes on GitHub...
 *     await store.transaction(async (tx) => {                                           // one short transaction at the end
 *       await lock.assertHeld();                                                       // still ours, or nothing commits
 *       deliveries.begin/finish, reviewRequests.record, triggers, evaluations.record (+ approvals), then audit.append
 *     });
 *   });
 *   on failure: a new transaction records the delivery as `failed` and the decisions GitHub did get.
 * Inside a transaction callback use only `tx` (the store throws StoreUsageError otherwise).
 */
export { openStore, migrate, storeOptionsFromEnv, defaultMigrationsFolder, pullRequestLockKey, MEMORY_DATA_DIR, DEFAULT_DATA_DIR, MIN_POOL_SIZE } from "./store.js";
export type { Store, StoreTx, StoreOptions, PingResult, HeldLock, SqlRunner } from "./store.js";
export { StoreUnavailableError, StoreUsageError, checkDatabaseUrl, describeDatabaseUrl } from "./errors.js";
export { AUDIT_KINDS, GENESIS_HASH, auditHash, auditMaterial } from "./audit.js";
export type { AuditKind, AuditAppend, AuditEntry, AuditExportFilter, AuditVerifyResult, AuditVerifyOptions, AuditWitness, AuditBreak, AuditRepository } from "./audit.js";
export { canonicalize, inputsDigest, sha256Hex, CanonicalizeError } from "./canonical.js";
export type * from "./repositories.js";
export type { Db } from "./executor.js";
