/**
 * The compliance pages under /audit, mounted on the App's own HTTP server (Probot's `Server.addHandler`).
 * Hono is the router and middleware (signed cookies, CSRF, security headers); pages are server-rendered with
 * escaping templates and carry no script at all, so the CSP allows none.
 */
import { createHash, hkdfSync } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { OctokitGitHub, standaloneOctokit } from "../github/octokit-github.js";
import type { OAuthClient } from "../github/port.js";
import { createComplianceQueries } from "../store/compliance.js";
import type { Store } from "../store/index.js";
import { AccessResolver, DEFAULT_ACCESS_TTL_MS } from "./access.js";
import { parseAuditorTokens } from "./auditor-tokens.js";
import { registerAuthRoutes, requireReader } from "./auth-routes.js";
import { ChainVerifier, DEFAULT_CHAIN_CHECK_MS } from "./chain.js";
import type { WebConfig, WebDeps, WebEnv } from "./context.js";
import { registerPageRoutes } from "./page-routes.js";
import { SessionStore } from "./sessions.js";
import { messagePage } from "./views/layout.js";
import { STYLESHEET } from "./views/style.js";

export type { WebConfig, WebDeps } from "./context.js";

const EIGHT_HOURS_MS = 8 * 3600 * 1000;

export class WebConfigError extends Error {
  override readonly name = "WebConfigError";
}

/**
 * The pages' settings from the App's environment: GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET (the manifest flow
 * writes them), GHE_HOST / GHE_PROTOCOL, AGENT_GATE_PUBLIC_URL, AGENT_GATE_SESSION_SECRET (default: derived from
 * the App's private key, so every process of one App agrees), AGENT_GATE_AUDITOR_TOKENS.
 * @throws {WebConfigError} on a malformed setting, naming it.
 */
/**
 * AGENT_GATE_PUBLIC_URL as an origin, or null when unset (the pages then use each request's origin, and the approval
 * check gets no details link). @throws {WebConfigError} when it is not an http(s) URL.
 */
export function publicUrlFromEnv(env: NodeJS.ProcessEnv): string | null {
  const raw = env.AGENT_GATE_PUBLIC_URL?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebConfigError(`AGENT_GATE_PUBLIC_URL is not a URL: ${JSON.stringify(env.AGENT_GATE_PUBLIC_URL)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new WebConfigError("AGENT_GATE_PUBLIC_URL must start with https:// (or http:// for local use)");
  return url.origin;
}

export function webConfigFromEnv(env: NodeJS.ProcessEnv, privateKey: string): WebConfig {
  const apiBaseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}/api/v3` : undefined;
  const webBaseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}` : "https://github.com";
  const oauth: OAuthClient | null = env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET ? { clientId: env.GITHUB_CLIENT_ID, clientSecret: env.GITHUB_CLIENT_SECRET, apiBaseUrl } : null;
  const publicUrl = publicUrlFromEnv(env);
  const secret = env.AGENT_GATE_SESSION_SECRET?.trim();
  if (secret !== undefined && secret !== "" && secret.length < 32) throw new WebConfigError("AGENT_GATE_SESSION_SECRET must be at least 32 characters");
  const sessionSecret = secret || Buffer.from(hkdfSync("sha256", createHash("sha256").update(privateKey).digest(), "agent-gate", "web-cookie-signing", 32)).toString("base64url");
  let auditorTokens;
  try {
    auditorTokens = parseAuditorTokens(env.AGENT_GATE_AUDITOR_TOKENS);
  } catch (error) {
    throw new WebConfigError(error instanceof Error ? error.message : String(error));
  }
  const cacheSeconds = env.AGENT_GATE_ACCESS_CACHE_SECONDS?.trim();
  const accessTtlMs = cacheSeconds ? Number(cacheSeconds) * 1000 : DEFAULT_ACCESS_TTL_MS;
  if (!Number.isFinite(accessTtlMs) || accessTtlMs < 0 || accessTtlMs > 3600_000) throw new WebConfigError("AGENT_GATE_ACCESS_CACHE_SECONDS must be a number of seconds from 0 to 3600");
  const chainSeconds = env.AGENT_GATE_CHAIN_CHECK_SECONDS?.trim();
  const chainCheckMs = chainSeconds ? Number(chainSeconds) * 1000 : DEFAULT_CHAIN_CHECK_MS;
  if (!Number.isFinite(chainCheckMs) || chainCheckMs < 0) throw new WebConfigError("AGENT_GATE_CHAIN_CHECK_SECONDS must be a number of seconds");
  return { oauth, publicUrl, sessionSecret, auditorTokens, sessionTtlMs: EIGHT_HOURS_MS, accessTtlMs, chainCheckMs, links: { webBaseUrl } };
}

/** The real dependencies over a store. */
export function webDeps(store: Store, config: WebConfig, log: WebDeps["log"], clock: () => Date = () => new Date()): WebDeps {
  const queries = createComplianceQueries(store.db);
  const apiBaseUrl = config.oauth?.apiBaseUrl;
  // GitHub as the signed-in person sees it (their token), or unauthenticated for the OAuth web flow.
  const asUser = (token?: string) => new OctokitGitHub(standaloneOctokit({ baseUrl: apiBaseUrl, token, userAgent: "agent-gate-compliance" }));
  return {
    config,
    queries,
    audit: store.audit,
    sessions: new SessionStore(store.webSessions, clock),
    access: new AccessResolver({ readableWithToken: (token) => asUser(token).readableRepositories(), recordedRepositories: () => queries.recordedRepositories(), auditorTokens: config.auditorTokens, ttlMs: config.accessTtlMs }),
    chain: new ChainVerifier(store.audit, clock, config.chainCheckMs),
    github: {
      authorizationUrl: (client, redirectUri, state) => asUser().oauthAuthorizationUrl(client, redirectUri, state),
      exchangeCode: (client, code, redirectUri) => asUser().exchangeOAuthCode(client, code, redirectUri),
      userLogin: (token) => asUser(token).userLogin(),
    },
    clock,
    log,
  };
}

export function createComplianceApp(deps: WebDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  // No script at all; styles and images only from these pages; forms post only here; never framed.
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'self'"], imgSrc: ["'self'"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
      referrerPolicy: "same-origin",
    }),
  );
  // Form posts (sign in with a token, sign out) must come from these pages: Origin / Sec-Fetch-Site checked.
  app.use("*", csrf({ origin: (origin, c) => origin === (deps.config.publicUrl ?? new URL(c.req.url).origin) }));
  app.use("*", async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
  });
  app.get("/audit/assets/style.css", (c) => c.body(STYLESHEET, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }));
  registerAuthRoutes(app, deps);
  app.use("/audit", requireReader(deps));
  app.use("/audit/*", requireReader(deps));
  registerPageRoutes(app, deps);
  app.notFound((c) => c.html(messagePage("Not found", "There is no such page.", null), 404));
  app.onError((error, c) => {
    // Hono's own refusals (the CSRF check's 403) keep their status.
    if (error instanceof HTTPException) return error.getResponse();
    deps.log.error({ err: error }, "compliance pages: request failed");
    return c.html(messagePage("Something went wrong", "The page could not be shown. The error is in the App's log.", null), 500);
  });
  return app;
}

/** A Probot server handler: answers /audit and /audit/..., leaves every other path to the next handler. */
export function complianceHandler(app: Hono<WebEnv>): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (path !== "/audit" && !path.startsWith("/audit/")) return false;
    await listener(req, res);
    return true;
  };
}
