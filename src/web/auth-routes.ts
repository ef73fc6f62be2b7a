/**
 * Signing in and out: GitHub's OAuth web flow with the App's own client, read-only auditor tokens, and the
 * middleware that sends an unauthenticated visit to /audit/login and ends a session GitHub no longer accepts.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { UserTokenInvalidError } from "./access.js";
import { matchAuditorToken } from "./auditor-tokens.js";
import { isSecure, originOf, type WebContext, type WebDeps, type WebEnv } from "./context.js";
import type { Session } from "./sessions.js";
import { html } from "./views/html.js";
import { loginPage } from "./views/login.js";
import { messagePage } from "./views/layout.js";

const STATE_TTL_S = 600;

const cookieNames = (secure: boolean) => ({
  session: secure ? "__Host-agent_gate_session" : "agent_gate_session",
  oauth: secure ? "__Host-agent_gate_oauth" : "agent_gate_oauth",
});

/** Only a path of these pages may be the target after sign-in (never another site: no open redirect). */
export function safeNext(value: string | undefined | null): string {
  if (!value || !value.startsWith("/audit") || value.startsWith("//") || /[\\\r\n]/.test(value)) return "/audit";
  if (value.startsWith("/audit/login") || value.startsWith("/audit/callback") || value.startsWith("/audit/logout")) return "/audit";
  return value;
}

function cookieOptions(c: WebContext, deps: WebDeps, maxAgeSeconds: number) {
  return { path: "/", httpOnly: true, secure: isSecure(c, deps.config), sameSite: "Lax" as const, maxAge: Math.max(1, Math.floor(maxAgeSeconds)) };
}

async function currentSession(c: WebContext, deps: WebDeps): Promise<Session | null> {
  const names = cookieNames(isSecure(c, deps.config));
  const id = await getSignedCookie(c, deps.config.sessionSecret, names.session);
  if (!id) return null;
  return deps.sessions.load(id);
}

async function endSession(c: WebContext, deps: WebDeps, session: Session | null): Promise<void> {
  if (session) {
    deps.access.forget(session);
    await deps.sessions.end(session);
  }
  deleteCookie(c, cookieNames(isSecure(c, deps.config)).session, { path: "/", secure: isSecure(c, deps.config) });
}

async function startSession(c: WebContext, deps: WebDeps, input: { kind: Session["kind"]; login: string; token: string | null; expiresAt: Date | null }): Promise<void> {
  const ttlEnd = new Date(deps.clock().getTime() + deps.config.sessionTtlMs);
  const expiresAt = input.expiresAt && input.expiresAt < ttlEnd ? input.expiresAt : ttlEnd;
  const session = await deps.sessions.create({ kind: input.kind, login: input.login, token: input.token, expiresAt });
  const seconds = (expiresAt.getTime() - deps.clock().getTime()) / 1000;
  await setSignedCookie(c, cookieNames(isSecure(c, deps.config)).session, session.id, deps.config.sessionSecret, cookieOptions(c, deps, seconds));
}

async function redirectToGitHub(c: WebContext, deps: WebDeps, next: string): Promise<Response> {
  const oauth = deps.config.oauth;
  if (!oauth) return c.html(loginPage({ githubHref: null, tokens: deps.config.auditorTokens.length > 0, next }), 200);
  const state = randomBytes(24).toString("base64url");
  await setSignedCookie(c, cookieNames(isSecure(c, deps.config)).oauth, `${state} ${next}`, deps.config.sessionSecret, cookieOptions(c, deps, STATE_TTL_S));
  return c.redirect(deps.github.authorizationUrl(oauth, `${originOf(c, deps.config)}/audit/callback`, state), 302);
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function callback(c: WebContext, deps: WebDeps): Promise<Response> {
  const names = cookieNames(isSecure(c, deps.config));
  const saved = await getSignedCookie(c, deps.config.sessionSecret, names.oauth);
  deleteCookie(c, names.oauth, { path: "/", secure: isSecure(c, deps.config) });
  const [state, next] = typeof saved === "string" ? saved.split(" ") : [];
  const code = c.req.query("code");
  const oauth = deps.config.oauth;
  if (!oauth || !state || !code || !sameString(state, c.req.query("state") ?? "")) {
    return c.html(messagePage("Sign-in failed", "The sign-in could not be completed (it expired or did not start here). Please sign in again.", null), 400);
  }
  try {
    const token = await deps.github.exchangeCode(oauth, code, `${originOf(c, deps.config)}/audit/callback`);
    const login = await deps.github.userLogin(token.token);
    await startSession(c, deps, { kind: "github", login, token: token.token, expiresAt: token.expiresAt });
  } catch (error) {
    deps.log.warn({ err: error }, "compliance pages: GitHub sign-in failed");
    return c.html(messagePage("Sign-in failed", "GitHub did not accept the sign-in. Please try again.", null), 502);
  }
  return c.redirect(safeNext(next), 302);
}

export function registerAuthRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  app.get("/audit/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (await currentSession(c, deps)) return c.redirect(next, 302);
    if (deps.config.auditorTokens.length === 0 || c.req.query("via") === "github") return redirectToGitHub(c, deps, next);
    const githubHref = deps.config.oauth ? `/audit/login?via=github&next=${encodeURIComponent(next)}` : null;
    return c.html(loginPage({ githubHref, tokens: true, next }));
  });

  app.get("/audit/callback", (c) => callback(c, deps));

  app.post("/audit/login/token", async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    const token = matchAuditorToken(deps.config.auditorTokens, typeof form.token === "string" ? form.token : "");
    if (!token) {
      const githubHref = deps.config.oauth ? `/audit/login?via=github&next=${encodeURIComponent(next)}` : null;
      return c.html(loginPage({ githubHref, tokens: true, next, error: "That token is not valid." }), 401);
    }
    await startSession(c, deps, { kind: "auditor", login: token.name, token: null, expiresAt: null });
    return c.redirect(next, 303);
  });

  app.post("/audit/logout", async (c) => {
    await endSession(c, deps, await currentSession(c, deps));
    return c.redirect("/audit/logged-out", 303);
  });

  app.get("/audit/logged-out", (c) => c.html(messagePage("Signed out", "You are signed out.", null, html`<p><a href="/audit/login">Sign in again</a></p>`)));
}

/** Every other /audit page: a reader with a live session, and the repositories they may read right now. */
export function requireReader(deps: WebDeps): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const session = await currentSession(c, deps);
    const url = new URL(c.req.url);
    const login = `/audit/login?next=${encodeURIComponent(url.pathname + url.search)}`;
    if (!session) return c.redirect(login, 302);
    let readable: string[];
    try {
      readable = await deps.access.readable(session);
    } catch (error) {
      if (!(error instanceof UserTokenInvalidError)) throw error;
      // Expired or revoked on GitHub's side (or the auditor token was removed): the session ends here.
      await endSession(c, deps, session);
      return c.redirect(login, 302);
    }
    c.set("reader", { session, readable });
    await next();
  };
}
