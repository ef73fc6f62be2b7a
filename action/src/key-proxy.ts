/**
 * Key holding: the agent gets a placeholder for each model API key; the egress proxy terminates TLS for that
 * API's hosts only (with the per-run CA's certificate), swaps the placeholder for the real key in the request
 * headers, and sends the request on over verified TLS to the address it vetted. Every other host stays an
 * opaque tunnel. The real key never enters the sandbox user's environment, files or processes.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { KeyPair } from "./certs.js";

/** One held key: the env name the agent knows it by, the hosts it is for, its value and the placeholder. */
export interface HeldKey {
  name: string;
  hosts: readonly string[];
  value: string;
  placeholder: string;
}

export function placeholderFor(name: string): string {
  return `agent-gate-placeholder-${name.toLowerCase().replace(/_/g, "-")}-${randomBytes(6).toString("hex")}`;
}

/** The model API hosts whose keys the action holds when agent-env names them (api-key-hosts adds more). */
export const KNOWN_KEY_HOSTS: Readonly<Record<string, readonly string[]>> = {
  OPENAI_API_KEY: ["api.openai.com"],
  CODEX_API_KEY: ["api.openai.com"],
  ANTHROPIC_API_KEY: ["api.anthropic.com"],
};

export interface KeyInjectorOptions {
  keys: readonly HeldKey[];
  /** The leaf certificate (for every key host) signed by the per-run CA. */
  leaf: KeyPair;
  /** TEST ONLY: the CA the fake model host's certificate chains to. Production verifies against the system store. */
  upstreamCa?: string;
}

export interface InjectedTunnel {
  bytesUp: number;
  bytesDown: number;
  /** Requests whose placeholder was replaced by the real key. */
  injected: number;
  requests: number;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

export class KeyInjector {
  private readonly byHost = new Map<string, HeldKey[]>();

  constructor(private readonly options: KeyInjectorOptions) {
    for (const key of options.keys) for (const host of key.hosts) this.byHost.set(host, [...(this.byHost.get(host) ?? []), key]);
  }

  /** Whether requests to `host` get a key. */
  holds(host: string): boolean {
    return this.byHost.has(host);
  }

  /** Hosts whose TLS the proxy terminates. */
  hosts(): string[] {
    return [...this.byHost.keys()];
  }

  /**
   * Serves one CONNECT tunnel (after the 200) as the API host: TLS with the per-run certificate, then each
   * HTTP/1.1 request forwarded to `address` with the key in place of the placeholder. `stats` is updated as
   * the tunnel runs (so a proxy closing early still records what was seen); resolves when the tunnel closes.
   */
  serve(client: Duplex, head: Buffer, target: { host: string; port: number }, address: string, stats: InjectedTunnel): Promise<void> {
    if (head.length > 0) client.unshift(head);
    const secure = new tls.TLSSocket(client, { isServer: true, key: this.options.leaf.key, cert: this.options.leaf.cert, ALPNProtocols: ["http/1.1"] });
    // Never listens: the decrypted tunnel is handed to it as a connection, so Node's HTTP parser reads the requests.
    const server = http.createServer((req, res) => this.forward(req, res, target, address, stats));
    return new Promise((resolve) => {
      const done = (): void => resolve();
      secure.on("error", () => secure.destroy());
      secure.on("close", done);
      client.on("close", () => secure.destroy());
      server.emit("connection", secure);
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, target: { host: string; port: number }, address: string, stats: InjectedTunnel): void {
    stats.requests++;
    const keys = this.byHost.get(target.host) ?? [];
    const headers: http.OutgoingHttpHeaders = {};
    let injected = false;
    for (const [name, value] of Object.entries(req.headers)) {
      if (HOP_BY_HOP.has(name) || value === undefined) continue;
      const swap = (v: string): string => keys.reduce((acc, k) => (acc.includes(k.placeholder) ? ((injected = true), acc.split(k.placeholder).join(k.value)) : acc), v);
      headers[name] = Array.isArray(value) ? value.map(swap) : swap(value);
    }
    if (injected) stats.injected++;
    // The Host header names the host the proxy vetted, whatever the agent wrote.
    headers.host = target.port === 443 ? target.host : `${target.host}:${target.port}`;
    if (req.headers["transfer-encoding"]) headers["transfer-encoding"] = req.headers["transfer-encoding"];
    const upstream = https.request({
      host: address,
      port: target.port,
      servername: target.host,
      method: req.method,
      path: req.url,
      headers,
      setHost: false,
      agent: false,
      ...(this.options.upstreamCa ? { ca: this.options.upstreamCa } : {}),
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain", connection: "close" }).end("Agent Gate egress proxy: upstream error\n");
      else res.destroy();
    });
    upstream.on("response", (upRes) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.on("data", (c: Buffer) => (stats.bytesDown += c.length));
      upRes.pipe(res);
    });
    req.on("data", (c: Buffer) => (stats.bytesUp += c.length));
    req.pipe(upstream);
  }
}
