/**
 * Domain fronting through the egress proxy: CONNECT names an allowed host, the TLS handshake inside names another.
 * The proxy reads the ClientHello's SNI before relaying a byte and refuses a mismatch, a missing SNI and non-TLS.
 * Real TLS on loopback only: a local HTTPS upstream with a throwaway CA, a real Node TLS client.
 */
import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { peekClientHello } from "../src/client-hello.js";
import { parseAllowedDomains } from "../src/hosts.js";
import { EgressProxy, sniProblem, type NetworkMode } from "../src/proxy.js";
import { captureClientHello, connectTls, startTlsUpstream, type TlsUpstream } from "./tls-helpers.js";

let upstream: TlsUpstream;
beforeAll(async () => {
  upstream = await startTlsUpstream(["api.allowed.test", "fronted.other.test"]);
});
afterAll(() => upstream.close());

const proxies: EgressProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function startProxy(mode: NetworkMode = "block"): Promise<{ proxy: EgressProxy; port: number }> {
  const proxy = new EgressProxy({
    rules: parseAllowedDomains(`api.allowed.test:${upstream.port}`),
    mode,
    resolve: async () => ["127.0.0.1"],
    allowLoopbackUpstreams: true,
    clientHelloTimeoutMs: 1_000,
  });
  proxies.push(proxy);
  return { proxy, port: await proxy.listen() };
}

describe("the ClientHello's server name", () => {
  it("is read from a real Node ClientHello, also when fragmented over several TLS records", async () => {
    const hello = await captureClientHello("api.allowed.test");
    expect(peekClientHello(hello)).toEqual({ status: "ok", sni: "api.allowed.test" });
    expect(peekClientHello(hello.subarray(0, 40))).toEqual({ status: "need-more" });
    // Re-frame the same handshake message as two records, as RFC 8446 §5.1 allows.
    const body = hello.subarray(5);
    const record = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
    const split = Buffer.concat([record(body.subarray(0, 50)), record(body.subarray(50))]);
    expect(peekClientHello(split)).toEqual({ status: "ok", sni: "api.allowed.test" });
    expect(peekClientHello(Buffer.from("GET / HTTP/1.1\r\n"))).toEqual({ status: "not-tls" });
  });

  it("a ClientHello without SNI (connecting by IP) says so", async () => {
    const hello = await captureClientHello("");
    expect(peekClientHello(hello)).toEqual({ status: "ok", sni: null });
    expect(sniProblem({ status: "ok", sni: null }, "api.allowed.test")).toBe("sni-missing");
    expect(sniProblem({ status: "ok", sni: "API.allowed.test." }, "api.allowed.test")).toBeNull();
  });
});

describe("egress proxy: SNI must match the CONNECT host", () => {
  it("a tunnel whose SNI is the CONNECT host passes and reaches the upstream", async () => {
    const { proxy, port } = await startProxy();
    const res = await connectTls(port, `api.allowed.test:${upstream.port}`, "api.allowed.test", upstream.ca, { path: "/ok" });
    expect(res).toMatchObject({ connect: 200, status: 200, body: "tls hello /ok" });
    await proxy.close();
    expect(proxy.attempts()).toEqual([expect.objectContaining({ host: "api.allowed.test", method: "CONNECT", allowed: true, reason: "allowlisted" })]);
  });

  it("domain fronting (CONNECT to the allowed host, SNI of another) is refused before a byte reaches the upstream", async () => {
    const { proxy, port } = await startProxy();
    const before = upstream.seen.length;
    const res = await connectTls(port, `api.allowed.test:${upstream.port}`, "fronted.other.test", upstream.ca, { path: "/fronted" });
    expect(res.status).toBe(0);
    expect(res.error).toBeDefined();
    expect(upstream.seen.length).toBe(before);
    await proxy.close();
    expect(proxy.attempts()).toEqual([expect.objectContaining({ host: "api.allowed.test", allowed: false, reason: "sni-mismatch: fronted.other.test", bytesUp: 0 })]);
  });

  it("a handshake without SNI, and plain bytes instead of TLS, are refused", async () => {
    const { proxy, port } = await startProxy();
    const noSni = await connectTls(port, `api.allowed.test:${upstream.port}`, "", upstream.ca);
    expect(noSni.status).toBe(0);
    const plain = await new Promise<string>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let text = "";
      s.on("data", (c: Buffer) => {
        text += c.toString();
        if (text.endsWith("\r\n\r\n")) s.write(`GET / HTTP/1.1\r\nHost: api.allowed.test\r\n\r\n`);
      });
      s.on("close", () => resolve(text));
      s.on("error", () => undefined);
      s.write(`CONNECT api.allowed.test:${upstream.port} HTTP/1.1\r\n\r\n`);
    });
    expect(plain).toBe("HTTP/1.1 200 Connection Established\r\n\r\n");
    await proxy.close();
    expect(proxy.attempts().map((a) => `${a.allowed} ${a.reason}`)).toEqual(["false sni-missing", "false not-tls: only TLS may be tunnelled"]);
  });

  it("audit mode lets a mismatch through but flags it", async () => {
    const { proxy, port } = await startProxy("audit");
    const res = await connectTls(port, `api.allowed.test:${upstream.port}`, "fronted.other.test", upstream.ca, { path: "/audit" });
    expect(res.status).toBe(200);
    await proxy.close();
    expect(proxy.attempts()[0]).toMatchObject({ allowed: true, reason: "audit-mode: allowlisted; private-address 127.0.0.1 (loopback); audit-mode: sni-mismatch: fronted.other.test" });
  });
});

describe("egress proxy: IP literals in any notation", () => {
  it.each(["127.0.0.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "127.1", "[::1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]"])("%s is refused as an IP literal on CONNECT", async (host) => {
    const { ipLiteralOf } = await import("../src/proxy.js");
    expect(ipLiteralOf(host)).not.toBeNull();
    const proxy = new EgressProxy({ rules: parseAllowedDomains("allowed.test"), mode: "block", resolve: async () => ["127.0.0.1"], allowLoopbackUpstreams: true });
    proxies.push(proxy);
    const port = await proxy.listen();
    const status = await new Promise<string>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let text = "";
      s.on("data", (c: Buffer) => (text += c.toString()));
      s.on("close", () => resolve(text.split("\r\n")[0] ?? ""));
      s.write(`CONNECT ${host}:443 HTTP/1.1\r\n\r\n`);
    });
    expect(status).toBe("HTTP/1.1 403 Forbidden");
    expect(proxy.attempts()[0]?.reason).toBe("ip-literal");
  });

  it("names stay names, and a host the URL parser rejects is invalid", async () => {
    const { ipLiteralOf } = await import("../src/proxy.js");
    expect(ipLiteralOf("api.openai.com")).toBeNull();
    expect(ipLiteralOf("0x7f.example.com")).toBeNull();
    expect(ipLiteralOf("2130706433")).toBe("127.0.0.1");
    expect(ipLiteralOf("a.123")).toBeUndefined();
  });
});
