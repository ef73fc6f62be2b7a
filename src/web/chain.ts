/**
 * The chain status the audit page shows: a full `verify()` walk, repeated at most once a minute (the walk reads
 * every entry; many readers refreshing a page must not each start one).
 */
import type { AuditRepository, AuditVerifyResult } from "../store/index.js";

export const DEFAULT_CHAIN_CHECK_MS = 60_000;

export interface ChainState {
  result: AuditVerifyResult;
  verifiedAt: Date;
}

export class ChainVerifier {
  #last: ChainState | undefined;
  #running: Promise<ChainState> | undefined;

  constructor(
    private readonly audit: Pick<AuditRepository, "verify">,
    private readonly clock: () => Date = () => new Date(),
    private readonly maxAgeMs = DEFAULT_CHAIN_CHECK_MS,
  ) {}

  async status(): Promise<ChainState> {
    const now = this.clock();
    if (this.#last && now.getTime() - this.#last.verifiedAt.getTime() < this.maxAgeMs) return this.#last;
    this.#running ??= this.audit
      .verify()
      .then((result) => (this.#last = { result, verifiedAt: this.clock() }))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }
}
