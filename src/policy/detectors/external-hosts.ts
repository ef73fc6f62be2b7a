/**
 * New external hosts in added lines, judged the way the URL parser that `fetch` uses sees them (WHATWG URL:
 * node's global `URL`, whose `hostname` is already `domainToASCII`'d). A regex over the text is not enough:
 * `https://evil%2ecom`, `https:\\evil.com`, `https:evil.com`, `https:\/\/evil.com` (JSON), `http://good@evil.com`,
 * `http://0x7f.1`, `http://2130706433` and `https://evil。com` all reach a host the text does not spell out.
 *
 * Hand-written only as far as no library does it: finding where URLs start in arbitrary code. The parsing,
 * percent-decoding, IPv4 number forms and IDNA mapping are the URL parser's.
 *
 * Linear in the line: candidates start at a special scheme (`http:`, `https:`, `ws:`, `wss:`, `ftp:`, `ftps:`)
 * and end at the next one at the latest, so no character is parsed by more than two candidates.
 */
import type { PatchLine } from "../patch.js";
import { NO_HITS } from "./types.js";
import type { Detector, Hit } from "./types.js";

/** A special scheme (the ones whose URLs always have a host), not glued to a longer scheme name. */
const SCHEME_RE = /(?<![A-Za-z0-9+.-])(?:https?|wss?|ftps?):/gi;
/** Cheap first look for a whole patch or line: no scheme, no host. */
const MAY_HOLD_RE = /(?:https?|wss?|ftps?):/i;
/** Source-level escapes a string literal resolves before `fetch` sees it: `\x2e`, `\u002e`, `\u{2e}`. */
const ESCAPE_RE = /\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4}))/g;
const DNS_NAME_RE = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})+$/;
const IPV4_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const LOCAL_NAME_RE = /^(?:localhost|.*\.localhost|.*\.local|.*\.internal|.*\.test|.*\.example|.*\.invalid|(?:.*\.)?example\.(?:com|org|net))$/;
/** Cloud metadata endpoints answer with credentials; never "local" whatever their name. */
const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata.goog", "metadata"]);

export interface FoundHost {
  /** As the URL parser normalises it: lower case, punycode, IPv4 in dotted decimal, IPv6 in brackets; no trailing dot. */
  host: string;
  ip: boolean;
  /** An IP literal written in some other form than the one the parser prints (`0x7f.1`, `2130706433`, `127.1`). */
  disguised: boolean;
}

/** The hosts of the URLs on one line, as `fetch` would connect to them. Hosts that cannot resolve are dropped. */
export function hostsIn(text: string): string[] {
  return foundHostsIn(text).map((h) => h.host);
}

export function foundHostsIn(text: string): FoundHost[] {
  if (!MAY_HOLD_RE.test(text)) return [];
  const starts: number[] = [];
  SCHEME_RE.lastIndex = 0;
  for (let m = SCHEME_RE.exec(text); m; m = SCHEME_RE.exec(text)) starts.push(m.index);
  const out: FoundHost[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k]!;
    const limit = starts[k + 1] ?? text.length;
    // The URL up to the first space (prose, most code), and up to the closing quote: `fetch("https://a b@evil.com")`
    // and a tab inside a literal both reach evil.com, since the parser percent-encodes the space and drops the tab.
    let spaceEnd = -1;
    let end = limit;
    for (let i = start; i < limit; i++) {
      const c = text.charCodeAt(i);
      if (c === 34 || c === 39 || c === 96 || c === 60 || c === 62) {
        end = i;
        break;
      }
      if (spaceEnd < 0 && (c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000)) spaceEnd = i;
    }
    const candidates = spaceEnd >= 0 && spaceEnd < end ? [text.slice(start, spaceEnd), text.slice(start, end)] : [text.slice(start, end)];
    for (const candidate of candidates) {
      const found = parseHost(candidate);
      if (found && !seen.has(found.host)) {
        seen.add(found.host);
        out.push(found);
      }
    }
  }
  return out;
}

function parseHost(candidate: string): FoundHost | null {
  const decoded = candidate.includes("\\") ? candidate.replace(ESCAPE_RE, decodeEscape) : candidate;
  let hostname: string;
  try {
    hostname = new URL(decoded).hostname;
  } catch {
    return null;
  }
  const host = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  if (host.length === 0 || host.length > 253) return null;
  if (host.startsWith("[")) return { host, ip: true, disguised: !decoded.toLowerCase().includes(host) };
  if (IPV4_RE.test(host)) return { host, ip: true, disguised: !writtenAs(decoded, host) };
  return DNS_NAME_RE.test(host) || METADATA_HOSTS.has(host) ? { host, ip: false, disguised: false } : null;
}

/** True when the dotted form the parser printed is what the text says (not `0177.0.0.1` or `127.0.0.01`). */
function writtenAs(text: string, ipv4: string): boolean {
  const at = text.indexOf(ipv4);
  if (at < 0) return false;
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at + ipv4.length);
  const digitOrDot = (c: number) => (c >= 48 && c <= 57) || c === 46;
  return !digitOrDot(before) && !digitOrDot(after);
}

function decodeEscape(match: string, hex2?: string, braced?: string, hex4?: string): string {
  const code = Number.parseInt(hex2 ?? braced ?? hex4 ?? "", 16);
  return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : match;
}

/** Loopback and the any-address, written plainly, are the developer's own machine; every other IP literal counts. */
function isLocal(found: FoundHost): boolean {
  if (found.ip) return !found.disguised && (found.host.startsWith("127.") || found.host === "0.0.0.0" || found.host === "[::1]");
  return LOCAL_NAME_RE.test(found.host) && !METADATA_HOSTS.has(found.host);
}

/** False when no line of `text` can name a URL, so `detectNewHosts` would find nothing there. */
export function mayHoldHosts(text: string): boolean {
  return MAY_HOLD_RE.test(text);
}

/**
 * Hosts named in added lines that no removed or context line of the same diff names: a new external call.
 * The diff is all we see of the file, so "already in the file" means "already in the lines around it". IP
 * literals count like hosts (private ranges included: an internal service or a metadata endpoint), and one
 * written in a disguised notation is reported even when the diff already names it.
 */
export function detectNewHosts(lines: readonly PatchLine[]): Hit[] {
  const known = new Set<string>();
  for (const l of lines) {
    if (l.kind === "add") continue;
    for (const h of foundHostsIn(l.text)) known.add(h.host);
  }
  const hits: Hit[] = [];
  const reported = new Set<string>();
  for (const l of lines) {
    if (l.kind !== "add") continue;
    for (const h of foundHostsIn(l.text)) {
      if (reported.has(h.host) || isLocal(h) || (known.has(h.host) && !h.disguised)) continue;
      reported.add(h.host);
      hits.push({ line: l.line, what: h.ip ? `${h.host} (an IP address${h.disguised ? " in a disguised notation" : ""})` : h.host });
    }
  }
  return hits;
}

export const externalHosts: Detector<"external-hosts"> = {
  id: "external-hosts",
  description: "added URLs whose host the diff did not mention before, read as the WHATWG URL parser reads them (IP literals in any notation included)",
  needsPatch: true,
  detect: ({ file, lines }) => (file.patch && mayHoldHosts(file.patch) ? detectNewHosts(lines()) : NO_HITS),
};
