/**
 * Proves the firewall, not the agent's good manners, keeps egress on the proxy: a process of the sandbox
 * user that ignores the proxy variables cannot reach a server outside the allowlist.
 *
 * Needs root, iptables/ip6tables, `ip netns` and useradd. Everything happens in a network namespace this
 * test creates (with a veth address that only exists inside it), and is removed afterwards.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainName, firewallRules, parseFirewallLog } from "../src/firewall.js";

function why(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const bin of ["iptables", "ip6tables", "ip", "useradd", "userdel"]) {
    if (spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0) return `${bin} not installed`;
  }
  const probe = `agprobe${randomBytes(3).toString("hex")}`;
  if (spawnSync("ip", ["netns", "add", probe]).status !== 0) return "cannot create network namespaces";
  spawnSync("ip", ["netns", "del", probe]);
  return null;
}

const skipReason = why();
if (skipReason) console.log(`[firewall integration] skipped: ${skipReason}`);

describe("firewall rules (pure)", () => {
  it("allows only TCP to the proxy on 127.0.0.1, rejects the rest on IPv4 and IPv6, hooks the uid last", () => {
    const rules = firewallRules({ uid: 1234, proxyPort: 3128, mode: "block" }).map((r) => `${r.bin} ${r.args.join(" ")}`);
    expect(rules).toContain("iptables -w -A AGENT-GATE-1234 -o lo -d 127.0.0.1 -p tcp --dport 3128 -j ACCEPT");
    expect(rules.filter((r) => r.includes("ACCEPT"))).toHaveLength(1);
    expect(rules.filter((r) => r.endsWith("-j REJECT"))).toHaveLength(2);
    expect(rules.at(-1)).toBe("ip6tables -w -I OUTPUT 1 -m owner --uid-owner 1234 -j AGENT-GATE-1234");
    expect(firewallRules({ uid: 1234, proxyPort: 3128, mode: "audit" }).some((r) => r.args.includes("REJECT"))).toBe(false);
    expect(chainName(1234).length).toBeLessThanOrEqual(28);
  });

  it("parses the kernel log lines of its own LOG rule", () => {
    const log = [
      "2030-01-01T00:00:05,123456+00:00 agent-gate[1234]: IN= OUT=eth0 SRC=10.1.0.4 DST=140.82.112.3 LEN=60 TOS=0x00 PROTO=TCP SPT=51234 DPT=443 WINDOW=64240 SYN URGP=0 UID=1234 GID=1234",
      "2030-01-01T00:00:06,000000+00:00 agent-gate[999]: IN= OUT=eth0 SRC=10.1.0.4 DST=1.1.1.1 LEN=60 PROTO=UDP SPT=1 DPT=53 UID=999",
      "2030-01-01T00:00:07,000000+00:00 other line",
    ].join("\n");
    const attempts = parseFirewallLog(log, 1234, new Date("2030-01-01T00:00:00Z"), false, "firewall: bypassed the proxy");
    expect(attempts).toEqual([
      { time: "2030-01-01T00:00:05.123Z", host: "140.82.112.3", port: 443, method: "DIRECT", allowed: false, reason: "firewall: bypassed the proxy (TCP)", process: { uid: 1234 }, bytesUp: 60, bytesDown: 0 },
    ]);
  });
});

describe.skipIf(skipReason !== null)("firewall integration (root, iptables, network namespace)", () => {
  const tag = randomBytes(3).toString("hex");
  const ns = `agtest-${tag}`;
  const userName = `agtest${tag}`;
  let uid = 0;
  let gid = 0;

  beforeAll(() => {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", userName]);
    uid = Number(execFileSync("id", ["-u", userName]).toString().trim());
    gid = Number(execFileSync("id", ["-g", userName]).toString().trim());
    execFileSync("ip", ["netns", "add", ns]);
    execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    execFileSync("ip", ["-n", ns, "link", "add", "ag0", "type", "veth", "peer", "name", "ag1"]);
    execFileSync("ip", ["-n", ns, "addr", "add", "10.213.0.1/24", "dev", "ag0"]);
    execFileSync("ip", ["-n", ns, "link", "set", "ag0", "up"]);
    execFileSync("ip", ["-n", ns, "link", "set", "ag1", "up"]);
  });

  afterAll(() => {
    spawnSync("ip", ["netns", "del", ns]);
    spawnSync("pkill", ["-KILL", "-U", String(uid)]);
    spawnSync("userdel", [userName]);
    const leftovers = spawnSync("ip", ["netns", "list"]).stdout.toString();
    expect(leftovers).not.toContain(ns);
  });

  it("a sandbox-user process that ignores the proxy cannot reach a server outside the allowlist", () => {
    const root = path.resolve(import.meta.dirname, "../..");
    const run = spawnSync(
      "ip",
      ["netns", "exec", ns, process.execPath, "--import", "tsx", path.join(import.meta.dirname, "fixtures/firewall-scenario.ts"), String(uid), String(gid), userName, "10.213.0.1"],
      { cwd: root, encoding: "utf8", timeout: 90_000 },
    );
    const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`scenario failed (${run.status}): ${run.stderr}\n${run.stdout}`);
    const result = JSON.parse(line.slice("RESULT ".length)) as {
      sandboxUser: Record<string, string>;
      rootControl: Record<string, string>;
      afterRemoval: Record<string, string>;
      caught: Array<{ method: string; host: string; allowed: boolean; reason: string; process?: { uid?: number } }>;
      proxyLog: string[];
    };
    console.log("[firewall integration] ran:", JSON.stringify(result));
    // The sandbox user: direct connections refused by the firewall, the proxy reachable and enforcing.
    expect(result.sandboxUser.outside).toBe("ECONNREFUSED");
    expect(result.sandboxUser.loopbackService).toBe("ECONNREFUSED");
    expect(result.sandboxUser.loopbackV6).toBe("ECONNREFUSED");
    expect(result.sandboxUser.viaProxyAllowed).toBe("HTTP/1.1 200 OK | loopback-upstream");
    expect(result.sandboxUser.viaProxyOutside).toMatch(/^HTTP\/1\.1 403/);
    // Controls: the same servers answer root, and answer the user once the rules are gone.
    expect(result.rootControl.outside).toBe("connected");
    expect(result.rootControl.loopbackService).toBe("connected");
    expect(result.afterRemoval.outside).toBe("connected");
    // The firewall's catches become network attempts.
    expect(result.caught.length).toBeGreaterThan(0);
    expect(result.caught.every((a) => a.method === "DIRECT" && !a.allowed)).toBe(true);
    // Attributed to the sandbox uid; when the kernel log is unreadable (containers) the reason says so and why.
    expect(result.caught.every((a) => a.process?.uid === uid)).toBe(true);
    for (const a of result.caught.filter((c) => c.host === "unknown")) expect(a.reason).toMatch(/packet\(s\) from uid \d+; destinations and process unknown because the kernel log (could not be read \(dmesg: .+\)|holds none)/);
    expect(result.proxyLog.some((l) => /^allowed\.test:\d+ true allowlisted$/.test(l))).toBe(true);
    expect(result.proxyLog.some((l) => /^10\.213\.0\.1:\d+ false ip-literal$/.test(l))).toBe(true);
  });
});
