/**
 * Sessions of the compliance pages, kept in the database (shared by every App process, surviving restarts).
 *
 * The browser holds a random 256-bit session id in a signed, HttpOnly cookie. The database holds only its sha256,
 * and the GitHub user token sealed (AES-256-GCM) under a key derived (HKDF) from the id itself: someone who reads
 * the database gets neither a cookie that works nor a token. Ending a session deletes its row.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import type { WebSessionsRepository } from "../store/index.js";

export interface Session {
  id: string;
  idHash: string;
  kind: "github" | "auditor";
  login: string;
  /** The GitHub user token (github sessions only). */
  token: string | null;
  expiresAt: Date;
}

const hashId = (id: string) => createHash("sha256").update(id).digest("hex");

function keyFor(id: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(id, "utf8"), Buffer.from("agent-gate"), Buffer.from("web-session-token"), 32));
}

export function sealToken(token: string, id: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFor(id), iv);
  const ciphertext = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString("base64url")).join(".");
}

/** @returns null when the sealed value was not made for this id (or was altered). */
export function openToken(sealed: string, id: string): string | null {
  const [iv, tag, ciphertext] = sealed.split(".").map((p) => Buffer.from(p, "base64url"));
  if (!iv || !tag || !ciphertext) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", keyFor(id), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/** Session ids are 43 characters of base64url; anything else is not ours and costs no database read. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  constructor(
    private readonly repository: WebSessionsRepository,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async create(input: { kind: Session["kind"]; login: string; token: string | null; expiresAt: Date }): Promise<Session> {
    const id = randomBytes(32).toString("base64url");
    const idHash = hashId(id);
    await this.repository.create({ idHash, kind: input.kind, login: input.login, tokenSealed: input.token === null ? null : sealToken(input.token, id), expiresAt: input.expiresAt });
    // Opportunistic clean-up: expired rows are useless and only grow the table.
    await this.repository.deleteExpired(this.clock()).catch(() => 0);
    return { id, idHash, ...input };
  }

  async load(id: string): Promise<Session | null> {
    if (!SESSION_ID.test(id)) return null;
    const row = await this.repository.find(hashId(id), this.clock());
    if (!row) return null;
    const token = row.tokenSealed === null ? null : openToken(row.tokenSealed, id);
    if (row.kind === "github" && token === null) return null;
    return { id, idHash: row.idHash, kind: row.kind, login: row.login, token, expiresAt: row.expiresAt };
  }

  async end(session: Pick<Session, "idHash">): Promise<void> {
    await this.repository.delete(session.idHash);
  }
}
