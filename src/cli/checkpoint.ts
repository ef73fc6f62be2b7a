/**
 * Audit checkpoints: a small JSON file naming the chain's newest entry (its id, the sequence number, and its
 * hash) at a moment the chain verified. Kept outside the database (another machine, WORM storage, a signed
 * commit), it lets `agent-gate audit verify --checkpoint FILE` detect a chain that was truncated or rewritten
 * after the checkpoint was taken, which the chain alone cannot show.
 */
import { z } from "zod";
import type { AuditWitness } from "../store/index.js";

export const CHECKPOINT_FORMAT = "agent-gate-audit-checkpoint/1";

const HASH = /^[0-9a-f]{64}$/;

const checkpointSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  seq: z.number().int().positive(),
  hash: z.string().regex(HASH),
  count: z.number().int().nonnegative(),
  takenAt: z.iso.datetime(),
});

export type AuditCheckpoint = z.infer<typeof checkpointSchema>;

export function checkpointJson(checkpoint: AuditCheckpoint): string {
  return `${JSON.stringify(checkpoint, null, 2)}\n`;
}

/** @returns the witness, or an error message naming what is wrong with the file. */
export function parseCheckpoint(text: string, file: string): { ok: true; witness: AuditWitness } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `${file} is not a checkpoint (not JSON)` };
  }
  const parsed = checkpointSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${file} is not a checkpoint: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}` };
  }
  return { ok: true, witness: { id: parsed.data.seq, hash: parsed.data.hash } };
}

/** `SEQ:HASH` as printed in every approval check run. */
export function parseHeadWitness(value: string): AuditWitness | undefined {
  const match = /^(\d{1,15}):([0-9a-fA-F]{64})$/.exec(value.trim());
  if (!match) return undefined;
  const id = Number(match[1]);
  return id > 0 ? { id, hash: match[2]!.toLowerCase() } : undefined;
}
