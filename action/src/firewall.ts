/**
 * iptables owner rules for the sandbox user: its only way out is TCP to the egress proxy on loopback.
 * Everything else it sends — IPv4 or IPv6, TCP, UDP (DNS included) or ICMP — is logged and rejected, so a
 * tool that ignores the proxy variables is blocked instead of bypassing the allowlist.
 */
import type { NetworkAttempt } from "../../src/telemetry/bundle.js";
import type { Runner } from "./exec.js";
import type { NetworkMode } from "./proxy.js";

export interface FirewallSpec {
  uid: number;
  proxyPort: number;
  mode: NetworkMode;
}

type Family = "iptables" | "ip6tables";

export interface FirewallRule {
  bin: Family;
  args: string[];
  /** A rule whose failure does not void the firewall (logging). */
  optional?: boolean;
}

export class FirewallError extends Error {
  override name = "FirewallError";
}

export function chainName(uid: number): string {
  return `AGENT-GATE-${uid}`.slice(0, 28);
}

export function logPrefix(uid: number): string {
  return `agent-gate[${uid}]: `.slice(0, 29);
}

/** The rules, in order. `-w` waits for the xtables lock instead of failing when Docker holds it. */
export function firewallRules(spec: FirewallSpec): FirewallRule[] {
  const chain = chainName(spec.uid);
  const rules: FirewallRule[] = [];
  for (const bin of ["iptables", "ip6tables"] as const) {
    rules.push({ bin, args: ["-w", "-N", chain] });
    if (bin === "iptables") {
      rules.push({ bin, args: ["-w", "-A", chain, "-o", "lo", "-d", "127.0.0.1", "-p", "tcp", "--dport", String(spec.proxyPort), "-j", "ACCEPT"] });
    }
    rules.push({
      bin,
      args: ["-w", "-A", chain, "-m", "limit", "--limit", "50/second", "--limit-burst", "100", "-j", "LOG", "--log-prefix", logPrefix(spec.uid), "--log-uid"],
      optional: true,
    });
    if (spec.mode === "block") {
      rules.push({ bin, args: ["-w", "-A", chain, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"] });
      rules.push({ bin, args: ["-w", "-A", chain, "-j", "REJECT"] });
    }
    rules.push({ bin, args: ["-w", "-I", "OUTPUT", "1", "-m", "owner", "--uid-owner", String(spec.uid), "-j", chain] });
  }
  return rules;
}

export function firewallRemovalRules(spec: FirewallSpec): FirewallRule[] {
  const chain = chainName(spec.uid);
  return (["iptables", "ip6tables"] as const).flatMap((bin) => [
    { bin, args: ["-w", "-D", "OUTPUT", "-m", "owner", "--uid-owner", String(spec.uid), "-j", chain] },
    { bin, args: ["-w", "-F", chain] },
    { bin, args: ["-w", "-X", chain] },
  ]);
}

export class Firewall {
  installed = false;
  private readonly startedAt = new Date();

  /** @param privileged runs a command as root (sudo -n, or directly; tests prefix `ip netns exec`). */
  constructor(
    readonly spec: FirewallSpec,
    private readonly privileged: Runner,
  ) {}

  /**
   * Installs the rules. In block mode any failure removes what was added and throws, so the agent never
   * starts unfirewalled; in audit mode the firewall only logs and failures are reported, not fatal.
   * @throws FirewallError (block mode) with what is missing.
   */
  async install(): Promise<{ warnings: string[] }> {
    const warnings: string[] = [];
    const block = this.spec.mode === "block";
    for (const bin of ["iptables", "ip6tables"] as const) {
      const probe = await this.privileged(bin, ["-w", "-L", "OUTPUT", "-n"], { allowFailure: true });
      if (probe.exitCode !== 0) {
        const why = `${bin} is not usable as root (${(probe.stderr || probe.stdout).trim().split("\n")[0] ?? `exit ${probe.exitCode}`})`;
        if (block) {
          throw new FirewallError(
            `network: block needs the egress firewall, but ${why}. Run on a runner with passwordless sudo and iptables ` +
              "(GitHub-hosted Ubuntu runners have both), or set network: audit to run without enforcement.",
          );
        }
        warnings.push(`audit mode: no firewall logging, ${why}`);
        return { warnings };
      }
    }
    // A chain left by an earlier run with the same uid would otherwise make -N fail.
    await this.removeQuietly();
    for (const rule of firewallRules(this.spec)) {
      const r = await this.privileged(rule.bin, rule.args, { allowFailure: true });
      if (r.exitCode === 0) continue;
      const message = `${rule.bin} ${rule.args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`;
      if (rule.optional || !block) {
        warnings.push(message);
        continue;
      }
      await this.removeQuietly();
      throw new FirewallError(`could not install the egress firewall: ${message}`);
    }
    this.installed = true;
    return { warnings };
  }

  private async removeQuietly(): Promise<void> {
    for (const rule of firewallRemovalRules(this.spec)) await this.privileged(rule.bin, rule.args, { allowFailure: true, quiet: true });
  }

  async remove(): Promise<void> {
    await this.removeQuietly();
    this.installed = false;
  }

  /** Packets the chain's final rules caught, per family (the REJECT rules in block mode, LOG in audit mode). */
  async counters(): Promise<{ packets: number }> {
    let packets = 0;
    const target = this.spec.mode === "block" ? "REJECT" : "LOG";
    for (const bin of ["iptables", "ip6tables"] as const) {
      const r = await this.privileged(bin, ["-w", "-L", chainName(this.spec.uid), "-n", "-v", "-x"], { allowFailure: true, quiet: true });
      if (r.exitCode !== 0) continue;
      for (const line of r.stdout.split("\n")) {
        const cols = line.trim().split(/\s+/);
        if (cols[2] === target) packets += Number(cols[0]) || 0;
      }
    }
    return { packets };
  }

  /**
   * What the firewall caught, as NetworkAttempts (method DIRECT): from the kernel log when it is readable,
   * otherwise one summary entry from the rule counters.
   */
  async caughtAttempts(): Promise<NetworkAttempt[]> {
    if (!this.installed) return [];
    const allowed = this.spec.mode === "audit";
    const reason = allowed ? "audit-mode: bypassed the proxy (firewall log)" : "firewall: bypassed the proxy";
    const dmesg = await this.privileged("dmesg", ["--time-format", "iso"], { allowFailure: true, quiet: true });
    const attempts = dmesg.exitCode === 0 ? parseFirewallLog(dmesg.stdout, this.spec.uid, this.startedAt, allowed, reason) : [];
    if (attempts.length > 0) return attempts;
    const { packets } = await this.counters();
    if (packets === 0) return [];
    // The chain is the sandbox user's own, so the uid is known even without the log; the destination is not.
    const why = dmesg.exitCode === 0 ? "the kernel log holds none of its lines (rate-limited, rotated, or a network namespace without net.netfilter.nf_log_all_netns=1)" : `the kernel log could not be read (dmesg: ${firstLine(dmesg.stderr || dmesg.stdout) || `exit ${dmesg.exitCode}`})`;
    return [
      {
        time: new Date().toISOString(),
        host: "unknown",
        port: 0,
        method: "DIRECT",
        allowed,
        reason: `${reason}: ${packets} packet(s) from uid ${this.spec.uid}; destinations and process unknown because ${why}`,
        process: { uid: this.spec.uid },
        bytesUp: 0,
        bytesDown: 0,
      },
    ];
  }
}

/** Parses `dmesg --time-format iso` lines written by our LOG rule. */
export function parseFirewallLog(text: string, uid: number, since: Date, allowed: boolean, reason: string): NetworkAttempt[] {
  const prefix = logPrefix(uid).trim();
  const out: NetworkAttempt[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes(prefix)) continue;
    const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[,.](\d+))?([+-]\d\d:?\d\d|Z)/.exec(line);
    const time = stamp ? new Date(`${stamp[1]}.${(stamp[2] ?? "0").slice(0, 3).padEnd(3, "0")}${stamp[3]}`) : new Date();
    if (Number.isNaN(time.getTime()) || time < new Date(since.getTime() - 1000)) continue;
    const field = (name: string): string | undefined => new RegExp(`\\b${name}=(\\S+)`).exec(line)?.[1];
    const proto = field("PROTO") ?? "?";
    const logUid = Number(field("UID") ?? uid);
    out.push({
      time: time.toISOString(),
      host: field("DST") ?? "unknown",
      port: Number(field("DPT") ?? 0) || 0,
      method: "DIRECT",
      allowed,
      reason: `${reason} (${proto})`,
      process: { uid: Number.isInteger(logUid) ? logUid : uid },
      bytesUp: Number(field("LEN") ?? 0) || 0,
      bytesDown: 0,
    });
    if (out.length >= 1000) break;
  }
  return out;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.slice(0, 200) ?? "";
}
