/**
 * The App's JWT, signed once and reused while fresh. Left to itself, @octokit/auth-app signs a new one (RS256 with
 * WebCrypto, importing the key again) for every installation token it fetches: 4.3 % of the server's CPU in a burst
 * spread over many installations, about 1.9 ms a token (V8 profile of `npm run bench`'s server, before this reuse). GitHub accepts an App JWT for at
 * most ten minutes; universal-github-app-jwt (the signer auth-app uses, used here too) dates it 30 s back for clock
 * drift and lets it run ten minutes from then. One is handed out for its first five minutes only, so every request
 * carries a JWT with at least four and a half minutes left.
 *
 * `timeDifference` is auth-app's correction after GitHub said our clock is off (from GitHub's own Date header): a
 * JWT signed for another correction is not reused. One slot: there is one key and, at a time, one correction.
 */
import githubAppJwt from "universal-github-app-jwt";

/** auth-app's `createJwt` option. */
export type CreateJwt = (appId: number | string, timeDifference?: number) => Promise<{ jwt: string; expiresAt: string }>;

/** How long one signed JWT is handed out (of its ten minutes). */
export const JWT_REUSE_MS = 5 * 60 * 1000;

interface Signed {
  key: string;
  until: number;
  jwt: Promise<{ jwt: string; expiresAt: string }>;
}

/** A `createJwt` for `privateKey` that signs at most once per JWT_REUSE_MS (per App id and clock correction). */
export function reusedAppJwt(privateKey: string, now: () => number = Date.now): CreateJwt {
  let slot: Signed | undefined;
  return (appId, timeDifference = 0) => {
    const key = `${appId}:${timeDifference}`;
    const at = now();
    if (slot && slot.key === key && at < slot.until) return slot.jwt;
    const jwt = githubAppJwt({ id: appId, privateKey, now: Math.floor(at / 1000) + timeDifference }).then((signed) => ({
      jwt: signed.token,
      expiresAt: new Date(signed.expiration * 1000).toISOString(),
    }));
    const signed: Signed = { key, until: at + JWT_REUSE_MS, jwt };
    slot = signed;
    // A failed signing is not remembered: the next request tries again (and reports its own error).
    jwt.catch(() => {
      if (slot === signed) slot = undefined;
    });
    return jwt;
  };
}

const signers = new Map<string, CreateJwt>();

/**
 * The App auth options with the private key swapped for a shared reusing signer (one per key, for every Octokit
 * Probot builds). Options without a private key are returned as they are. Probot merges its own auth options (with
 * the key) into each installation Octokit's, which carry the signer already: the key wins, and is swapped again.
 */
export function withReusedAppJwt<T extends object>(auth: T): T | (Omit<T, "privateKey"> & { createJwt: CreateJwt }) {
  const { privateKey, ...rest } = auth as T & { privateKey?: unknown };
  if (typeof privateKey !== "string") return auth;
  let createJwt = signers.get(privateKey);
  if (!createJwt) {
    createJwt = reusedAppJwt(privateKey);
    signers.set(privateKey, createJwt);
  }
  // auth-app refuses `privateKey` and `createJwt` together.
  return { ...(rest as Omit<T, "privateKey">), createJwt };
}
