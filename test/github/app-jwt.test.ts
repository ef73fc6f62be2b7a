/**
 * The App's JWT is signed once and reused for five minutes (src/github/app-jwt.ts): every installation token the
 * server fetches in that time is bought with the same JWT, instead of one RS256 signature each.
 * RS256 signatures are deterministic, so two JWTs signed in the same second are equal anyway: the clock moves
 * between requests here, and a new signature would show as a different `iat`.
 */
import { createPublicKey, createVerify } from "node:crypto";
import nock from "nock";
import { Probot } from "probot";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AgentGateOctokit } from "../../src/app/server.js";
import { JWT_REUSE_MS, reusedAppJwt } from "../../src/github/app-jwt.js";
import { API, APP_ID, captureLog, testPrivateKey } from "../helpers/github.js";

interface Claims {
  iat: number;
  exp: number;
  iss: number | string;
}

/** The claims of an RS256 JWT, after checking its signature with the App's public key. */
function verified(jwt: string): Claims {
  const [header, payload, signature] = jwt.split(".");
  const verifier = createVerify("RSA-SHA256");
  verifier.update(`${header}.${payload}`);
  expect(verifier.verify(createPublicKey(testPrivateKey()), Buffer.from(signature!, "base64url"))).toBe(true);
  expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toMatchObject({ alg: "RS256", typ: "JWT" });
  return JSON.parse(Buffer.from(payload!, "base64url").toString()) as Claims;
}

afterEach(() => {
  vi.useRealTimers();
  nock.cleanAll();
});

describe("reusedAppJwt", () => {
  it("hands out one signed JWT for five minutes, then signs a new one", async () => {
    let now = Date.parse("2026-12-01T12:00:00Z");
    const createJwt = reusedAppJwt(testPrivateKey(), () => now);
    const first = await createJwt(APP_ID);
    const claims = verified(first.jwt);
    expect(claims).toEqual({ iss: APP_ID, iat: now / 1000 - 30, exp: now / 1000 - 30 + 600 });
    expect(first.expiresAt).toBe(new Date(claims.exp * 1000).toISOString());

    now += JWT_REUSE_MS - 1000;
    expect((await createJwt(APP_ID)).jwt).toBe(first.jwt);
    now += 1000;
    const second = await createJwt(APP_ID);
    expect(second.jwt).not.toBe(first.jwt);
    expect(verified(second.jwt).iat).toBe(now / 1000 - 30);
  });

  it("signs again for another clock correction (GitHub said our clock is off)", async () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    const createJwt = reusedAppJwt(testPrivateKey(), () => now);
    const plain = await createJwt(APP_ID);
    const corrected = await createJwt(APP_ID, 120);
    expect(verified(corrected.jwt).iat).toBe(now / 1000 + 120 - 30);
    expect(corrected.jwt).not.toBe(plain.jwt);
  });

  it("a key that cannot sign rejects every request, the second as the first", async () => {
    const createJwt = reusedAppJwt("not a key");
    await expect(createJwt(APP_ID)).rejects.toThrow();
    await expect(createJwt(APP_ID)).rejects.toThrow();
  });
});

describe("the server's Octokit", () => {
  it("buys the tokens of two installations with one JWT", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse("2026-12-01T12:00:00Z"));
    const bearers: string[] = [];
    nock(API)
      .persist()
      .post(/^\/app\/installations\/\d+\/access_tokens$/)
      .reply(201, function () {
        bearers.push(String(this.req.headers.authorization));
        return { token: `ghs_${bearers.length}`, expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {} };
      })
      .get("/repos/o/r")
      .reply(200, { id: 1 });
    const { log } = captureLog("info");
    const probot = new Probot({ appId: APP_ID, privateKey: testPrivateKey(), secret: "s", log, Octokit: AgentGateOctokit });
    await (await probot.auth(101)).request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
    vi.setSystemTime(Date.parse("2026-12-01T12:02:00Z"));
    await (await probot.auth(202)).request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
    expect(bearers).toHaveLength(2);
    expect(bearers[1]).toBe(bearers[0]);
    const claims = verified(bearers[0]!.replace(/^bearer /i, ""));
    expect(claims.iss).toBe(APP_ID);
    expect(claims.iat).toBe(Date.parse("2026-12-01T12:00:00Z") / 1000 - 30);
  });
});
