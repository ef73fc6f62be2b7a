/**
 * The App's key is handed to Probot as PKCS#8 (src/app/server.ts, `pkcs8PrivateKey`): the JWT library would
 * otherwise convert a PKCS#1 key again for every JWT it signs. The converted key must be the same key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { pkcs8PrivateKey } from "../../src/app/server.js";

const pair = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs1", format: "pem" } });

describe("pkcs8PrivateKey", () => {
  it("turns GitHub's PKCS#1 key into PKCS#8 PEM of the same key", () => {
    expect(pair.privateKey).toContain("BEGIN RSA PRIVATE KEY");
    const converted = pkcs8PrivateKey(pair.privateKey);
    expect(converted).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPublicKey(converted).export({ type: "spki", format: "pem" })).toBe(pair.publicKey);
    // A JWT signed with the converted key verifies against the App's public key (what GitHub holds).
    const signature = sign("sha256", Buffer.from("header.payload"), createPrivateKey(converted));
    expect(verify("sha256", Buffer.from("header.payload"), pair.publicKey, signature)).toBe(true);
  });

  it("leaves a PKCS#8 key, and a key that does not parse, exactly as given", () => {
    const pkcs8 = createPrivateKey(pair.privateKey).export({ type: "pkcs8", format: "pem" }).toString();
    expect(pkcs8PrivateKey(pkcs8)).toBe(pkcs8);
    const broken = "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n";
    expect(pkcs8PrivateKey(broken)).toBe(broken);
  });
});
