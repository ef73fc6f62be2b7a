/** What every route of the pages shares: configuration, the store's queries, sessions, access, and the clock. */
import type { Context } from "hono";
import type { OAuthClient } from "../github/port.js";
import type { AuditRepository } from "../store/index.js";
import type { ComplianceQueries } from "../store/compliance.js";
import type { AccessResolver } from "./access.js";
import type { AuditorToken } from "./auditor-tokens.js";
import type { ChainVerifier } from "./chain.js";
import type { Session, SessionStore } from "./sessions.js";
import type { GitHubLinks } from "./views/links.js";

export interface WebConfig {
  /** The App's OAuth client; null when GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET are not set (GitHub sign-in off). */
  oauth: OAuthClient | null;
  /** https://gate.example.com (no trailing slash): redirect URI, Secure cookies; null = taken from each request. */
  publicUrl: string | null;
  /** Signs the cookies. */
  sessionSecret: string;
  auditorTokens: readonly AuditorToken[];
  /** How long a session lasts at most (a GitHub token that expires sooner ends it sooner). */
  sessionTtlMs: number;
  /** How long the repositories a reader may read are remembered before GitHub is asked again. */
  accessTtlMs: number;
  /** How old the chain status shown may be before the whole chain is walked again. */
  chainCheckMs: number;
  links: GitHubLinks;
}

export interface WebDeps {
  config: WebConfig;
  queries: ComplianceQueries;
  audit: AuditRepository;
  sessions: SessionStore;
  access: AccessResolver;
  chain: ChainVerifier;
  /** GitHub's OAuth web flow and the user's login (faked in tests by a local server at GHE_HOST). */
  github: {
    authorizationUrl(client: OAuthClient, redirectUri: string, state: string): string;
    exchangeCode(client: OAuthClient, code: string, redirectUri: string): Promise<{ token: string; expiresAt: Date | null }>;
    userLogin(token: string): Promise<string>;
  };
  clock: () => Date;
  log: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

export interface Reader {
  session: Session;
  readable: string[];
}

export type WebEnv = { Variables: { reader: Reader } };
export type WebContext = Context<WebEnv>;

/** The origin pages are served at: the configured public URL, or the request's own. */
export function originOf(c: Context, config: WebConfig): string {
  return config.publicUrl ?? new URL(c.req.url).origin;
}

export function isSecure(c: Context, config: WebConfig): boolean {
  return originOf(c, config).startsWith("https:");
}
