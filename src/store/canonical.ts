/**
 * Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for the values the audit log stores:
 * object keys sorted by UTF-16 code units, no whitespace, ECMAScript number and string serialisation.
 * The same value always gives the same bytes, so its hash can be recomputed years later.
 */
import { createHash } from "node:crypto";

export class CanonicalizeError extends Error {
  override readonly name = "CanonicalizeError";
}

/** @throws {CanonicalizeError} for values JSON cannot represent exactly (NaN, Infinity, bigint, functions, cycles). */
export function canonicalize(value: unknown): string {
  return serialize(value, new Set(), "$");
}

function serialize(value: unknown, seen: Set<object>, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalizeError(`${path}: ${value} is not representable in JSON`);
      // ECMAScript's Number-to-String is exactly what RFC 8785 prescribes (and -0 becomes 0).
      return JSON.stringify(value);
    case "bigint":
    case "function":
    case "symbol":
    case "undefined":
      throw new CanonicalizeError(`${path}: a ${typeof value} is not representable in JSON`);
    default:
      break;
  }
  const obj = value;
  const withToJSON = obj as { toJSON?: () => unknown };
  if (typeof withToJSON.toJSON === "function") return serialize(withToJSON.toJSON(), seen, path);
  if (seen.has(obj)) throw new CanonicalizeError(`${path}: circular reference`);
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      // Like JSON.stringify: holes and undefined inside arrays become null.
      return `[${obj.map((item: unknown, i) => (item === undefined ? "null" : serialize(item, seen, `${path}[${i}]`))).join(",")}]`;
    }
    const record = obj as Record<string, unknown>;
    const parts: string[] = [];
    // Default sort compares UTF-16 code units, which is the order RFC 8785 requires.
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
      parts.push(`${JSON.stringify(key)}:${serialize(item, seen, `${path}.${key}`)}`);
    }
    return `{${parts.join(",")}}`;
  } finally {
    seen.delete(obj);
  }
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** sha256 (hex) of the canonical JSON of `inputs`: the `inputsDigest` an evaluation records. */
export function inputsDigest(inputs: unknown): string {
  return sha256Hex(canonicalize(inputs));
}
