/**
 * The storage room. The App's usual flow for one webhook:
 *   const store = await openStore({ ...storeOptionsFromEnv(), migrate: true, log });  // StoreUnavailableError -> one line, exit
 *   if (await store.deliveries.begin({ guid, installationId, event, action }) === "duplicate") { audit delivery_duplicate; return; }
 *   await store.evaluations.observeHead(repo, pr, headSha, new Date(pull_request.updated_at));
 *   await store.withPullRequestLock(repo, pr, async (tx) => {
 *     ...snapshot + engine...
 *     if (await tx.evaluations.isStale(repo, pr, headSha)) return;            // a newer head was seen: publish nothing
 *     ...publish on GitHub...; await tx.evaluations.record(...); await tx.audit.append(...);
 *   });
 *   await store.deliveries.finish(guid, installationId, "processed");        // or "failed" + error (then answer 5xx)
 * Inside a transaction callback use only `tx` (the store throws StoreUsageError otherwise).
 * The App itself goes through `DatabaseGateStore` (src/services/database-gate-store.ts), the services' `GateStore` seam over this flow.
 */
export { openStore, migrate, storeOptionsFromEnv, defaultMigrationsFolder, pullRequestLockKey, MEMORY_DATA_DIR, DEFAULT_DATA_DIR, MIN_POOL_SIZE } from "./store.js";
export type { Store, StoreTx, StoreOptions, PingResult, HeldLock, SqlRunner } from "./store.js";
export { StoreUnavailableError, StoreUsageError, checkDatabaseUrl, describeDatabaseUrl } from "./errors.js";
export { AUDIT_KINDS, GENESIS_HASH, auditHash, auditMaterial } from "./audit.js";
export type { AuditKind, AuditAppend, AuditEntry, AuditExportFilter, AuditVerifyResult, AuditVerifyOptions, AuditWitness, AuditBreak, AuditRepository } from "./audit.js";
export { canonicalize, inputsDigest, sha256Hex, CanonicalizeError } from "./canonical.js";
export type * from "./repositories.js";
export type { Db } from "./executor.js";
