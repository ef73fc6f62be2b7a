// Setup mode end to end: the page a new user opens after `npm start`, parsed with a real HTML parser (parse5, the
// WHATWG algorithm browsers use) so the manifest is read exactly as the browser would post it; the webhook proxy
// channel; GitHub's code exchange (faked with nock, answering GitHub's own example); the restart into app mode.
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEnv } from "node:util";
import nock from "nock";
import { parse as parseHtml } from "parse5";
import type { DefaultTreeAdapterMap } from "parse5";
import { SmeeClient } from "smee-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { start } from "../../src/app/server.js";
import type { RunningServer, StartOptions } from "../../src/app/server.js";
import { captureLog, testPrivateKey } from "../helpers/github.js";

type Element = DefaultTreeAdapterMap["element"];
type Node = DefaultTreeAdapterMap["node"];

const REPO_APP_YML = path.resolve(import.meta.dirname, "..", "..", "app.yml");
const CONVERSION = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "..", "fixtures", "github", "app-manifest-conversion.json"), "utf8")) as Record<string, unknown>;

let running: RunningServer | undefined;
let dir: string;
const servers: HttpServer[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "agent-gate-setup-"));
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function startSetup(env: NodeJS.ProcessEnv, setup: StartOptions["setup"] = {}) {
  const { log, lines } = captureLog("info");
  running = await start({ env, port: 0, host: "127.0.0.1", log, setup: { envFile: path.join(dir, ".env"), ...setup } });
  expect(running.mode).toBe("setup");
  return { base: `http://127.0.0.1:${running.port}`, lines };
}

function elements(node: Node, out: Element[] = []): Element[] {
  if ("tagName" in node) out.push(node);
  if ("childNodes" in node) for (const child of node.childNodes) elements(child, out);
  if ("content" in node && node.content) elements(node.content, out);
  return out;
}

const attr = (el: Element, name: string) => el.attrs.find((a) => a.name === name)?.value;

/** What the browser would post: the form's action, and the `manifest` button's value as parsed from the page. */
async function readPage(base: string) {
  const response = await fetch(`${base}/probot`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/html/);
  const all = elements(parseHtml(await response.text()));
  const form = all.find((el) => el.tagName === "form");
  const button = all.find((el) => el.tagName === "button" && attr(el, "name") === "manifest");
  expect(form && button).toBeTruthy();
  const problem = all.find((el) => attr(el, "id") === "problem");
  const text = (el: Element | undefined): string | undefined => (el ? el.childNodes.map((c) => ("value" in c ? c.value : "")).join("") : undefined);
  return {
    action: new URL(attr(form!, "action")!),
    method: attr(form!, "method"),
    manifest: JSON.parse(attr(button!, "value")!) as Record<string, unknown> & { hook_attributes: { url: string }; redirect_url: string },
    disabled: attr(button!, "disabled") !== undefined,
    problem: text(problem),
    scripts: all.filter((el) => el.tagName === "script").length,
  };
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

describe("setup mode: the page that registers the App", () => {
  it("posts app.yml's manifest intact (apostrophes and all), with the proxy channel as webhook URL", async () => {
    const channel = "https://smee.io/agentGateTestChannel";
    const { base } = await startSetup({ WEBHOOK_PROXY_URL: channel });
    const page = await readPage(base);
    const appYml = parseYaml(readFileSync(REPO_APP_YML, "utf8")) as Record<string, unknown>;

    expect(page.method).toBe("post");
    expect(`${page.action.origin}${page.action.pathname}`).toBe("https://github.com/settings/apps/new");
    expect(page.action.searchParams.get("state")).toMatch(/^[0-9a-f]{32}$/);
    expect(page.disabled).toBe(false);
    expect(page.problem).toBeUndefined();
    expect(page.manifest).toEqual({ ...appYml, public: false, hook_attributes: { active: true, url: channel }, redirect_url: `${base}/probot/setup` });
    expect(page.manifest.description).toContain("agent's");
    expect(page.manifest.default_permissions).toMatchObject({ members: "read", checks: "write" });
    // issue_comment (the override command) is delivered only with Issues read access; the App writes no issue.
    expect(page.manifest.default_events).toContain("issue_comment");
    expect(page.manifest.default_permissions).toMatchObject({ issues: "read" });
    expect(JSON.stringify(page.manifest)).not.toMatch(/administration/);
  });

  it("escapes whatever the manifest says: quotes, ampersands and markup come back as written, nothing runs", async () => {
    const manifestFile = path.join(dir, "app.yml");
    const description = `It's "quoted" & <script>alert('x')</script> </button><b>`;
    writeFileSync(manifestFile, `name: Test's App\ndescription: ${JSON.stringify(description)}\nurl: https://example.com\n`);
    const { base } = await startSetup({ WEBHOOK_PROXY_URL: "https://smee.io/x" }, { manifestFile });
    const page = await readPage(base);
    expect(page.manifest.description).toBe(description);
    expect(page.manifest.name).toBe("Test's App");
    expect(page.scripts).toBe(0);
  });

  it("without a proxy channel on localhost it says GitHub cannot deliver there and disables the button", async () => {
    const { base } = await startSetup({ NO_SMEE_SETUP: "true" });
    const page = await readPage(base);
    expect(page.manifest.hook_attributes.url).toBe(`${base}/api/github/webhooks`);
    expect(page.disabled).toBe(true);
    expect(page.problem).toMatch(/^GitHub cannot deliver webhooks to http:\/\/127\.0\.0\.1:\d+\/api\/github\/webhooks\. Set WEBHOOK_PROXY_URL/);
  });

  it("behind a public host (a deployment) the webhook URL is that host's webhook path", async () => {
    const { base } = await startSetup({ NODE_ENV: "production" });
    const response = await fetch(`${base}/probot`, { headers: { "x-forwarded-proto": "https", "x-forwarded-host": "gate.example.com" } });
    const button = elements(parseHtml(await response.text())).find((el) => attr(el, "name") === "manifest")!;
    const manifest = JSON.parse(attr(button, "value")!) as { hook_attributes: { url: string }; redirect_url: string };
    expect(manifest.hook_attributes.url).toBe("https://gate.example.com/api/github/webhooks");
    expect(manifest.redirect_url).toBe("https://gate.example.com/probot/setup");
    expect(attr(button, "disabled")).toBeUndefined();
  });

  it("creates a smee channel (smee-client against a local stand-in for smee.io/new) and saves it to .env", async () => {
    const newChannel = await listen((req, res) => {
      expect(req.method).toBe("HEAD");
      res.writeHead(307, { location: "https://smee.io/NewChannel42" }).end();
    });
    const env: NodeJS.ProcessEnv = {};
    const { base } = await startSetup(env, { channels: { createChannel: () => SmeeClient.createChannel({ newChannelUrl: `${newChannel}/new` }) } });
    expect((await readPage(base)).manifest.hook_attributes.url).toBe("https://smee.io/NewChannel42");
    expect(parseEnv(readFileSync(path.join(dir, ".env"), "utf8"))).toEqual({ WEBHOOK_PROXY_URL: "https://smee.io/NewChannel42" });
    expect(env.WEBHOOK_PROXY_URL).toBe("https://smee.io/NewChannel42");
  });
});

describe("setup mode: GitHub's redirect back, and the restart", () => {
  it("exchanges the code, writes the credentials to .env (0600), redirects to the install page; the restart serves the App", async () => {
    const key = testPrivateKey();
    const conversion = nock("https://api.github.com").post("/app-manifests/the-code/conversions").reply(201, { ...CONVERSION, pem: key });
    const { base } = await startSetup({ WEBHOOK_PROXY_URL: "https://smee.io/abc" });
    const state = (await readPage(base)).action.searchParams.get("state")!;

    const response = await fetch(`${base}/probot/setup?code=the-code&state=${state}`, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("https://github.com/apps/octoapp/installations/new");
    expect(conversion.isDone()).toBe(true);

    const envFile = path.join(dir, ".env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const saved = parseEnv(readFileSync(envFile, "utf8"));
    expect(saved).toEqual({
      APP_ID: "1",
      APP_SLUG: "octoapp",
      PRIVATE_KEY: key,
      WEBHOOK_SECRET: CONVERSION.webhook_secret,
      GITHUB_CLIENT_ID: CONVERSION.client_id,
      GITHUB_CLIENT_SECRET: CONVERSION.client_secret,
    });

    await running!.stop();
    const { log } = captureLog("info");
    running = await start({ env: { ...saved }, port: 0, host: "127.0.0.1", log, storage: { dataDir: "memory://" } });
    expect(running.mode).toBe("app");
    expect((await fetch(`http://127.0.0.1:${running.port}/healthz`)).status).toBe(200);
  });

  it("refuses a code that comes with another page's state (CSRF), and writes nothing", async () => {
    const conversion = nock("https://api.github.com").post(/\/app-manifests\/.*\/conversions/).reply(201, CONVERSION);
    const { base } = await startSetup({ WEBHOOK_PROXY_URL: "https://smee.io/abc" });
    for (const query of ["code=attacker&state=0123456789abcdef0123456789abcdef", "code=attacker", "state=x"]) {
      const response = await fetch(`${base}/probot/setup?${query}`, { redirect: "manual" });
      expect(response.status).toBe(400);
    }
    expect(conversion.isDone()).toBe(false);
    expect(() => statSync(path.join(dir, ".env"))).toThrow();
  });

  it("a code GitHub refuses is a 502 that says why, and .env is left alone", async () => {
    nock("https://api.github.com").post("/app-manifests/stale/conversions").reply(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
    const { base, lines } = await startSetup({ WEBHOOK_PROXY_URL: "https://smee.io/abc" });
    const state = (await readPage(base)).action.searchParams.get("state")!;
    const response = await fetch(`${base}/probot/setup?code=stale&state=${state}`, { redirect: "manual" });
    expect(response.status).toBe(502);
    expect(await response.text()).toMatch(/answered 404: Not Found/);
    expect(() => statSync(path.join(dir, ".env"))).toThrow();
    expect(lines.some((l) => l.level >= 50)).toBe(true);
  });
});

describe("app mode with WEBHOOK_PROXY_URL: deliveries through the channel", () => {
  it("smee-client forwards the channel's events to the webhook path, where the signature is checked", async () => {
    const secret = "proxy-test-secret";
    let channel: ServerResponse | undefined;
    let opened!: () => void;
    const connected = new Promise<void>((resolve) => (opened = resolve));
    const proxyBase = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(": ready\n\n");
      channel = res;
      opened();
    });
    const { log, lines } = captureLog("info");
    const env = { APP_ID: "4242", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: secret, WEBHOOK_PROXY_URL: `${proxyBase}/channel` };
    running = await start({ env, port: 0, host: "127.0.0.1", log, storage: { dataDir: "memory://" } });
    await connected;

    const send = (body: unknown, key: string, delivery: string) => {
      const raw = JSON.stringify(body);
      const event = { "x-github-event": "ping", "x-github-delivery": delivery, "x-hub-signature-256": `sha256=${createHmac("sha256", key).update(raw).digest("hex")}`, body };
      channel!.write(`data: ${JSON.stringify(event)}\n\n`);
    };
    const forwarded = (status: number) => lines.some((l) => new RegExp(`POST http://127\\.0\\.0\\.1:${running!.port}/api/github/webhooks - ${status}`).test(JSON.stringify(l)));
    send({ zen: "Design for failure.", hook_id: 1 }, secret, "00000000-0000-0000-0000-000000000001");
    send({ zen: "Forged.", hook_id: 2 }, "not-the-secret", "00000000-0000-0000-0000-000000000002");
    await expect.poll(() => forwarded(200), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => forwarded(400), { timeout: 10_000 }).toBe(true);
  });
});
