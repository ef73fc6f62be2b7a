/**
 * Host allowlist matching and address vetting for the egress proxy. Pure: no sockets, no DNS.
 */
import { BlockList, isIP, isIPv4 } from "node:net";

/** One allowed-domains entry: an exact host or `*.suffix` (subdomains only), optionally pinned to a port. */
export interface DomainRule {
  /** The entry as the user wrote it (normalised), for logs. */
  source: string;
  /** `example.com` for both `example.com` and `*.example.com`. */
  host: string;
  wildcard: boolean;
  /** null = the default web ports (80 and 443). */
  port: number | null;
}

export const DEFAULT_PORTS: readonly number[] = [80, 443];

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Lowercases, drops one trailing dot; returns null for anything that is not a syntactically valid DNS name. */
export function normalizeHostName(raw: string): string | null {
  let host = raw.trim().toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return null;
  const labels = host.split(".");
  if (!labels.every((l) => LABEL.test(l))) return null;
  return host;
}

export class AllowlistError extends Error {
  override name = "AllowlistError";
}

/**
 * Parses the `allowed-domains` input: one entry per line (commas and spaces also separate), `#` comments.
 * IP literals are rejected: the proxy vets addresses itself, and a literal would bypass name-based review.
 * @throws AllowlistError naming the offending entry.
 */
export function parseAllowedDomains(text: string): DomainRule[] {
  const rules: DomainRule[] = [];
  const seen = new Set<string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/#.*$/, "");
    for (const entry of line.split(/[\s,]+/).filter(Boolean)) {
      const rule = parseDomainRule(entry);
      if (!seen.has(rule.source)) {
        seen.add(rule.source);
        rules.push(rule);
      }
    }
  }
  return rules;
}

export function parseDomainRule(entry: string): DomainRule {
  let rest = entry.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(rest)) {
    throw new AllowlistError(`allowed-domains: "${entry}" must be a host name, not a URL`);
  }
  let port: number | null = null;
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(rest);
  if (bracketed) rest = bracketed[1] ?? "";
  const portMatch = bracketed ? null : /^(.*):(\d{1,5})$/.exec(rest);
  if (portMatch) {
    port = Number(portMatch[2]);
    if (port < 1 || port > 65535) throw new AllowlistError(`allowed-domains: "${entry}" has an invalid port`);
    rest = portMatch[1] ?? "";
  }
  const bare = rest.replace(/^\[|\]$/g, "");
  if (isIP(bare) !== 0) {
    throw new AllowlistError(`allowed-domains: "${entry}" is an IP address; list host names (IP literals are always refused)`);
  }
  let wildcard = false;
  if (rest.startsWith("*.")) {
    wildcard = true;
    rest = rest.slice(2);
  }
  if (rest.includes("*")) {
    throw new AllowlistError(`allowed-domains: "${entry}" — a wildcard is only allowed as a leading "*." label`);
  }
  const host = normalizeHostName(rest);
  if (host === null) throw new AllowlistError(`allowed-domains: "${entry}" is not a valid host name`);
  if (wildcard && !host.includes(".")) {
    throw new AllowlistError(`allowed-domains: "${entry}" would match a whole top-level domain`);
  }
  const source = `${wildcard ? "*." : ""}${host}${port === null ? "" : `:${port}`}`;
  return { source, host, wildcard, port };
}

/** The rule that allows `host:port`, if any. `*.example.com` matches `a.example.com` and `a.b.example.com`, never `example.com` itself. */
export function matchAllowlist(host: string, port: number, rules: readonly DomainRule[]): DomainRule | null {
  const name = normalizeHostName(host);
  if (name === null) return null;
  for (const rule of rules) {
    const portOk = rule.port === null ? DEFAULT_PORTS.includes(port) : rule.port === port;
    if (!portOk) continue;
    if (rule.wildcard ? name.endsWith(`.${rule.host}`) : name === rule.host) return rule;
  }
  return null;
}

// Addresses that are not on the public internet, by why they are not, both families in one table (an address
// is in at most one network here). An allowlisted *name* resolving to one of these is a DNS-rebinding or SSRF
// attempt against the runner, its cloud metadata service or the private network.
const NON_PUBLIC: Readonly<Record<string, readonly string[]>> = {
  "this-network": ["0.0.0.0/8"],
  unspecified: ["::/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
  "unique-local": ["fc00::/7"],
  cgnat: ["100.64.0.0/10"],
  loopback: ["127.0.0.0/8", "::1/128"],
  "link-local": ["169.254.0.0/16", "fe80::/10"],
  "site-local": ["fec0::/10"],
  "ietf-reserved": ["192.0.0.0/24"],
  documentation: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"],
  benchmarking: ["198.18.0.0/15"],
  discard: ["100::/64"],
  multicast: ["224.0.0.0/4", "ff00::/8"],
  reserved: ["240.0.0.0/4"],
};
// AWS/GCP/Azure IMDS, ECS task metadata, Alibaba, Azure wireserver, the AWS IPv6 IMDS.
const METADATA = new BlockList();
for (const a of ["169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16"]) METADATA.addAddress(a, "ipv4");
METADATA.addAddress("fd00:ec2::254", "ipv6");

const ranges: Array<{ list: BlockList; label: string }> = Object.entries(NON_PUBLIC).map(([label, networks]) => {
  const list = new BlockList();
  for (const network of networks) {
    const [net = "", prefix] = network.split("/");
    list.addSubnet(net, Number(prefix), isIPv4(net) ? "ipv4" : "ipv6");
  }
  return { list, label };
});

/** Expands an IPv6 address to its 8 hextets; null when it is not one. */
function ipv6Hextets(address: string): number[] | null {
  let text = address.toLowerCase().replace(/%.*$/, "");
  if (isIP(text) !== 6) return null;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const o = dotted[1].split(".").map(Number);
    text = text.slice(0, -dotted[1].length) + `${(((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16)}:${(((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const parts = [...h, ...Array<string>(fill).fill("0"), ...t].map((p) => parseInt(p, 16));
  return parts.length === 8 && parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? parts : null;
}

function v4FromHextets(a: number, b: number): string {
  return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

/**
 * The IPv4 address embedded in an IPv6 form that reaches it (IPv4-mapped `::ffff:a.b.c.d` in any spelling,
 * IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`), or null.
 */
export function embeddedIPv4(address: string): string | null {
  const x = ipv6Hextets(address);
  if (!x) return null;
  const [a0, a1, a2, a3, a4, a5, a6 = 0, a7 = 0] = x;
  if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0 && a4 === 0 && (a5 === 0xffff || (a5 === 0 && (a6 !== 0 || a7 > 1)))) return v4FromHextets(a6, a7);
  if (a0 === 0x64 && a1 === 0xff9b && a2 === 0 && a3 === 0 && a4 === 0 && a5 === 0) return v4FromHextets(a6, a7);
  if (a0 === 0x2002) return v4FromHextets(a1 ?? 0, a2 ?? 0);
  return null;
}

/**
 * Why an address must not be connected to (`loopback`, `private`, `cloud-metadata`, …), or null for a public address.
 * Unparseable input is refused ("invalid").
 */
export function classifyAddress(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, "");
  const embedded = isIPv4(bare) ? null : embeddedIPv4(bare);
  const target = embedded ?? bare;
  const family = isIP(target);
  if (family === 0) return "invalid";
  if (METADATA.check(target, family === 4 ? "ipv4" : "ipv6")) return "cloud-metadata";
  for (const r of ranges) {
    if (r.list.check(target, family === 4 ? "ipv4" : "ipv6")) return r.label;
  }
  return null;
}

/** True when the classification is loopback (the only class the test-only flag may let through). */
export function isLoopbackClass(reason: string | null): boolean {
  return reason === "loopback";
}
