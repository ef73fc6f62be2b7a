import { describe, expect, it } from "vitest";
import { findSecrets, mayHoldSecrets, secretRules } from "../../src/shared/secrets.js";
import { detectSecrets } from "../../src/policy/detectors/secrets.js";
import { parsePatch } from "../../src/policy/patch.js";
import { redactText } from "../../src/telemetry/redact.js";

// Built from pieces so no scanner mistakes these test strings for real credentials.
const j = (...p: string[]) => p.join("");
const GH = j("ghp_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
const AWS = j("AKIA", "IOSFODNN7EXAMPLE");

describe("the one secret catalogue", () => {
  it("findSecrets returns the rule id and the offsets of the secret itself", () => {
    const text = `push with ${GH} then key ${AWS}`;
    const found = findSecrets(text);
    expect(found.map((m) => m.rule)).toEqual(["github-token", "aws-access-key"]);
    for (const m of found) expect([GH, AWS]).toContain(text.slice(m.start, m.end));
  });

  it("an assignment's offsets cover the value, not the name", () => {
    const text = `DB_PASSWORD="Zq8vL2mN9xR4tY7wK1pB5sD3"`;
    const [m] = findSecrets(text);
    expect(m?.rule).toBe("secret-assignment");
    expect(text.slice(m!.start, m!.end)).toBe("Zq8vL2mN9xR4tY7wK1pB5sD3");
  });

  it("strict mode (diffs) leaves code alone that redact mode (logs) still hides", () => {
    const code = `headers: { Authorization: "Bearer abcdefghijklmnop1234" }; password = "hunter2hunter"`;
    expect(findSecrets(code, "strict")).toEqual([]);
    expect(findSecrets(code, "redact").map((m) => m.rule)).toEqual(["authorization", "secret-assignment"]);
  });

  it("where two rules see the same secret, the earlier catalogue rule names it once", () => {
    const text = `password=${GH}`;
    expect(findSecrets(text, "redact").map((m) => m.rule)).toEqual(["github-token"]);
    expect(redactText(text)).toBe("password=[REDACTED:github-token]");
  });

  it("the risk detector and redaction use the same catalogue: what the detector finds, redaction removes", () => {
    const lines = [GH, AWS, j("xoxb-", "1234567890-abcdefghij"), j("sk_live_", "4eC39HqLyjWDarjtT1zdp7dc"), j("npm_", "a".repeat(36)), j("glpat-", "abcdefghij0123456789")];
    for (const secret of lines) {
      const hits = detectSecrets(parsePatch(`@@ -0,0 +1 @@\n+const v = "${secret}";`));
      expect(hits, secret).toHaveLength(1);
      expect(redactText(`const v = "${secret}";`), secret).not.toContain(secret);
    }
  });

  it("every rule has literals the prefilter can rule a text out by, in both modes", () => {
    expect(mayHoldSecrets("return value + 1;", "strict")).toBe(false);
    expect(mayHoldSecrets("return value + 1;", "redact")).toBe(false);
    expect(mayHoldSecrets(`x ${GH}`)).toBe(true);
    expect(new Set(secretRules().map((r) => r.id)).size).toBe(secretRules().length);
  });

  it("stays linear on hostile input (no catastrophic backtracking)", () => {
    const hostile = `${"a_".repeat(100_000)}x ${"-----BEGIN PRIVATE KEY-----".repeat(2_000)} ${"token=".repeat(20_000)}`;
    expect(Array.isArray(findSecrets(hostile, "redact"))).toBe(true);
    expect(Array.isArray(findSecrets(hostile, "strict"))).toBe(true);
  });
});
