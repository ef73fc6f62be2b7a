/**
 * Which repositories a signed-in reader may read, asked of GitHub on every request and cached briefly (a revoked
 * installation or repository access disappears within the cache's lifetime). An auditor token's repositories are
 * the operator's list, or every repository the App has recorded.
 */
import { UserTokenInvalidError } from "../github/errors.js";
import type { AuditorToken } from "./auditor-tokens.js";
import type { Session } from "./sessions.js";

export { UserTokenInvalidError };

export interface AccessOptions {
  /** GitHub: the repositories the token can read through this App's installations. */
  readableWithToken(token: string): Promise<string[]>;
  /** Every repository the App has recorded (an auditor token with `*`). */
  recordedRepositories(): Promise<string[]>;
  auditorTokens: readonly AuditorToken[];
  ttlMs?: number | undefined;
  clock?: (() => number) | undefined;
  /** Most sessions remembered at once. */
  maxEntries?: number | undefined;
}

export const DEFAULT_ACCESS_TTL_MS = 60_000;

export class AccessResolver {
  readonly #cache = new Map<string, { at: number; repositories: string[] }>();
  readonly #ttl: number;
  readonly #clock: () => number;
  readonly #max: number;

  constructor(private readonly options: AccessOptions) {
    this.#ttl = options.ttlMs ?? DEFAULT_ACCESS_TTL_MS;
    this.#clock = options.clock ?? Date.now;
    this.#max = options.maxEntries ?? 10_000;
  }

  /** @throws {UserTokenInvalidError} when GitHub no longer accepts the session's token. */
  async readable(session: Session): Promise<string[]> {
    const now = this.#clock();
    const hit = this.#cache.get(session.idHash);
    if (hit && now - hit.at < this.#ttl) return hit.repositories;
    const repositories = await this.#resolve(session);
    this.#cache.delete(session.idHash);
    if (this.#cache.size >= this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(session.idHash, { at: now, repositories });
    return repositories;
  }

  forget(session: Pick<Session, "idHash">): void {
    this.#cache.delete(session.idHash);
  }

  async #resolve(session: Session): Promise<string[]> {
    if (session.kind === "github") {
      if (!session.token) throw new UserTokenInvalidError("session without a token");
      return this.options.readableWithToken(session.token);
    }
    const token = this.options.auditorTokens.find((t) => t.name === session.login);
    // The operator removed the token from the configuration: the session ends with it.
    if (!token) throw new UserTokenInvalidError(`auditor token ${session.login} is no longer configured`);
    return token.repositories === "all" ? this.options.recordedRepositories() : token.repositories;
  }
}
