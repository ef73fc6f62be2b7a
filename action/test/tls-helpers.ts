/** TLS fixtures for the proxy tests: a local HTTPS "upstream" with a certificate from a throwaway CA (openssl). */
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import net from "node:net";
import tls from "node:tls";
import { makeRunCertificates } from "../src/certs.js";

export interface TlsUpstream {
  server: https.Server;
  port: number;
  ca: string;
  /** Requests the upstream saw: method, path, host and authorization-ish headers. */
  seen: Array<{ method: string; path: string; host: string; authorization?: string; apiKey?: string }>;
  close(): Promise<void>;
}

/** An HTTPS server answering for `hosts`, whose CA the caller can trust. */
export async function startTlsUpstream(hosts: string[], answer?: (req: IncomingMessage) => { status: number; body: string }): Promise<TlsUpstream> {
  const { ca, leaf } = await makeRunCertificates(hosts);
  const seen: TlsUpstream["seen"] = [];
  const server = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
    const auth = req.headers.authorization;
    const apiKey = req.headers["x-api-key"];
    seen.push({ method: req.method ?? "", path: req.url ?? "", host: String(req.headers.host), ...(auth ? { authorization: auth } : {}), ...(typeof apiKey === "string" ? { apiKey } : {}) });
    req.resume();
    req.on("end", () => {
      const out = answer ? answer(req) : { status: 200, body: `tls hello ${req.url}` };
      res.writeHead(out.status, { "content-type": "text/plain", "content-length": Buffer.byteLength(out.body) }).end(out.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { server, port, ca: ca.cert, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * CONNECT through the proxy to `authority`, then TLS with `servername` (empty: no SNI) trusting `ca`, then one GET.
 * Resolves with the CONNECT status and the HTTP response (or the TLS error code).
 */
export function connectTls(proxyPort: number, authority: string, servername: string, ca: string, request?: { path?: string; headers?: Record<string, string> }): Promise<{ connect: number; status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(proxyPort, "127.0.0.1");
    let head = "";
    const onData = (c: Buffer): void => {
      head += c.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      const connect = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (connect !== 200) {
        resolve({ connect, status: 0, body: head.split("\r\n\r\n").slice(1).join("") });
        socket.destroy();
        return;
      }
      const secure = tls.connect({ socket, servername, ca, ALPNProtocols: ["http/1.1"] });
      let text = "";
      secure.on("secureConnect", () => {
        const headers = Object.entries({ host: authority.replace(/:443$/, ""), connection: "close", ...request?.headers }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
        secure.write(`GET ${request?.path ?? "/"} HTTP/1.1\r\n${headers}\r\n`);
      });
      secure.on("data", (d: Buffer) => (text += d.toString()));
      secure.on("error", (err: NodeJS.ErrnoException) => resolve({ connect, status: 0, body: text, error: err.code ?? err.message }));
      secure.on("close", () => resolve({ connect, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.split("\r\n\r\n").slice(1).join("\r\n\r\n") }));
    };
    socket.on("data", onData);
    socket.on("error", (err: NodeJS.ErrnoException) => resolve({ connect: 0, status: 0, body: "", error: err.code ?? err.message }));
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

/** The first bytes a real Node TLS client sends (its ClientHello), captured by a plain TCP server. */
export async function captureClientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => server.once("connection", (s) => s.once("data", (d: Buffer) => (resolve(d), s.destroy()))));
  const client = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
  client.on("error", () => undefined);
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}
