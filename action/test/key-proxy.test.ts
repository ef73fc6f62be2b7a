/**
 * Key holding in the egress proxy: TLS terminated for the model API host only, the placeholder swapped for the
 * real key on requests to that host, nothing swapped anywhere else. Loopback only: fake model hosts with their
 * own throwaway CA stand in for api.openai.com.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeRunCertificates } from "../src/certs.js";
import { parseAllowedDomains } from "../src/hosts.js";
import { KeyInjector, placeholderFor, type HeldKey } from "../src/key-proxy.js";
import { EgressProxy } from "../src/proxy.js";
import { connectTls, startTlsUpstream, type TlsUpstream } from "./tls-helpers.js";

const REAL = "sk-real-model-key-never-in-the-sandbox-0001";
let model: TlsUpstream;
let other: TlsUpstream;
let runCa: string;
let key: HeldKey;
const proxies: EgressProxy[] = [];

beforeAll(async () => {
  model = await startTlsUpstream(["api.model.test"], (req) => (req.headers.authorization === `Bearer ${REAL}` ? { status: 200, body: "authenticated" } : { status: 401, body: "bad key" }));
  other = await startTlsUpstream(["docs.other.test"]);
  key = { name: "MODEL_API_KEY", hosts: ["api.model.test"], value: REAL, placeholder: placeholderFor("MODEL_API_KEY") };
  const certs = await makeRunCertificates(["api.model.test"]);
  runCa = certs.ca.cert;
  proxies.push(
    new EgressProxy({
      rules: parseAllowedDomains(`api.model.test:${model.port}\ndocs.other.test:${other.port}`),
      mode: "block",
      resolve: async () => ["127.0.0.1"],
      allowLoopbackUpstreams: true,
      keyInjector: new KeyInjector({ keys: [key], leaf: certs.leaf, upstreamCa: `${model.ca}\n${other.ca}` }),
    }),
  );
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await model.close();
  await other.close();
});
afterEach(() => {
  model.seen.length = 0;
  other.seen.length = 0;
});

describe("key holding", () => {
  it("a request to the model host with the placeholder authenticates: the proxy adds the real key", async () => {
    const port = await proxies[0]!.listen();
    const res = await connectTls(port, `api.model.test:${model.port}`, "api.model.test", runCa, { path: "/v1/models", headers: { authorization: `Bearer ${key.placeholder}` } });
    expect(res).toMatchObject({ connect: 200, status: 200, body: "authenticated" });
    expect(model.seen).toEqual([expect.objectContaining({ path: "/v1/models", authorization: `Bearer ${REAL}`, host: `api.model.test:${model.port}` })]);
    await new Promise((r) => setTimeout(r, 50));
    const attempt = proxies[0]!.attempts().find((a) => a.host === "api.model.test");
    expect(attempt).toMatchObject({ allowed: true, method: "CONNECT", reason: "allowlisted; api key held by the proxy: added to 1 of 1 request(s)" });
    expect(JSON.stringify(proxies[0]!.attempts())).not.toContain(REAL);
  });

  it("the placeholder is not swapped on any other host, whose TLS stays end to end", async () => {
    const p = await proxyFor(`docs.other.test:${other.port}`);
    const res = await connectTls(await p.listen(), `docs.other.test:${other.port}`, "docs.other.test", other.ca, { headers: { authorization: `Bearer ${key.placeholder}` } });
    // The client verified the real upstream's certificate (other.ca): the proxy did not terminate this tunnel.
    expect(res.status).toBe(200);
    expect(other.seen).toEqual([expect.objectContaining({ authorization: `Bearer ${key.placeholder}` })]);
  });

  it("a client that does not trust the per-run CA gets no service from it, and nothing reaches the model host", async () => {
    const p = await proxyFor(`api.model.test:${model.port}`);
    const untrusted = await connectTls(await p.listen(), `api.model.test:${model.port}`, "api.model.test", model.ca);
    expect(untrusted.status).toBe(0);
    expect(untrusted.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
    expect(model.seen).toEqual([]);
  });

  it("the per-run CA is name-constrained to the key hosts and is not a CA for anything else", async () => {
    const { ca } = await makeRunCertificates(["api.model.test", "api2.model.test"]);
    const text = execFileSync("openssl", ["x509", "-noout", "-ext", "nameConstraints,basicConstraints"], { input: ca.cert, encoding: "utf8" });
    expect(text).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+DNS:api\.model\.test\s+DNS:api2\.model\.test/);
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(new X509Certificate(ca.cert).checkHost("api.model.test")).toBeUndefined();
  });
});

async function proxyFor(domains: string): Promise<EgressProxy> {
  const p = new EgressProxy({
    rules: parseAllowedDomains(domains),
    mode: "block",
    resolve: async () => ["127.0.0.1"],
    allowLoopbackUpstreams: true,
    keyInjector: new KeyInjector({ keys: [key], leaf: (await makeRunCertificates(["api.model.test"])).leaf, upstreamCa: model.ca }),
  });
  proxies.push(p);
  return p;
}
