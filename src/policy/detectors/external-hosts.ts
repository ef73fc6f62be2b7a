import type { PatchLine } from "../patch.js";
import { NO_HITS } from "./types.js";
import type { Detector, Hit } from "./types.js";

const URL_RE = /\b(?:https?|wss?|ftps?):\/\/([^\s/"'`<>()[\]{}\\|^?#]{1,300})/gi;
const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+$/;
const LOCAL_HOST_RE =
  /^(?:localhost|.*\.localhost|.*\.local|.*\.internal|.*\.test|.*\.example|.*\.invalid|(?:.*\.)?example\.(?:com|org|net)|127\.\d+\.\d+\.\d+|0\.0\.0\.0|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+)$/;

/** The host names of the URLs on one line (no user info, no port), lowercased; invalid hosts are dropped. */
export function hostsIn(text: string): string[] {
  const out: string[] = [];
  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(text); m; m = URL_RE.exec(text)) {
    let authority = m[1] ?? "";
    const at = authority.lastIndexOf("@");
    if (at >= 0) authority = authority.slice(at + 1);
    const host = authority.replace(/:\d*$/, "").replace(/\.$/, "").toLowerCase();
    if (HOSTNAME_RE.test(host)) out.push(host);
  }
  return out;
}

/** False when no line of `text` names a URL, so `detectNewHosts` would find nothing there. */
export function mayHoldHosts(text: string): boolean {
  return text.includes("://");
}

/**
 * Hosts named in added lines that no removed or context line of the same diff names: a new external call.
 * The diff is all we see of the file, so "already in the file" means "already in the lines around it".
 */
export function detectNewHosts(lines: readonly PatchLine[]): Hit[] {
  const known = new Set<string>();
  for (const l of lines) {
    if (l.kind === "add" || !l.text.includes("://")) continue;
    for (const h of hostsIn(l.text)) known.add(h);
  }
  const hits: Hit[] = [];
  const reported = new Set<string>();
  for (const l of lines) {
    if (l.kind !== "add" || !l.text.includes("://")) continue;
    for (const h of hostsIn(l.text)) {
      if (known.has(h) || reported.has(h) || LOCAL_HOST_RE.test(h)) continue;
      reported.add(h);
      hits.push({ line: l.line, what: h });
    }
  }
  return hits;
}

export const externalHosts: Detector<"external-hosts"> = {
  id: "external-hosts",
  description: "added URLs whose host the diff did not mention before",
  needsPatch: true,
  detect: ({ file, lines }) => (file.patch && mayHoldHosts(file.patch) ? detectNewHosts(lines()) : NO_HITS),
};
