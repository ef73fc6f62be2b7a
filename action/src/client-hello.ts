/**
 * Reads the server name (SNI) from the first bytes a client sends in a CONNECT tunnel, so the proxy can refuse
 * domain fronting: CONNECT to an allowed host, then a TLS handshake naming another host behind the same CDN.
 *
 * Hand-written because only one field of the ClientHello is needed and no well-kept library parses it without
 * also terminating TLS (node:tls cannot peek); the parser follows RFC 8446 §4.1.2 and RFC 6066 §3, accepts a
 * ClientHello fragmented over several records, and never reads past what it was given.
 */

export type ClientHelloPeek =
  | { status: "need-more" }
  | { status: "not-tls" }
  /** `sni` is null when the ClientHello carries no server_name extension (or no host_name entry in it). */
  | { status: "ok"; sni: string | null };

/** A ClientHello larger than this is refused rather than buffered (real ones are a few KB, post-quantum included). */
export const MAX_CLIENT_HELLO = 64 * 1024;

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;

/** Joins the handshake bytes of consecutive TLS records; null when a record is not a handshake record. */
function handshakeBytes(data: Buffer): { bytes: Buffer; complete: boolean } | null {
  const parts: Buffer[] = [];
  let offset = 0;
  let total = 0;
  let wanted = -1;
  while (offset + 5 <= data.length) {
    if (data[offset] !== RECORD_HANDSHAKE || data[offset + 1] !== 0x03) return null;
    const length = data.readUInt16BE(offset + 3);
    if (offset + 5 + length > data.length) break;
    const fragment = data.subarray(offset + 5, offset + 5 + length);
    parts.push(fragment);
    total += fragment.length;
    offset += 5 + length;
    if (wanted === -1 && total >= 4) {
      const head = Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return null;
      wanted = 4 + head.readUIntBE(1, 3);
    }
    if (wanted !== -1 && total >= wanted) return { bytes: Buffer.concat(parts).subarray(0, wanted), complete: true };
  }
  if (data.length >= 1 && data[0] !== RECORD_HANDSHAKE) return null;
  return { bytes: Buffer.concat(parts), complete: false };
}

/** Parses what the client sent so far. */
export function peekClientHello(data: Buffer): ClientHelloPeek {
  if (data.length > MAX_CLIENT_HELLO) return { status: "not-tls" };
  const hs = handshakeBytes(data);
  if (hs === null) return { status: "not-tls" };
  if (!hs.complete) return { status: "need-more" };
  const sni = serverNameOf(hs.bytes);
  return sni === undefined ? { status: "not-tls" } : { status: "ok", sni };
}

/** The host_name in a complete ClientHello handshake message; undefined when the message is malformed. */
function serverNameOf(msg: Buffer): string | null | undefined {
  let p = 4 + 2 + 32; // handshake header, legacy_version, random
  const skip = (lenBytes: 1 | 2): boolean => {
    if (p + lenBytes > msg.length) return false;
    const n = msg.readUIntBE(p, lenBytes);
    p += lenBytes + n;
    return p <= msg.length;
  };
  if (!skip(1) || !skip(2) || !skip(1)) return undefined; // session id, cipher suites, compression methods
  if (p === msg.length) return null; // no extensions at all
  if (p + 2 > msg.length) return undefined;
  const end = p + 2 + msg.readUInt16BE(p);
  p += 2;
  if (end > msg.length) return undefined;
  while (p + 4 <= end) {
    const type = msg.readUInt16BE(p);
    const length = msg.readUInt16BE(p + 2);
    const body = msg.subarray(p + 4, p + 4 + length);
    p += 4 + length;
    if (p > end) return undefined;
    if (type === EXT_SERVER_NAME) return hostNameEntry(body);
  }
  return null;
}

function hostNameEntry(ext: Buffer): string | null | undefined {
  if (ext.length < 2) return undefined;
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  for (let p = 2; p + 3 <= end; ) {
    const nameType = ext[p];
    const length = ext.readUInt16BE(p + 1);
    const name = ext.subarray(p + 3, p + 3 + length);
    p += 3 + length;
    if (p > end) return undefined;
    if (nameType === 0) return name.toString("latin1");
  }
  return null;
}
