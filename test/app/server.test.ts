import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { StartupConfigError, start } from "../../src/app/server.js";
import type { RunningServer } from "../../src/app/server.js";
import type { HealthProbe } from "../../src/app/health.js";
import { APP_ID, captureLog, testPrivateKey } from "../helpers/github.js";
import { freePort } from "../helpers/net.js";

const SECRET = "test-webhook-secret";
let running: RunningServer | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function startApp(health?: HealthProbe[]) {
  const { log, lines } = captureLog("info");
  running = await start({
    env: { APP_ID: String(APP_ID), PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: SECRET },
    port: 0,
    host: "127.0.0.1",
    log,
    health,
    // A throw-away embedded database: these tests are about the server, not storage (see store-integration.test.ts).
    storage: { dataDir: "memory://" },
  });
  return { base: `http://127.0.0.1:${running.port}`, lines };
}

function sign(body: string, secret = SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

function webhookHeaders(body: string, signature = sign(body)): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-github-event": "pull_request",
    "x-github-delivery": "11111111-2222-3333-4444-555555555555",
    "x-hub-signature-256": signature,
  };
}

describe("the App server (npm start)", () => {
  it("listens on a free port and answers GET /healthz with the version", async () => {
    const { base } = await startApp();
    expect(running?.mode).toBe("app");
    expect(running?.port).toBeGreaterThan(0);
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({ status: "ok", version: "0.1.0", checks: { database: { ok: true, detail: "pglite" } } });
  });

  it("reports a failing health probe (the database seam) as 503", async () => {
    const { base } = await startApp([{ name: "database", check: async () => ({ ok: false, detail: "connection refused" }) }]);
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "degraded", checks: { database: { ok: false, detail: "connection refused" } } });
  });

  it("refuses a webhook with a bad signature with 400 and logs it", async () => {
    const { base, lines } = await startApp();
    const body = JSON.stringify({ action: "opened" });
    const response = await fetch(`${base}/api/github/webhooks`, { method: "POST", headers: webhookHeaders(body, sign(body, "wrong secret")), body });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/signature does not match/);
    expect(lines.some((l) => l.level >= 50 && /signature does not match|Webhook secret/.test(JSON.stringify(l)))).toBe(true);
  });

  it("refuses a malformed body with 400 and logs it", async () => {
    const { base, lines } = await startApp();
    const body = "{ not json";
    const response = await fetch(`${base}/api/github/webhooks`, { method: "POST", headers: webhookHeaders(body), body });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Invalid JSON/);
    expect(lines.some((l) => l.level >= 50 && /Invalid JSON/.test(JSON.stringify(l)))).toBe(true);
  });

  it("refuses a webhook without GitHub's headers with 400", async () => {
    const { base } = await startApp();
    const response = await fetch(`${base}/api/github/webhooks`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(response.status).toBe(400);
  });

  it("without credentials serves the setup page, which registers the App from app.yml", async () => {
    const port = await freePort();
    const { log } = captureLog("info");
    // No smee.io channel from a test: the setup flow would otherwise try to create one (test/app/setup.test.ts does, locally).
    running = await start({ env: { PORT: String(port), HOST: "127.0.0.1", NO_SMEE_SETUP: "true" }, log });
    expect(running.mode).toBe("setup");
    const response = await fetch(`http://127.0.0.1:${port}/probot`);
    expect(response.status).toBe(200);
    const html = await response.text();
    // The manifest posted to GitHub carries app.yml's name and least-privilege permissions.
    expect(html).toContain("Agent Gate");
    expect(html).toMatch(/default_permissions/);
    expect(html).toMatch(/members(&quot;|")\s*:\s*(&quot;|")read/);
    expect(html).not.toMatch(/administration/);
  });
});

describe("no default webhook secret", () => {
  const SERVER = fileURLToPath(new URL("../../src/app/server.ts", import.meta.url));

  /** `npm start` as an operator runs it, from an empty directory (no `.env` to pick a secret up from). */
  async function spawnServer(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const cwd = mkdtempSync(join(tmpdir(), "agent-gate-secret-"));
    try {
      const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), SERVER], {
        cwd,
        env: { PATH: process.env.PATH, APP_ID: String(APP_ID), PRIVATE_KEY: testPrivateKey(), AGENT_GATE_DATA_DIR: "memory://", LOG_FORMAT: "json", PORT: "0", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGTERM"), 20_000);
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(timer);
      return { code, stdout, stderr };
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }

  it("app mode refuses to start without WEBHOOK_SECRET: one line saying how to set it, exit 1, nothing listens", async () => {
    const { code, stdout, stderr } = await spawnServer({});
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^agent-gate: WEBHOOK_SECRET is not set: set it .*\.env.*openssl rand -hex 32/);
    expect(stdout).not.toMatch(/listening/i);
  }, 30_000);

  it("app mode refuses Probot's default secret \"development\" and a blank one, before opening the database", async () => {
    for (const secret of [undefined, "", "  ", "development"]) {
      const env: NodeJS.ProcessEnv = { APP_ID: String(APP_ID), PRIVATE_KEY: testPrivateKey() };
      if (secret !== undefined) env.WEBHOOK_SECRET = secret;
      // A database that cannot be reached: had start-up got that far, the error would be StoreUnavailableError.
      await expect(start({ env, port: 0, host: "127.0.0.1", log: captureLog("info").log, storage: { databaseUrl: "postgres://postgres@127.0.0.1:1/x" } })).rejects.toBeInstanceOf(StartupConfigError);
    }
  });

  it("a forged webhook signed with Probot's default secret is refused once a secret is set", async () => {
    const { base } = await startApp();
    const body = JSON.stringify({ action: "opened" });
    const response = await fetch(`${base}/api/github/webhooks`, { method: "POST", headers: webhookHeaders(body, sign(body, "development")), body });
    expect(response.status).toBe(400);
  });
});
