/**
 * The known ways around a runner's egress firewall, each tried by a process of the sandbox user inside a network
 * namespace this test creates (veth addresses that exist only inside it): DNS to another resolver over UDP and
 * TCP, DNS-over-TLS, IPv6, ICMP, raw sockets, ignoring the proxy variables, sudo, setuid binaries and the docker
 * socket. Controls: the same probes succeed for root, and (network ones) for the user before the rules go in.
 *
 * Needs root, iptables/ip6tables, `ip netns`, useradd, perl and setpriv; skips with the reason otherwise.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

function why(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const bin of ["iptables", "ip6tables", "ip", "useradd", "userdel", "perl", "setpriv"]) {
    if (spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0) return `${bin} not installed`;
  }
  const probe = `agprobe${randomBytes(3).toString("hex")}`;
  if (spawnSync("ip", ["netns", "add", probe]).status !== 0) return "cannot create network namespaces";
  spawnSync("ip", ["netns", "del", probe]);
  return null;
}
const skipReason = why();
if (skipReason) console.log(`[bypass integration] skipped: ${skipReason}`);

type Probes = Record<string, string>;

describe.skipIf(skipReason !== null)("egress bypasses (root, iptables, network namespace)", () => {
  const tag = randomBytes(3).toString("hex");
  const ns = `agbyp-${tag}`;
  const userName = `agbyp${tag}`;
  let uid = 0;
  let gid = 0;
  let dir = "";
  let result: { setpriv: string | null; rootControl: Probes; userWithoutFirewall: Probes; sandboxUser: Probes; udpSeenBySandboxUser: string[]; caught: Array<{ process?: { uid?: number } }> };

  beforeAll(() => {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", userName]);
    uid = Number(execFileSync("id", ["-u", userName]).toString().trim());
    gid = Number(execFileSync("id", ["-g", userName]).toString().trim());
    execFileSync("ip", ["netns", "add", ns]);
    const inNs = (...args: string[]) => execFileSync("ip", ["netns", "exec", ns, ...args]);
    inNs("ip", "link", "set", "lo", "up");
    inNs("ip", "link", "add", "ag0", "type", "veth", "peer", "name", "ag1");
    inNs("ip", "addr", "add", "10.213.0.1/24", "dev", "ag0");
    inNs("ip", "-6", "addr", "add", "fd00:213::1/64", "dev", "ag0", "nodad");
    inNs("ip", "link", "set", "ag0", "up");
    inNs("ip", "link", "set", "ag1", "up");
    // Ubuntu's default: every group may open ICMP echo sockets, so only the firewall stands in the way.
    inNs("sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647");
    // A setuid-root copy of `id`: prints 0 when the setuid bit takes effect.
    dir = mkdtempSync(path.join(os.tmpdir(), "agbyp-"));
    chmodSync(dir, 0o755);
    copyFileSync("/usr/bin/id", path.join(dir, "suid-id"));
    chmodSync(path.join(dir, "suid-id"), 0o4755);
    const root = path.resolve(import.meta.dirname, "../..");
    const run = spawnSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", path.join(import.meta.dirname, "fixtures/bypass-scenario.ts"), String(uid), String(gid), userName, path.join(dir, "suid-id")], {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000,
    });
    const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`scenario failed (${run.status}): ${run.stderr}\n${run.stdout}`);
    result = JSON.parse(line.slice("RESULT ".length)) as typeof result;
    console.log("[bypass integration] ran:", JSON.stringify(result));
  }, 150_000);

  afterAll(() => {
    spawnSync("ip", ["netns", "del", ns]);
    spawnSync("pkill", ["-KILL", "-U", String(uid)]);
    spawnSync("userdel", [userName]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("DNS to any other resolver is blocked: UDP 53 and TCP 53 (the packets never arrive) and DNS-over-TLS (853)", () => {
    expect(result.rootControl).toMatchObject({ dnsUdp: "reply", dnsTcp: "connected", dot: "connected" });
    expect(result.userWithoutFirewall).toMatchObject({ dnsUdp: "reply", dnsTcp: "connected", dot: "connected" });
    expect(result.sandboxUser.dnsUdp).not.toBe("reply");
    expect(result.udpSeenBySandboxUser).toEqual([]);
    expect(result.sandboxUser.dnsTcp).toBe("ECONNREFUSED");
    expect(result.sandboxUser.dot).toBe("ECONNREFUSED");
  });

  it("IPv6 is blocked as IPv4 is (ip6tables)", () => {
    expect(result.rootControl.ipv6).toBe("connected");
    expect(result.userWithoutFirewall.ipv6).toBe("connected");
    expect(result.sandboxUser.ipv6).toBe("ECONNREFUSED");
  });

  it("ICMP echo gets no answer, and raw sockets cannot be opened (no CAP_NET_RAW)", () => {
    expect(result.rootControl.icmp).toBe("reply");
    expect(result.userWithoutFirewall.icmp).toBe("reply");
    expect(result.sandboxUser.icmp).not.toBe("reply");
    expect(result.rootControl.raw).toBe("opened");
    expect(result.sandboxUser.raw).toBe("socket: Operation not permitted");
  });

  it("an agent that unsets HTTP_PROXY (claude-code-action's known hole) still reaches nothing", () => {
    expect(result.rootControl.noProxyEnv).toBe("status 200");
    expect(result.userWithoutFirewall.noProxyEnv).toBe("status 200");
    expect(result.sandboxUser.noProxyEnv).toBe("ECONNREFUSED");
  });

  it("no sudo, no setuid elevation (no_new_privs), no supplementary groups, no docker socket", () => {
    expect(result.setpriv).toMatch(/setpriv$/);
    expect(result.sandboxUser.noNewPrivs).toBe("1");
    expect(result.sandboxUser.groups).toBe(String(gid));
    expect(result.sandboxUser.sudo).not.toBe("exit 0");
    expect(result.sandboxUser.docker).not.toBe("writable");
    // Control: without no_new_privs the setuid bit works for the same user; with it, it does not.
    expect(result.userWithoutFirewall.suidEuid).toBe("0");
    expect(result.sandboxUser.suidEuid).toBe(String(uid));
  });

  it("what the firewall caught is attributed to the sandbox uid", () => {
    expect(result.caught.length).toBeGreaterThan(0);
    expect(result.caught.every((a) => a.process?.uid === uid)).toBe(true);
  });
});
