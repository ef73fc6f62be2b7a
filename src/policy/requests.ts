import type { RequirementStatus } from "./types.js";

/**
 * Whom a waiting requirement asks for a review, by its `requests` mode (review requests without noise):
 * - `all`: every owner it waits on (the default; the built-in code-owner rule's behaviour);
 * - `team`: only its teams (GitHub's team settings may then assign one member);
 * - `one`: one owner, chosen by a hash of the pull request and the rule, so every event picks the same one
 *   (a random pick would ask someone new on each event); nobody when one of its owners is already asked;
 * - `none`: nobody (the disapproval group; the alternatives of an `anyOf` after the first viable one).
 *
 * `askable` says whether an owner may be asked at all (not the author, not a bot, not someone who already
 * reviewed); `pending` whether they are already asked (by GitHub's list or by this App before).
 */
export function ownersToAsk(req: RequirementStatus, prNumber: number, askable: (owner: string) => boolean, pending: (owner: string) => boolean): string[] {
  const mode = req.requests ?? "all";
  if (mode === "none") return [];
  const waiting = req.waitingOn.filter((o) => o.startsWith("@"));
  if (mode === "team") return waiting.filter((o) => o.includes("/") && askable(o));
  if (mode === "all") return waiting.filter(askable);
  if (waiting.some(pending)) return [];
  const candidates = waiting.filter(askable).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  if (candidates.length === 0) return [];
  const key = `${prNumber}:${req.name ?? req.paths[0] ?? req.id}`;
  return [candidates[fnv1a(key) % candidates.length] as string];
}

/** FNV-1a, 32 bits: a stable, well-spread hash of a short key (not a security boundary). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
