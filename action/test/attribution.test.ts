/**
 * Network attempts name the process that made them: the proxy maps its client's port to the socket's owner
 * through /proc/net/tcp and /proc/<pid>/fd. Loopback only.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseProcNetTcp } from "../src/attribution.js";
import { parseAllowedDomains } from "../src/hosts.js";
import { EgressProxy } from "../src/proxy.js";

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures", "proc", name), "utf8");
const proxies: EgressProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

describe("/proc/net/tcp", () => {
  it("parses ports, uid and inode from the kernel's own tables (IPv4 and IPv6)", () => {
    const v4 = parseProcNetTcp(fixture("net-tcp.txt"));
    expect(v4.length).toBeGreaterThan(3);
    expect(v4[0]).toEqual({ localPort: 0x07e8, remotePort: 0, uid: 0, inode: 624 });
    expect(v4[1]).toEqual({ localPort: 0x0cea, remotePort: 0, uid: 107, inode: 9749 });
    expect(parseProcNetTcp(fixture("net-tcp6.txt"))[0]).toEqual({ localPort: 0x1111, remotePort: 0, uid: 106, inode: 6526 });
  });
});

describe.skipIf(process.platform !== "linux")("the proxy names the process behind each attempt", () => {
  it("a child process's CONNECT and plain HTTP attempts carry its pid, uid and command line", async () => {
    const proxy = new EgressProxy({ rules: parseAllowedDomains("allowed.test"), mode: "block", resolve: async () => ["127.0.0.1"] });
    proxies.push(proxy);
    const port = await proxy.listen();
    const script = `
      const net = require("node:net");
      const ask = (line) => new Promise((r) => { const s = net.connect(${port}, "127.0.0.1", () => s.write(line)); s.on("data", () => s.destroy()); s.on("close", r); });
      (async () => { await ask("CONNECT exfil.example:443 HTTP/1.1\\r\\n\\r\\n"); await ask("GET http://exfil.example/x HTTP/1.1\\r\\nHost: exfil.example\\r\\n\\r\\n"); })();
    `;
    const child = spawn(process.execPath, ["-e", script, "marker-for-attribution"], { stdio: "ignore" });
    await new Promise((r) => child.on("close", r));
    const attempts = proxy.attempts();
    expect(attempts.map((a) => `${a.method} ${a.host} ${a.allowed}`)).toEqual(["CONNECT exfil.example false", "HTTP exfil.example false"]);
    for (const a of attempts) {
      expect(a.process).toEqual({ pid: child.pid, uid: process.getuid?.(), command: expect.stringContaining("marker-for-attribution") });
    }
  });

  it("identify: null turns attribution off", async () => {
    const proxy = new EgressProxy({ rules: parseAllowedDomains("allowed.test"), mode: "block", identify: null });
    proxies.push(proxy);
    const port = await proxy.listen();
    const net = await import("node:net");
    await new Promise<void>((r) => {
      const s = net.connect(port, "127.0.0.1", () => s.write("CONNECT exfil.example:443 HTTP/1.1\r\n\r\n"));
      s.on("data", () => s.destroy());
      s.on("close", () => r());
    });
    expect(proxy.attempts()[0]).not.toHaveProperty("process");
  });
});
