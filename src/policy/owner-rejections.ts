/**
 * An owner's approval counts only if GitHub would count it (invariant 4): GitHub's own CODEOWNERS validation of
 * the base (`GET /repos/{o}/{r}/codeowners/errors?ref=<base>`) names the owners it rejects (unknown user or team,
 * no write access). Those owners are taken off the requirements; an error whose owner cannot be told takes its
 * whole line off. A requirement left with no owner can never be met.
 */
import type { Requirement } from "./types.js";

/** One line GitHub's CODEOWNERS validator rejected, as its errors endpoint gives it. */
export interface OwnerRejection {
  line: number;
  kind: string;
  message: string;
  suggestion?: string | null | undefined;
}

const OWNER = /@[A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9_.-]+)?/;

/** The requirements as GitHub would count them, given its validation errors of the base CODEOWNERS. */
export function withoutRejectedOwners(requirements: Requirement[], rejections: readonly OwnerRejection[]): Requirement[] {
  if (rejections.length === 0) return requirements;
  const owners = new Map<string, OwnerRejection>();
  const lines = new Map<number, OwnerRejection>();
  for (const r of rejections) {
    const named = OWNER.exec(r.suggestion ?? "")?.[0] ?? OWNER.exec(r.message.split("\n")[0] ?? "")?.[0];
    if (named) owners.set(named.toLowerCase(), r);
    else lines.set(r.line, r);
  }
  return requirements.map((req) => {
    if (req.source !== "codeowners" || !req.satisfiable) return req;
    const lineRejected = req.codeownersLine !== undefined ? lines.get(req.codeownersLine) : undefined;
    const kept = lineRejected ? [] : req.owners.filter((o) => !owners.has(o.toLowerCase()));
    if (kept.length === req.owners.length) return req;
    const why = lineRejected ?? req.owners.map((o) => owners.get(o.toLowerCase())).find((r) => r !== undefined);
    const quoted = why ? `CODEOWNERS line ${why.line}: ${describe(why)}` : "CODEOWNERS";
    if (kept.length > 0) return { ...req, owners: kept };
    return { ...req, owners: [], satisfiable: false, reason: `nobody can approve: GitHub rejects the owners of ${quoted}` };
  });
}

/** The message's first line, prefixed with the kind unless GitHub's message already starts with it. */
function describe(r: OwnerRejection): string {
  const first = (r.message.split("\n")[0] ?? "").slice(0, 200);
  return first.toLowerCase().startsWith(r.kind.toLowerCase()) ? first : `${r.kind}: ${first}`;
}
