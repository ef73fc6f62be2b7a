/**
 * The egress proxy the agent's traffic must go through: HTTP CONNECT (tunnelled TLS) and plain HTTP.
 * It allows only allowlisted host names, resolves them itself and connects to the address it vetted,
 * so a name that resolves to the runner, its private network or a cloud metadata service is refused
 * (DNS rebinding). Every attempt is recorded as a NetworkAttempt.
 */
import { lookup } from "node:dns/promises";
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { NetworkAttempt } from "../../src/telemetry/bundle.js";
import { MAX_CLIENT_HELLO, peekClientHello, type ClientHelloPeek } from "./client-hello.js";
import { socketOwner, type SocketOwner } from "./attribution.js";
import type { InjectedTunnel, KeyInjector } from "./key-proxy.js";
import { classifyAddress, matchAllowlist, normalizeHostName, type DomainRule } from "./hosts.js";

export type NetworkMode = "block" | "audit";
export type Resolver = (host: string) => Promise<string[]>;

export interface EgressProxyOptions {
  rules: readonly DomainRule[];
  mode: NetworkMode;
  /** Name resolution; defaults to the system resolver, every address. Injected by tests. */
  resolve?: Resolver;
  /** TEST ONLY: lets a fake allowlisted name reach a server on 127.0.0.1 / ::1. Never set by the action. */
  allowLoopbackUpstreams?: boolean;
  connectTimeoutMs?: number;
  /** Terminates TLS for the model API hosts whose keys the action holds (key-proxy.ts). */
  keyInjector?: KeyInjector;
  /**
   * Names the process behind a client connection (client port, proxy port); defaults to the /proc lookup on
   * Linux. Injected by tests; `null` turns attribution off.
   */
  identify?: ((clientPort: number, proxyPort: number) => Promise<SocketOwner | null>) | null;
  /** How long a tunnel may wait for the client's TLS ClientHello. */
  clientHelloTimeoutMs?: number;
  now?: () => Date;
  onAttempt?: (attempt: NetworkAttempt) => void;
}

interface AttemptStart {
  time: Date;
  host: string;
  port: number;
  method: string;
  /** The sandbox process behind the client socket, when /proc shows it. */
  process?: SocketOwner | null;
}

interface Verdict {
  allowed: boolean;
  reason: string;
  /** The vetted address to connect to (only when allowed). */
  address?: string;
}

export const systemResolver: Resolver = async (host) => {
  const results = await lookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
};

function errorCode(err: unknown): string {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string") return err.code;
  return err instanceof Error ? err.message : String(err);
}

/** Splits `host:port` / `[v6]:port` from a CONNECT target. */
export function parseAuthority(authority: string, defaultPort: number | null): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(authority.trim());
  if (!m) return null;
  const host = m[1] ?? m[2] ?? "";
  const port = m[3] !== undefined ? Number(m[3]) : defaultPort;
  if (port === null || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<Duplex>();
  private readonly log: NetworkAttempt[] = [];
  private readonly pending = new Set<() => void>();
  private readonly resolve: Resolver;
  private readonly now: () => Date;

  constructor(private readonly options: EgressProxyOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.now = options.now ?? (() => new Date());
    this.server = http.createServer();
    this.server.on("connection", (socket: net.Socket) => {
      // A client resetting a refused tunnel is not an error of the proxy's; finish() handles real closes.
      socket.on("error", () => undefined);
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server.on("request", (req, res) => void this.handleHttp(req, res));
    this.server.on("connect", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void this.handleConnect(req, socket, head));
    this.server.on("upgrade", (req: http.IncomingMessage, socket: Duplex) => {
      const target = parseTarget(req.url ?? "");
      this.record({ time: this.now(), host: target?.host ?? "", port: target?.port ?? 0, method: "HTTP" }, { allowed: false, reason: "upgrade-not-supported" }, 0, 0);
      socket.end("HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    });
    this.server.on("clientError", (_err, socket: Duplex) => socket.destroy());
  }

  /** Starts listening (loopback only by default) and returns the bound port. */
  async listen(port = 0, host = "127.0.0.1"): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("proxy did not bind a TCP port");
    return address.port;
  }

  /** Stops the proxy, cutting open tunnels and recording them with the bytes seen so far. */
  async close(): Promise<void> {
    for (const finish of [...this.pending]) finish();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Who is behind the request's connection, looked up while it is open; null when unknown (bounded: 2 s). */
  private async identifyClient(req: http.IncomingMessage): Promise<SocketOwner | null> {
    const identify = this.options.identify === undefined ? (process.platform === "linux" ? socketOwner : null) : this.options.identify;
    const clientPort = req.socket.remotePort;
    const local = req.socket.localPort;
    if (!identify || clientPort === undefined || local === undefined) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 2_000)));
    try {
      return await Promise.race([identify(clientPort, local).catch(() => null), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every attempt so far, in the order they started. */
  attempts(): NetworkAttempt[] {
    return [...this.log].sort((a, b) => a.time.localeCompare(b.time));
  }

  /** Decides whether `host:port` may be reached and, if so, at which address. */
  async decide(rawHost: string, port: number): Promise<Verdict> {
    const { mode, rules } = this.options;
    const audit = mode === "audit";
    const literal = ipLiteralOf(rawHost);
    if (literal === undefined) return { allowed: false, reason: "invalid-host" };
    if (literal !== null) {
      if (!audit) return { allowed: false, reason: "ip-literal" };
      const cls = classifyAddress(literal);
      return { allowed: true, reason: `audit-mode: ip-literal${cls ? `; private-address ${literal} (${cls})` : ""}`, address: literal };
    }
    const host = normalizeHostName(rawHost);
    if (host === null) return { allowed: false, reason: "invalid-host" };
    const rule = matchAllowlist(host, port, rules);
    // A name that is not allowlisted is never even resolved: DNS lookups are an exfiltration channel too.
    if (!rule && !audit) return { allowed: false, reason: "not-allowlisted" };
    let addresses: string[];
    try {
      addresses = await this.resolve(host);
    } catch (err) {
      return { allowed: false, reason: `dns-failure: ${errorCode(err)}` };
    }
    if (addresses.length === 0) return { allowed: false, reason: "dns-failure: no addresses" };
    // Fail closed on a mixed answer: one private address among public ones is a rebinding attempt.
    let flagged: string | null = null;
    let refused: string | null = null;
    for (const address of addresses) {
      const cls = classifyAddress(address);
      if (cls === null) continue;
      flagged ??= `private-address ${address} (${cls})`;
      if (cls === "loopback" && this.options.allowLoopbackUpstreams) continue;
      refused ??= `private-address ${address} (${cls})`;
    }
    const address = addresses[0];
    if (audit) {
      const parts = [`audit-mode: ${rule ? "allowlisted" : "not-allowlisted"}`];
      if (flagged) parts.push(flagged);
      return { allowed: true, reason: parts.join("; "), ...(address ? { address } : {}) };
    }
    if (refused) return { allowed: false, reason: refused };
    return { allowed: true, reason: "allowlisted", ...(address ? { address } : {}) };
  }

  private record(start: AttemptStart, verdict: Verdict, bytesUp: number, bytesDown: number, note?: string): void {
    const attempt: NetworkAttempt = {
      time: start.time.toISOString(),
      host: start.host.slice(0, 255),
      port: start.port,
      method: start.method,
      allowed: verdict.allowed,
      reason: note ? `${verdict.reason}; ${note}` : verdict.reason,
      ...(verdict.address ? { address: verdict.address } : {}),
      ...(start.process ? { process: start.process } : {}),
      bytesUp,
      bytesDown,
    };
    this.log.push(attempt);
    this.options.onAttempt?.(attempt);
  }

  private async handleConnect(req: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const time = this.now();
    const target = parseAuthority(req.url ?? "", null);
    if (!target) {
      this.record({ time, host: String(req.url ?? "").slice(0, 255), port: 0, method: "CONNECT" }, { allowed: false, reason: "bad-request" }, 0, 0);
      client.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const start: AttemptStart = { time, host: target.host, port: target.port, method: "CONNECT", process: await this.identifyClient(req) };
    const verdict = await this.decide(target.host, target.port);
    if (!verdict.allowed || !verdict.address) {
      this.record(start, verdict, 0, 0);
      const body = refusalText(target.host, target.port, verdict.reason);
      client.end(`HTTP/1.1 403 Forbidden\r\nX-Agent-Gate: blocked\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const host = normalizeHostName(target.host);
    if (host && this.options.keyInjector?.holds(host)) this.injectKey(start, verdict, { host, port: target.port }, verdict.address, client, head);
    else this.tunnel(start, verdict, verdict.address, client, head);
  }

  /** A tunnel to a model API host whose key the proxy holds: terminated here, the key added, sent on over TLS. */
  private injectKey(start: AttemptStart, verdict: Verdict, target: { host: string; port: number }, address: string, client: Duplex, head: Buffer): void {
    const injector = this.options.keyInjector;
    if (!injector) return;
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    let done = false;
    const stats: InjectedTunnel = { bytesUp: 0, bytesDown: 0, injected: 0, requests: 0 };
    const finish = (): void => {
      if (done) return;
      done = true;
      this.pending.delete(finish);
      this.record(start, verdict, stats.bytesUp, stats.bytesDown, `api key held by the proxy: added to ${stats.injected} of ${stats.requests} request(s)`);
      client.destroy();
    };
    this.pending.add(finish);
    void injector.serve(client, head, target, address, stats).then(finish);
  }

  /** Connects to the vetted address, answers 200, checks the ClientHello's SNI, then relays both ways. */
  private tunnel(start: AttemptStart, verdict: Verdict, address: string, client: Duplex, head: Buffer): void {
    const counts = { up: 0, down: 0 };
    let note: string | undefined;
    let done = false;
    let connected = false;
    const upstream = net.connect({ host: address, port: start.port });
    this.sockets.add(upstream);
    const finish = (): void => {
      if (done) return;
      done = true;
      this.pending.delete(finish);
      this.sockets.delete(upstream);
      this.record(start, verdict, counts.up, counts.down, note);
      client.destroy();
      upstream.destroy();
    };
    this.pending.add(finish);
    upstream.setTimeout(this.options.connectTimeoutMs ?? 30_000, () => {
      note ??= "upstream-error: ETIMEDOUT";
      finish();
    });
    upstream.once("connect", () => {
      connected = true;
      upstream.setTimeout(0);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      void readClientHello(client, head, this.options.clientHelloTimeoutMs ?? 10_000).then(({ peek, buffered }) => {
        if (done) return;
        const problem = sniProblem(peek, start.host);
        if (problem && this.options.mode === "block") {
          verdict = { allowed: false, reason: problem };
          finish();
          return;
        }
        if (problem) note = `audit-mode: ${problem}`;
        counts.up += buffered.length;
        upstream.write(buffered);
        client.on("data", (chunk: Buffer) => (counts.up += chunk.length));
        upstream.on("data", (chunk: Buffer) => (counts.down += chunk.length));
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
    upstream.on("error", (err) => {
      if (!connected) {
        note ??= `upstream-error: ${errorCode(err)}`;
        if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      }
      finish();
    });
    client.on("error", finish);
    upstream.on("close", finish);
    client.on("close", finish);
  }

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const time = this.now();
    const target = parseTarget(req.url ?? "");
    if (!target) {
      this.record({ time, host: "", port: 0, method: "HTTP" }, { allowed: false, reason: "bad-request: not an absolute http:// URL" }, 0, 0);
      res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("Agent Gate egress proxy: expected an absolute http:// URL or CONNECT\n");
      return;
    }
    const start: AttemptStart = { time, host: target.host, port: target.port, method: "HTTP", process: await this.identifyClient(req) };
    const verdict = await this.decide(target.host, target.port);
    if (!verdict.allowed || !verdict.address) {
      this.record(start, verdict, 0, 0);
      req.resume();
      res.writeHead(403, { "content-type": "text/plain", "x-agent-gate": "blocked", connection: "close" }).end(refusalText(target.host, target.port, verdict.reason));
      return;
    }
    let up = 0;
    let down = 0;
    let note: string | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.pending.delete(finish);
      this.record(start, verdict, up, down, note);
    };
    this.pending.add(finish);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    // The Host header must name the host we vetted, not another tenant behind the same address.
    headers.host = target.port === 80 ? target.hostHeader : `${target.hostHeader}:${target.port}`;
    if (req.headers["transfer-encoding"]) headers["transfer-encoding"] = req.headers["transfer-encoding"];
    const upstream = http.request({
      host: verdict.address,
      port: target.port,
      method: req.method,
      path: target.path,
      headers,
      setHost: false,
      timeout: this.options.connectTimeoutMs ?? 30_000,
    });
    upstream.on("timeout", () => {
      note ??= "upstream-error: ETIMEDOUT";
      upstream.destroy(new Error("ETIMEDOUT"));
    });
    upstream.on("error", (err) => {
      note ??= `upstream-error: ${errorCode(err)}`;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain", connection: "close" }).end("Agent Gate egress proxy: upstream error\n");
      else res.destroy();
      finish();
    });
    upstream.on("response", (upRes) => {
      const outHeaders: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upRes.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) outHeaders[name] = value;
      }
      res.writeHead(upRes.statusCode ?? 502, outHeaders);
      upRes.on("data", (chunk: Buffer) => (down += chunk.length));
      upRes.pipe(res);
      upRes.on("end", finish);
      upRes.on("error", finish);
    });
    req.on("data", (chunk: Buffer) => (up += chunk.length));
    req.pipe(upstream);
    res.on("close", finish);
  }
}

function parseTarget(url: string): { host: string; hostHeader: string; port: number; path: string } | null {
  if (!/^http:\/\//i.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username || parsed.password) return null;
  const port = parsed.port ? Number(parsed.port) : 80;
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), hostHeader: parsed.hostname, port, path: `${parsed.pathname}${parsed.search}` };
}

function refusalText(host: string, port: number, reason: string): string {
  return `Agent Gate egress proxy refused ${host}:${port} (${reason}). Ask the workflow owner to add the host to allowed-domains.\n`;
}

/**
 * Collects what the client sends into the tunnel until its ClientHello is complete (or clearly not TLS, too
 * big, or late). The client is paused afterwards so nothing is lost before the caller starts relaying.
 */
function readClientHello(client: Duplex, head: Buffer, timeoutMs: number): Promise<{ peek: ClientHelloPeek | { status: "timeout" }; buffered: Buffer }> {
  return new Promise((resolve) => {
    let buffered = head;
    let settled = false;
    const settle = (peek: ClientHelloPeek | { status: "timeout" }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off("data", onData);
      client.off("end", onEnd);
      client.pause();
      resolve({ peek, buffered });
    };
    const check = (): void => {
      const peek = peekClientHello(buffered);
      if (peek.status !== "need-more") settle(peek);
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_CLIENT_HELLO) settle({ status: "not-tls" });
      else check();
    };
    const onEnd = (): void => settle({ status: "timeout" });
    const timer = setTimeout(() => settle({ status: "timeout" }), timeoutMs);
    client.on("data", onData);
    client.on("end", onEnd);
    if (buffered.length > 0) check();
  });
}

/** Why a tunnel's first bytes are refused (block mode) or flagged (audit mode); null when the SNI names the CONNECT host. */
export function sniProblem(peek: ClientHelloPeek | { status: "timeout" }, connectHost: string): string | null {
  switch (peek.status) {
    case "timeout":
    case "need-more":
      return "no-client-hello: the tunnel carried no TLS handshake";
    case "not-tls":
      return "not-tls: only TLS may be tunnelled";
    case "ok": {
      if (peek.sni === null) return "sni-missing";
      const sni = normalizeHostName(peek.sni);
      const host = normalizeHostName(connectHost) ?? connectHost.toLowerCase();
      return sni === host ? null : `sni-mismatch: ${peek.sni.slice(0, 100)}`;
    }
  }
}

/**
 * The address an IP literal in any notation stands for (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, `[::1]`),
 * as the WHATWG URL parser — what curl, browsers and Node's fetch follow — reads a host; null for a name;
 * undefined for a host the URL parser rejects (`a.123`: a last label that is a number but not an address).
 */
export function ipLiteralOf(rawHost: string): string | null | undefined {
  const bare = rawHost.replace(/^\[|\]$/g, "");
  if (net.isIP(bare) !== 0) return bare;
  let hostname: string;
  try {
    hostname = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
  return net.isIP(hostname) !== 0 ? hostname : null;
}
