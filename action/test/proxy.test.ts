import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { networkAttemptSchema } from "../../src/telemetry/bundle.js";
import { classifyAddress, embeddedIPv4, matchAllowlist, parseAllowedDomains, parseDomainRule } from "../src/hosts.js";
import { EgressProxy, type EgressProxyOptions } from "../src/proxy.js";
import { connectTls, startTlsUpstream } from "./tls-helpers.js";

let upstream: http.Server;
let upstreamPort = 0;
const seenHosts: string[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seenHosts.push(String(req.headers.host));
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => res.end(`hello ${req.method} ${req.url} ${body}`));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamPort = (upstream.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

const proxies: EgressProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

/** A resolver that knows a few fake names, like a hostile DNS server would answer them. */
const fakeDns: Record<string, string[]> = {
  "allowed.test": ["127.0.0.1"],
  "api.allowed.test": ["127.0.0.1"],
  "rebind.allowed.test": ["93.184.216.34", "10.0.0.5"],
  "metadata.allowed.test": ["169.254.169.254"],
  "mapped.allowed.test": ["::ffff:127.0.0.1"],
  "private.allowed.test": ["192.168.1.10"],
  "other.test": ["127.0.0.1"],
};
const resolved: string[] = [];
const resolve = async (host: string): Promise<string[]> => {
  resolved.push(host);
  const a = fakeDns[host];
  if (!a) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return a;
};

async function startProxy(opts: Partial<EgressProxyOptions> & { domains: string }): Promise<{ proxy: EgressProxy; port: number }> {
  const proxy = new EgressProxy({ rules: parseAllowedDomains(opts.domains), mode: opts.mode ?? "block", resolve, allowLoopbackUpstreams: opts.allowLoopbackUpstreams ?? true });
  proxies.push(proxy);
  const port = await proxy.listen();
  return { proxy, port };
}

// Raw sockets rather than http.request: the test setup's nock intercepts http.request and cannot proxy.
function rawExchange(proxyPort: number, request: string, afterConnect?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveP, reject) => {
    const socket = net.connect(proxyPort, "127.0.0.1");
    let text = "";
    let tunnelled = false;
    socket.on("data", (c: Buffer) => {
      text += c.toString();
      if (afterConnect && !tunnelled && text.startsWith("HTTP/1.1 200") && text.includes("\r\n\r\n")) {
        tunnelled = true;
        text = "";
        socket.write(afterConnect);
      }
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const status = afterConnect && tunnelled ? 200 : Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolveP({ status, body: text.split("\r\n\r\n").slice(1).join("\r\n\r\n") });
    });
    socket.write(request);
  });
}

function viaHttp(proxyPort: number, url: string, body = ""): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const head = `${body ? "POST" : "GET"} ${url} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`;
  return rawExchange(proxyPort, head + body);
}

function viaConnect(proxyPort: number, authority: string): Promise<{ status: number; body: string }> {
  return rawExchange(proxyPort, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`, `GET /tunnelled HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
}

describe("allowed-domains parsing and wildcard matching", () => {
  it.each([
    // [entry, host, port, matches]
    ["example.com", "example.com", 443, true],
    ["example.com", "EXAMPLE.com.", 443, true],
    ["example.com", "www.example.com", 443, false],
    ["example.com", "example.com", 22, false],
    ["*.example.com", "a.example.com", 443, true],
    ["*.example.com", "a.b.example.com", 80, true],
    ["*.example.com", "example.com", 443, false],
    ["*.example.com", "evil-example.com", 443, false],
    ["*.example.com", "example.com.evil.net", 443, false],
    ["*.example.com", "aexample.com", 443, false],
    ["example.com:8443", "example.com", 8443, true],
    ["example.com:8443", "example.com", 443, false],
    ["*.example.com:8443", "x.example.com", 8443, true],
  ] as const)("%s vs %s:%d -> %s", (entry, host, port, expected) => {
    expect(matchAllowlist(host, port, [parseDomainRule(entry)]) !== null).toBe(expected);
  });

  it("parses lines, commas and comments and rejects URLs, IP literals and bad wildcards", () => {
    expect(parseAllowedDomains("api.openai.com\n# comment\n*.githubusercontent.com, pypi.org\n\n").map((r) => r.source)).toEqual([
      "api.openai.com",
      "*.githubusercontent.com",
      "pypi.org",
    ]);
    expect(() => parseAllowedDomains("https://example.com")).toThrow(/not a URL/);
    expect(() => parseAllowedDomains("10.0.0.1")).toThrow(/IP address/);
    expect(() => parseAllowedDomains("[::1]:443")).toThrow(/IP address/);
    expect(() => parseAllowedDomains("ex*ample.com")).toThrow(/wildcard/);
    expect(() => parseAllowedDomains("*.com")).toThrow(/top-level/);
    expect(() => parseAllowedDomains("exa mple_.com")).toThrow(/valid host name/);
  });
});

describe("address vetting", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.200.1.1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["169.254.169.254", "cloud-metadata"],
    ["169.254.1.1", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.100.100.200", "cloud-metadata"],
    ["0.0.0.0", "this-network"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fd00:ec2::254", "cloud-metadata"],
    ["fc00::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["0:0:0:0:0:ffff:a9fe:a9fe", "cloud-metadata"],
    ["::ffff:10.0.0.1", "private"],
    ["64:ff9b::a00:1", "private"],
    ["2002:c0a8:0101::1", "private"],
    ["not-an-ip", "invalid"],
  ])("%s is refused as %s", (address, label) => {
    expect(classifyAddress(address)).toBe(label);
  });

  it.each(["93.184.216.34", "172.32.0.1", "2606:4700::1111", "::ffff:93.184.216.34"])("%s is public", (address) => {
    expect(classifyAddress(address)).toBeNull();
  });

  it("finds the IPv4 address inside mapped forms", () => {
    expect(embeddedIPv4("::ffff:7f00:1")).toBe("127.0.0.1");
    expect(embeddedIPv4("2606:4700::1111")).toBeNull();
  });
});

describe("egress proxy (block mode)", () => {
  it("an allowlisted host passes over plain HTTP, with the vetted Host header and bytes counted", async () => {
    const { proxy, port } = await startProxy({ domains: `allowed.test:${upstreamPort}` });
    const res = await viaHttp(port, `http://allowed.test:${upstreamPort}/path?q=1`, "ping");
    expect(res).toEqual({ status: 200, body: "hello POST /path?q=1 ping" });
    expect(seenHosts.at(-1)).toBe(`allowed.test:${upstreamPort}`);
    const [attempt] = proxy.attempts();
    expect(networkAttemptSchema.parse(attempt)).toMatchObject({ host: "allowed.test", port: upstreamPort, method: "HTTP", allowed: true, reason: "allowlisted", address: "127.0.0.1", bytesUp: 4 });
    expect(attempt!.bytesDown).toBe("hello POST /path?q=1 ping".length);
  });

  it("an allowlisted host passes over CONNECT", async () => {
    const tlsUpstream = await startTlsUpstream(["api.allowed.test"]);
    const { proxy, port } = await startProxy({ domains: `*.allowed.test:${tlsUpstream.port}` });
    const res = await connectTls(port, `api.allowed.test:${tlsUpstream.port}`, "api.allowed.test", tlsUpstream.ca, { path: "/tunnelled" });
    await tlsUpstream.close();
    expect(res.status).toBe(200);
    expect(res.body).toBe("tls hello /tunnelled");
    await proxy.close();
    const [attempt] = proxy.attempts();
    expect(attempt).toMatchObject({ host: "api.allowed.test", method: "CONNECT", allowed: true, reason: "allowlisted" });
    expect(attempt!.bytesUp).toBeGreaterThan(20);
    expect(attempt!.bytesDown).toBeGreaterThan(20);
  });

  it("a host outside the allowlist is refused (403) on both paths, logged, and never resolved", async () => {
    const { proxy, port } = await startProxy({ domains: `allowed.test:${upstreamPort}` });
    resolved.length = 0;
    const plain = await viaHttp(port, `http://other.test:${upstreamPort}/`);
    const tunnel = await viaConnect(port, `other.test:${upstreamPort}`);
    expect(plain.status).toBe(403);
    expect(plain.body).toMatch(/refused other\.test/);
    expect(tunnel.status).toBe(403);
    expect(resolved).not.toContain("other.test");
    expect(proxy.attempts().map((a) => [a.method, a.host, a.allowed, a.reason])).toEqual([
      ["HTTP", "other.test", false, "not-allowlisted"],
      ["CONNECT", "other.test", false, "not-allowlisted"],
    ]);
  });

  it("refuses private and metadata addresses even when an allowlisted name resolves to them (DNS rebinding)", async () => {
    const domains = ["allowed.test", "*.allowed.test"].map((d) => `${d}:${upstreamPort}`).join("\n");
    const { proxy, port } = await startProxy({ domains, allowLoopbackUpstreams: false });
    for (const name of ["allowed.test", "rebind.allowed.test", "metadata.allowed.test", "mapped.allowed.test", "private.allowed.test"]) {
      expect((await viaConnect(port, `${name}:${upstreamPort}`)).status).toBe(403);
      expect((await viaHttp(port, `http://${name}:${upstreamPort}/`)).status).toBe(403);
    }
    const reasons = proxy.attempts().map((a) => `${a.method} ${a.host} ${a.allowed} ${a.reason}`);
    expect(reasons).toContain(`CONNECT allowed.test false private-address 127.0.0.1 (loopback)`);
    expect(reasons).toContain(`CONNECT rebind.allowed.test false private-address 10.0.0.5 (private)`);
    expect(reasons).toContain(`HTTP metadata.allowed.test false private-address 169.254.169.254 (cloud-metadata)`);
    expect(reasons).toContain(`CONNECT mapped.allowed.test false private-address ::ffff:127.0.0.1 (loopback)`);
    expect(reasons).toContain(`HTTP private.allowed.test false private-address 192.168.1.10 (private)`);
    expect(proxy.attempts().every((a) => !a.allowed)).toBe(true);
  });

  it("refuses IP literals, even loopback ones, and non-proxy requests", async () => {
    const { proxy, port } = await startProxy({ domains: `allowed.test:${upstreamPort}` });
    expect((await viaConnect(port, `127.0.0.1:${upstreamPort}`)).status).toBe(403);
    expect((await viaHttp(port, `http://[::1]:${upstreamPort}/`)).status).toBe(403);
    const direct = await rawExchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(direct.status).toBe(400);
    expect(proxy.attempts().map((a) => a.reason)).toEqual(["ip-literal", "ip-literal", "bad-request: not an absolute http:// URL"]);
  });

  it("reports an unresolvable allowlisted name as dns-failure", async () => {
    const { proxy, port } = await startProxy({ domains: "missing.test" });
    expect((await viaConnect(port, "missing.test:443")).status).toBe(403);
    expect(proxy.attempts()[0]!.reason).toBe("dns-failure: ENOTFOUND");
  });
});

describe("egress proxy (audit mode)", () => {
  it("audit mode logs without blocking, still flagging private addresses", async () => {
    const { proxy, port } = await startProxy({ domains: "nothing.test", mode: "audit" });
    const res = await viaHttp(port, `http://other.test:${upstreamPort}/x`);
    expect(res).toEqual({ status: 200, body: "hello GET /x " });
    const tunnel = await viaConnect(port, `127.0.0.1:${upstreamPort}`);
    expect(tunnel.status).toBe(200);
    await proxy.close();
    expect(proxy.attempts().map((a) => [a.method, a.host, a.allowed, a.reason])).toEqual([
      ["HTTP", "other.test", true, "audit-mode: not-allowlisted; private-address 127.0.0.1 (loopback)"],
      ["CONNECT", "127.0.0.1", true, "audit-mode: ip-literal; private-address 127.0.0.1 (loopback); audit-mode: not-tls: only TLS may be tunnelled"],
    ]);
  });
});
