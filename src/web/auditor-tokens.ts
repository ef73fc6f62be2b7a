/**
 * Read-only auditor tokens, for people without a GitHub account. The operator configures only their sha256 hashes:
 *
 *   AGENT_GATE_AUDITOR_TOKENS="NAME:SHA256HEX:REPOS;NAME:SHA256HEX:REPOS"
 *
 * REPOS is `*` (every repository the App has recorded) or a comma-separated list of `owner/name`. Hash a token
 * with `printf %s "$TOKEN" | sha256sum`. A token should be long and random (e.g. `openssl rand -base64 32`).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { REPO } from "./filters.js";

export interface AuditorToken {
  name: string;
  sha256: Buffer;
  /** "all" or the repositories (`owner/name`) it may read. */
  repositories: "all" | string[];
}

export class AuditorTokenConfigError extends Error {
  override readonly name = "AuditorTokenConfigError";
}


/** @throws {AuditorTokenConfigError} naming the entry that is malformed. */
export function parseAuditorTokens(value: string | undefined): AuditorToken[] {
  if (!value?.trim()) return [];
  return value
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((entry, i) => {
      const [name, hash, repos, ...rest] = entry.split(":").map((s) => s.trim());
      const where = `AGENT_GATE_AUDITOR_TOKENS entry ${i + 1}`;
      if (!name || !/^[A-Za-z0-9_.@ -]{1,64}$/.test(name)) throw new AuditorTokenConfigError(`${where}: the name must be 1-64 letters, digits, spaces or . _ @ -`);
      if (!hash || !/^[0-9a-fA-F]{64}$/.test(hash)) throw new AuditorTokenConfigError(`${where} (${name}): the hash must be 64 hex digits (sha256 of the token)`);
      if (!repos || rest.length > 0) throw new AuditorTokenConfigError(`${where} (${name}): expected NAME:SHA256HEX:REPOS, where REPOS is * or owner/name,owner/name`);
      const list = repos === "*" ? "all" : repos.split(",").map((r) => r.trim());
      if (list !== "all" && (list.length === 0 || list.some((r) => !REPO.test(r)))) throw new AuditorTokenConfigError(`${where} (${name}): repositories must be * or owner/name,owner/name`);
      return { name, sha256: Buffer.from(hash, "hex"), repositories: list };
    });
}

/** The token's entry, compared in constant time against every configured hash. */
export function matchAuditorToken(tokens: readonly AuditorToken[], presented: string): AuditorToken | null {
  if (presented === "") return null;
  const digest = createHash("sha256").update(presented, "utf8").digest();
  let found: AuditorToken | null = null;
  for (const t of tokens) if (timingSafeEqual(t.sha256, digest)) found = t;
  return found;
}
