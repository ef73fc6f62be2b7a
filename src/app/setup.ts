/**
 * Setup mode (`npm start` without APP_ID and a private key): the page that registers the GitHub App from
 * app.yml through GitHub's manifest flow, and a webhook proxy channel so the new App can deliver to a laptop.
 *
 * Probot has a setup page, but it puts the manifest in a single-quoted HTML attribute unescaped, so app.yml's
 * apostrophes cut it short, and it registers `http://localhost:3000/` as the webhook URL, which GitHub refuses.
 * This one renders through an escaping template (hono/html), asks smee.io for a channel (smee-client) unless
 * WEBHOOK_PROXY_URL names one, protects the code exchange with the manifest flow's `state`, and writes the
 * credentials to `.env` readable by its owner only. Probot's Server still serves it (its static assets, /ping).
 *
 * Routes: `/` → `/probot` (the page), `/probot/setup?code=&state=` (GitHub's redirect after registering).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { html } from "hono/html";
import type { Logger } from "pino";
import { Probot, Server } from "probot";
import { SmeeClient } from "smee-client";
import { parse as parseYaml } from "yaml";
import { OctokitGitHub, standaloneOctokit } from "../github/index.js";
import type { RegisteredApp } from "../github/index.js";
import { packageRoot, packageVersion } from "../version.js";
import { updateDotEnv } from "./dotenv.js";

/** Where webhook proxy channels come from; smee.io by default (`SmeeClient.createChannel`). */
export interface WebhookChannelSource {
  createChannel(): Promise<string>;
}

export interface SetupOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** 0 picks a free port. */
  port: number;
  host?: string | undefined;
  webhookPath: string;
  /** GitHub's API base URL (GitHub Enterprise Server); github.com when unset. */
  githubApiBaseUrl?: string | undefined;
  /** The manifest; default `app.yml` in the working directory, else the package's own. */
  manifestFile?: string | undefined;
  /** Where the credentials are written; default `.env` in the working directory. */
  envFile?: string | undefined;
  channels?: WebhookChannelSource | undefined;
  /** The code exchange; GitHub's conversion endpoint by default. */
  convert?: ((code: string) => Promise<RegisteredApp>) | undefined;
}

export interface SetupServer {
  server: Server;
  /** The webhook proxy channel the manifest registers, if there is one. */
  webhookProxyUrl: string | undefined;
}

/** The manifest GitHub receives: app.yml plus the URLs only the running server knows. */
export function appManifest(appYml: Record<string, unknown>, urls: { baseUrl: string; webhookUrl: string }): Record<string, unknown> {
  const hook = typeof appYml.hook_attributes === "object" && appYml.hook_attributes !== null ? appYml.hook_attributes : {};
  return {
    ...appYml,
    public: appYml.public ?? false,
    hook_attributes: { active: true, ...hook, url: urls.webhookUrl },
    redirect_url: `${urls.baseUrl}/probot/setup`,
  };
}

/** GitHub refuses webhook URLs it cannot reach; a loopback host is the usual case on a laptop. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\./.test(host) || host === "0.0.0.0";
}

function readManifestFile(file: string | undefined): Record<string, unknown> {
  const local = path.resolve("app.yml");
  const packaged = packageRoot() ? path.join(packageRoot()!, "app.yml") : local;
  const chosen = file ?? (existsSync(local) ? local : packaged);
  const parsed: unknown = parseYaml(readFileSync(chosen, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${chosen} is not a GitHub App manifest (a YAML mapping)`);
  return parsed as Record<string, unknown>;
}

/**
 * WEBHOOK_PROXY_URL when set; otherwise a new smee.io channel, saved to .env so the App uses it after the
 * restart. Production (NODE_ENV=production), NO_SMEE_SETUP=true or an unreachable smee.io: none.
 */
async function webhookChannel(options: SetupOptions, envFile: string): Promise<string | undefined> {
  const { env, log } = options;
  if (env.WEBHOOK_PROXY_URL) return env.WEBHOOK_PROXY_URL;
  if (env.NODE_ENV === "production" || env.NO_SMEE_SETUP === "true") return undefined;
  try {
    const channel = await (options.channels ?? SmeeClient).createChannel();
    updateDotEnv(envFile, { WEBHOOK_PROXY_URL: channel });
    env.WEBHOOK_PROXY_URL = channel;
    log.info({ channel }, "created a webhook proxy channel on smee.io and saved it to .env as WEBHOOK_PROXY_URL");
    return channel;
  } catch (error) {
    log.warn({ err: error }, "could not create a smee.io channel: set WEBHOOK_PROXY_URL to one (https://smee.io/new) and restart");
    return undefined;
  }
}

function githubWebUrl(env: NodeJS.ProcessEnv): string {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}` : "https://github.com";
}

/** GitHub's "register an App from a manifest" form, for the account or for GH_ORG. */
function createAppUrl(env: NodeJS.ProcessEnv, state: string): string {
  const org = env.GH_ORG ? `/organizations/${encodeURIComponent(env.GH_ORG)}` : "";
  return `${githubWebUrl(env)}${org}/settings/apps/new?state=${state}`;
}

/** The URL the browser used, behind a proxy too (x-forwarded-*), without a trailing slash. */
function requestBaseUrl(req: IncomingMessage): string {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim();
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const protocol = first(req.headers["x-forwarded-proto"]) ?? (encrypted ? "https" : "http");
  const host = first(req.headers["x-forwarded-host"]) ?? req.headers.host ?? "localhost";
  return `${protocol}://${host}`;
}

interface PageModel {
  name: string;
  description: string;
  manifest: string;
  action: string;
  webhookUrl: string;
  problem: string | undefined;
}

async function setupPage(model: PageModel): Promise<string> {
  const page = html`<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Set up ${model.name}</title>
    <link rel="stylesheet" href="/probot/static/primer.css">
  </head>
  <body>
    <main class="container-md p-5">
      <h1>Set up ${model.name} <span class="Label">v${packageVersion()}</span></h1>
      <p>${model.description}</p>
      <p>GitHub will deliver webhooks to <code id="webhook-url">${model.webhookUrl}</code>.</p>
      ${model.problem ? html`<p class="flash flash-error" id="problem">${model.problem}</p>` : ""}
      <form action="${model.action}" method="post">
        <button class="btn btn-primary" type="submit" name="manifest" id="manifest" value="${model.manifest}" ${model.problem ? "disabled" : ""}>Register the GitHub App</button>
      </form>
      <p>GitHub asks for a name, creates the App with app.yml's permissions and events, and sends you back here;
        the App's id, private key and webhook secret are then written to <code>.env</code>. Restart <code>npm start</code>
        and install the App on your repositories.</p>
    </main>
  </body>
</html>`;
  return String(await page);
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers }).end(body);
  return true;
}

interface SetupState {
  manifest: Record<string, unknown>;
  channel: string | undefined;
  state: string;
  envFile: string;
}

async function renderPage(req: IncomingMessage, res: ServerResponse, options: SetupOptions, setup: SetupState): Promise<true> {
  const baseUrl = requestBaseUrl(req);
  const webhookUrl = setup.channel ?? `${baseUrl}${options.webhookPath}`;
  const problem =
    !setup.channel && isLoopbackUrl(webhookUrl)
      ? `GitHub cannot deliver webhooks to ${webhookUrl}. Set WEBHOOK_PROXY_URL to a webhook proxy channel (open https://smee.io/new and copy its address) and restart npm start.`
      : undefined;
  const manifest = appManifest(setup.manifest, { baseUrl, webhookUrl });
  const name = typeof manifest.name === "string" ? manifest.name : "Agent Gate";
  const description = typeof manifest.description === "string" ? manifest.description : "";
  const body = await setupPage({ name, description, manifest: JSON.stringify(manifest), action: createAppUrl(options.env, setup.state), webhookUrl, problem });
  return send(res, 200, "text/html; charset=utf-8", body);
}

async function finishRegistration(query: URLSearchParams, res: ServerResponse, options: SetupOptions, setup: SetupState): Promise<true> {
  const code = query.get("code");
  if (!code) return send(res, 400, "text/plain; charset=utf-8", "code missing: start again from /probot");
  // Without this check a page on another site could hand us a code for an App of its own.
  if (query.get("state") !== setup.state) return send(res, 400, "text/plain; charset=utf-8", "state does not match this setup page: start again from /probot");
  let app: RegisteredApp;
  try {
    const convert = options.convert ?? ((c: string) => new OctokitGitHub(standaloneOctokit({ baseUrl: options.githubApiBaseUrl, userAgent: "agent-gate-setup" })).convertAppManifest(c));
    app = await convert(code);
  } catch (error) {
    options.log.error({ err: error }, "GitHub did not convert the manifest code");
    return send(res, 502, "text/plain; charset=utf-8", `GitHub did not convert the manifest code: ${error instanceof Error ? error.message : String(error)}`);
  }
  updateDotEnv(setup.envFile, {
    APP_ID: String(app.id),
    // The App's bot login is `<slug>[bot]`: its own label events are told apart by it.
    APP_SLUG: app.slug,
    PRIVATE_KEY: app.pem,
    ...(app.webhookSecret ? { WEBHOOK_SECRET: app.webhookSecret } : {}),
    GITHUB_CLIENT_ID: app.clientId,
    GITHUB_CLIENT_SECRET: app.clientSecret,
  });
  options.log.info({ appId: app.id, envFile: setup.envFile }, `registered the GitHub App ${app.slug}; its credentials are in .env: restart npm start, then install the App`);
  return send(res, 302, "text/plain; charset=utf-8", `Found. Redirecting to ${app.htmlUrl}/installations/new`, { location: `${app.htmlUrl}/installations/new` });
}

function setupHandler(options: SetupOptions, setup: SetupState) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== "GET") return false;
    const url = new URL(req.url ?? "/", "http://setup.invalid");
    if (url.pathname === "/") return send(res, 302, "text/plain; charset=utf-8", "Found. Redirecting to /probot", { location: "/probot" });
    if (url.pathname === "/probot") return renderPage(req, res, options, setup);
    if (url.pathname === "/probot/setup") return finishRegistration(url.searchParams, res, options, setup);
    return false;
  };
}

/** Starts the setup server and returns once it listens. */
export async function startSetup(options: SetupOptions): Promise<SetupServer> {
  const envFile = options.envFile ?? path.resolve(".env");
  const manifest = readManifestFile(options.manifestFile);
  const channel = await webhookChannel(options, envFile);
  const setup: SetupState = { manifest, channel, state: randomBytes(16).toString("hex"), envFile };
  const server = new Server({
    host: options.host,
    // Probot's Server treats a numeric 0 as "unset" (3000); the string "0" asks the OS for a free port.
    port: (options.port === 0 ? "0" : options.port) as number,
    webhookPath: options.webhookPath,
    log: options.log,
    // Setup mode handles no webhooks; Probot still wants an App to construct (as in its own setup mode).
    Probot: Probot.defaults({ appId: 1, privateKey: "setup mode: the App is not registered yet", log: options.log }),
  });
  await server.loadHandlerFactory(async () => setupHandler(options, setup));
  await server.start();
  options.log.info(`Agent Gate setup: open http://${options.host ?? "localhost"}:${server.port} to register the GitHub App`);
  return { server, webhookProxyUrl: channel };
}
