/**
 * `npm start`: the App server.
 *
 * - Without APP_ID and a private key, setup mode (./setup.ts): the page at `/` registers a new GitHub App from
 *   app.yml (the manifest flow) with a webhook proxy channel, writes the credentials to `.env`, and asks for a restart.
 * - With them, WEBHOOK_SECRET is required (Probot's silent default "development" would let anyone forge
 *   webhooks): without it start-up stops with one line on stderr saying how to set it, and exit code 1.
 *   Then Probot's server on PORT (default 3000): the webhook path (WEBHOOK_PATH, default
 *   /api/github/webhooks), `GET /healthz`, `GET /ping`, the compliance pages under `/audit` (src/web), Probot's
 *   structured (pino) logs.
 *
 * GitHub Enterprise Server: GHE_HOST (and GHE_PROTOCOL) set the API base URL, as everywhere in Probot.
 *
 * Storage (app mode): Postgres at DATABASE_URL when set, else embedded PGlite in AGENT_GATE_DATA_DIR (default
 * `.data/`). Pending migrations are applied before the server listens; an unreachable database stops start-up
 * with one line on stderr and exit code 1. `/healthz` reports the database.
 */
import { createPrivateKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { getPrivateKey } from "@probot/get-private-key";
import { getTransformStream } from "@probot/pino";
import { pino } from "pino";
import type { Logger } from "pino";
import { Probot, ProbotOctokit, Server } from "probot";
import { SmeeClient } from "smee-client";
import { withReusedAppJwt } from "../github/app-jwt.js";
import { yieldBottleneckWithSetImmediate } from "../github/bottleneck-yield.js";
import { DatabaseGateStore } from "../services/database-gate-store.js";
import { StoreUnavailableError, openStore, storeOptionsFromEnv } from "../store/index.js";
import type { Store, StoreOptions } from "../store/index.js";
import { openJobQueue } from "../store/job-queue.js";
import { DatabaseTelemetryStore } from "../store/telemetry-store.js";
import { WebConfigError, complianceHandler, createComplianceApp, publicUrlFromEnv, webConfigFromEnv, webDeps } from "../web/index.js";
import { createAgentGate } from "./index.js";
import type { Reconciler } from "./reconcile.js";
import type { AgentGateOptions } from "./index.js";
import { databaseProbe } from "./health.js";
import { guardPostgresJsClosedSocketWrite } from "../store/postgres-js-guard.js";
import { startSetup } from "./setup.js";
import type { SetupOptions } from "./setup.js";
import type { HealthProbe } from "./health.js";

export interface StartOptions {
  /** Defaults to process.env (plus `.env` in the working directory, as Probot does). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Overrides PORT; 0 picks a free port. */
  port?: number | undefined;
  host?: string | undefined;
  log?: Logger | undefined;
  health?: HealthProbe[] | undefined;
  /** Overrides DATABASE_URL / AGENT_GATE_DATA_DIR from `env`. Ignored when `app.store` is given (the caller's storage). */
  storage?: Pick<StoreOptions, "databaseUrl" | "dataDir" | "maxConnections" | "connectTimeoutSeconds"> | undefined;
  /** The App's options; `store` (and `telemetry`) default to the database's. */
  app?: (Omit<AgentGateOptions, "health" | "store" | "telemetry"> & { store?: AgentGateOptions["store"] | undefined; telemetry?: AgentGateOptions["telemetry"] | undefined }) | undefined;
  /** Setup mode's seams (where the manifest, .env and webhook channels come from), for tests. */
  setup?: Pick<SetupOptions, "manifestFile" | "envFile" | "channels" | "convert"> | undefined;
}

export interface RunningServer {
  /** "app" when serving webhooks, "setup" when serving the App registration page (./setup.ts). */
  mode: "app" | "setup";
  server: Server;
  port: number;
  /** The database the App records to (app mode, unless the caller passed its own `app.store`). */
  store?: Store | undefined;
  stop(): Promise<void>;
}

/** The API base URL from Probot's standard settings; never hard-coded elsewhere. */
export function githubApiBaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}/api/v3` : undefined;
}

/** Like Probot's own `.env` handling: values already in the environment win. */
function loadDotEnv(env: NodeJS.ProcessEnv): void {
  const path = ".env";
  if (!existsSync(path)) return;
  for (const [key, value] of Object.entries(parseEnv(readFileSync(path, "utf8")))) {
    if (env[key] === undefined) env[key] = value;
  }
}

async function createLogger(env: NodeJS.ProcessEnv): Promise<Logger> {
  const level = env.LOG_LEVEL || "info";
  const logFormat = env.LOG_FORMAT === "json" || env.LOG_FORMAT === "pretty" ? env.LOG_FORMAT : env.NODE_ENV === "production" ? "json" : "pretty";
  const transform = await getTransformStream({ logFormat, logLevelInString: env.LOG_LEVEL_IN_STRING === "true", sentryDsn: env.SENTRY_DSN });
  // SonicBoom is a writable stream; its typings do not say so.
  transform.pipe(pino.destination(1) as unknown as NodeJS.WritableStream);
  return pino({ level, name: "probot", messageKey: env.LOG_MESSAGE_KEY || "msg" }, transform);
}

// Before any Octokit exists: Bottleneck's clamped 0 ms timers (../github/bottleneck-yield.ts).
yieldBottleneckWithSetImmediate();

/**
 * Octokit with Probot's throttling and retry plugins on, tuned for webhook work: 5xx and network errors retry
 * twice with backoff (1 s, 4 s); primary rate limits wait and retry twice (Probot's default); secondary rate
 * limits retry once after GitHub's Retry-After instead of Probot's default of giving up.
 *
 * The throttling plugin keys its limiters (one write a second, 10 requests at once) by `throttle.id`, and
 * defaults it to "no-id". Probot sets the id to the installation only in `app.auth(id)`; the Octokit a webhook
 * handler gets (`context.octokit`, built by octokit-auth-probot's "event-octokit" strategy from the App's own
 * options) has none, so every installation in the process shared one write limiter: 1 write a second for the
 * whole App. Keying by the installation, as `app.auth(id)` does (same key, so both share one limiter), restores
 * GitHub's guidance as it is meant: one write a second per installation.
 *
 * The App's JWT (what buys each installation token) is signed once and reused for five minutes (src/github/app-jwt.ts).
 */
export const AgentGateOctokit: typeof ProbotOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => {
  const throttle = (options.throttle ?? {}) as Record<string, unknown>;
  const auth = options.auth as ({ installationId?: unknown } & Record<string, unknown>) | undefined;
  const installationId = auth?.installationId;
  return {
    ...options,
    ...(auth && typeof auth === "object" ? { auth: withReusedAppJwt(auth) } : {}),
    retry: { retries: 2, ...(options.retry as object | undefined) },
    throttle: {
      ...throttle,
      ...(throttle.id === undefined && (typeof installationId === "number" || typeof installationId === "string") ? { id: String(installationId) } : {}),
      onSecondaryRateLimit: (retryAfter: number, request: { method: string; url: string; request: { retryCount: number } }, octokit: { log: Logger }) => {
        octokit.log.warn({ retryAfter, request: `${request.method} ${request.url}` }, "secondary rate limit hit");
        return request.request.retryCount < 1;
      },
    },
  };
});

/**
 * The App's key as PKCS#8 PEM, for Probot. universal-github-app-jwt signs each JWT with WebCrypto, which takes only
 * PKCS#8, and converts a PKCS#1 key (GitHub hands out `BEGIN RSA PRIVATE KEY`) again on every one: 2.5 % of the
 * server's CPU when it signed one per installation token (the JWT is now reused, src/github/app-jwt.ts).
 * Converted once here; a key that does not parse is passed on as it is, so Probot reports it as before.
 */
export function pkcs8PrivateKey(privateKey: string): string {
  if (!privateKey.includes("BEGIN RSA PRIVATE KEY")) return privateKey;
  try {
    return createPrivateKey(privateKey).export({ type: "pkcs8", format: "pem" }).toString();
  } catch {
    return privateKey;
  }
}

/** A setting the App cannot start without; its message is one line telling the operator how to fix it. */
export class StartupConfigError extends Error {
  override name = "StartupConfigError";
}

/**
 * Probot falls back to the secret "development" when WEBHOOK_SECRET is unset, so anyone who can reach the
 * server could sign (forge) webhooks. Serving webhooks therefore needs a secret of our own choosing.
 */
export function requireWebhookSecret(env: NodeJS.ProcessEnv): string {
  const secret = env.WEBHOOK_SECRET ?? "";
  if (secret.trim() === "" || secret === "development") {
    throw new StartupConfigError(
      "WEBHOOK_SECRET is not set: set it (in the environment or .env) to the webhook secret of your GitHub App, e.g. `openssl rand -hex 32`, the same value in the App's settings",
    );
  }
  return secret;
}

/**
 * Starts the server and returns once it listens.
 * @throws StartupConfigError without a webhook secret (app mode); also when the port is taken or the key is unreadable.
 */
export async function start(options: StartOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  if (options.env === undefined) loadDotEnv(env);
  const log = options.log ?? (await createLogger(env));
  const appId = Number(env.APP_ID);
  const privateKey = getPrivateKey({ env }) ?? undefined;

  if (!Number.isInteger(appId) || appId <= 0 || !privateKey) {
    // Setup mode handles no webhooks, so it opens no database.
    log.info("APP_ID or the private key is missing: serving the setup page, which registers the App from app.yml");
    const port = options.port ?? (Number(env.PORT) || 3000);
    const { server } = await startSetup({ env, log, port, host: options.host ?? env.HOST, webhookPath: env.WEBHOOK_PATH || "/api/github/webhooks", githubApiBaseUrl: githubApiBaseUrl(env), ...options.setup });
    return { mode: "setup", server, port: server.port, stop: () => server.stop() };
  }

  const secret = requireWebhookSecret(env);
  // Before listening: a database we cannot use must stop start-up, not fail every delivery later.
  const store = options.app?.store
    ? undefined
    : await openStore({ ...storeOptionsFromEnv(env), ...options.storage, migrate: true, log: (msg) => log.info(msg) });
  try {
    return await startApp(options, env, log, { appId, privateKey, secret }, store);
  } catch (error) {
    await store?.close();
    throw error;
  }
}

interface AppCredentials {
  appId: number;
  privateKey: string;
  secret: string;
}

/** Probot's own webhook middleware listens here, unused: the durable edge (src/app/edge.ts) owns WEBHOOK_PATH. */
const PROBOT_INTERNAL_WEBHOOK_PATH = "/__agent-gate/probot-webhooks";
/** Header and body deadlines of the HTTP server: GitHub sends a delivery in one go and waits at most 10 s. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** RECONCILE_INTERVAL_SECONDS' default: a quiet pass costs one request with the App's JWT. */
const DEFAULT_RECONCILE_INTERVAL_SECONDS = 300;

/** A number of at least 0 (0 turns a feature off), or the fallback when unset or not a number. */
function nonNegativeNumber(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

async function startApp(options: StartOptions, env: NodeJS.ProcessEnv, log: Logger, credentials: AppCredentials, store: Store | undefined): Promise<RunningServer> {
  const gateStore = store ? new DatabaseGateStore(store, { onRecordError: (err) => log.error({ err }, "could not record a failed evaluation in the database") }) : options.app?.store;
  // start() opens the database unless the caller passed its own store, so one of the two is here.
  if (!gateStore) throw new Error("start() needs a database or app.store");
  const health = [...(store ? [databaseProbe(store)] : []), ...(options.health ?? [])];
  // The pages are served only on the App's own database; then the approval check links to the PR's trail there.
  // Read before anything starts, so a malformed value stops start-up with nothing to clean up.
  const publicUrl = store ? publicUrlFromEnv(env) : null;
  // Telemetry outcomes and their audit entries go to the same database as the decisions.
  const telemetry = store ? new DatabaseTelemetryStore(store) : options.app?.telemetry;
  // As for the store: without the App's database the caller brings its own; there is no in-memory default.
  if (!telemetry) throw new Error("start() needs a database or app.telemetry");
  const webhookPath = env.WEBHOOK_PATH || "/api/github/webhooks";
  // With a database the work is durable: the edge records and enqueues, jobs evaluate (docs/app.md).
  const queue = store
    ? await openJobQueue(store, { databaseUrl: store.driver === "postgres" ? (options.storage?.databaseUrl ?? storeOptionsFromEnv(env).databaseUrl) : undefined, onError: (err) => log.warn({ err }, "job queue error") })
    : undefined;
  let reconciler: Reconciler | undefined;
  const reconcileSeconds = nonNegativeNumber(env.RECONCILE_INTERVAL_SECONDS, DEFAULT_RECONCILE_INTERVAL_SECONDS);
  const reconcile = reconcileSeconds > 0 ? { intervalSeconds: reconcileSeconds, started: (r: Reconciler) => (reconciler = r) } : undefined;
  const durable = store && queue ? { store, queue, webhookPath, concurrency: positiveInt(env.JOB_CONCURRENCY, 16), reconcile } : undefined;
  const botLogin = options.app?.botLogin ?? (env.APP_SLUG ? `${env.APP_SLUG}[bot]` : undefined);
  const appFn = createAgentGate({ ...options.app, botLogin, publicUrl: options.app?.publicUrl ?? publicUrl, store: gateStore, health, telemetry, durable });
  const port = options.port ?? (Number(env.PORT) || 3000);
  const baseUrl = githubApiBaseUrl(env);
  const server = new Server({
    host: options.host ?? env.HOST,
    // Probot's Server treats a numeric 0 as "unset" (3000); the string "0" still asks the OS for a free port.
    port: (port === 0 ? "0" : port) as number,
    webhookPath: durable ? PROBOT_INTERNAL_WEBHOOK_PATH : env.WEBHOOK_PATH,
    // Probot's proxy would forward to its own (internal) path: with the durable edge we start it ourselves.
    webhookProxy: durable ? undefined : env.WEBHOOK_PROXY_URL,
    log,
    Probot: Probot.defaults({
      ...credentials,
      privateKey: pkcs8PrivateKey(credentials.privateKey),
      log,
      Octokit: AgentGateOctokit,
      ...(baseUrl ? { baseUrl } : {}),
    }),
  });
  let proxy: SmeeClient | undefined;
  try {
    await server.load(appFn);
    // The compliance pages read the App's own database; with a caller's own store there is nothing of ours to show.
    if (store) server.addHandler(complianceHandler(createComplianceApp(webDeps(store, webConfigFromEnv(env, credentials.privateKey), log))));
    const http = await server.start();
    http.headersTimeout = HEADERS_TIMEOUT_MS;
    http.requestTimeout = REQUEST_TIMEOUT_MS;
    if (durable && env.WEBHOOK_PROXY_URL) {
      proxy = new SmeeClient({ source: env.WEBHOOK_PROXY_URL, target: `http://${server.host}:${server.port}${webhookPath}`, logger: log });
      await proxy.start();
    }
  } catch (error) {
    await proxy?.stop().catch(() => {});
    await reconciler?.stop();
    await queue?.stop(1000);
    throw error;
  }
  log.info({ port: server.port, webhookPath, githubApi: baseUrl ?? "github.com", durable: durable !== undefined }, "Agent Gate is listening");
  const shutdownMs = positiveInt(env.SHUTDOWN_TIMEOUT_SECONDS, 20) * 1000;
  let stopped: Promise<void> | undefined;
  // Graceful: stop taking deliveries, let running jobs finish within SHUTDOWN_TIMEOUT_SECONDS, fail (retry) the
  // rest, then close the database. Pending work stays in the database for the next start (or another replica).
  const stop = () =>
    (stopped ??= (async () => {
      try {
        await proxy?.stop().catch(() => {});
        await server.stop();
      } finally {
        await reconciler?.stop().catch(() => {});
        try {
          await queue?.stop(shutdownMs);
        } finally {
          await store?.close();
        }
      }
    })());
  return { mode: "app", server, port: server.port, store, stop };
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  let running: RunningServer;
  try {
    running = await start();
  } catch (error) {
    if (!(error instanceof StoreUnavailableError || error instanceof StartupConfigError || error instanceof WebConfigError)) throw error;
    // One line an operator can act on; the stack would only bury it.
    process.stderr.write(`agent-gate: ${error.message}\n`);
    process.exit(1);
  }
  guardPostgresJsClosedSocketWrite(process, (error) => {
    process.stderr.write(`agent-gate: postgres.js wrote to a connection that had closed (porsager/postgres#1208); its queries were rejected and their jobs are retried: ${error.message}\n`);
  });
  const stop = async () => {
    await running.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
