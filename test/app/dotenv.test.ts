// `.env` as the setup page writes it must read back (Node's parseEnv, what `npm start` uses) to the same values,
// multi-line private keys included, keep what was there, and stay readable by its owner only.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEnv } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { updateDotEnv } from "../../src/app/dotenv.js";
import { testPrivateKey } from "../helpers/github.js";

let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

describe("updateDotEnv", () => {
  it("round-trips keys, secrets and awkward values through parseEnv, merging with what was there, mode 0600", () => {
    dir = mkdtempSync(path.join(tmpdir(), "agent-gate-dotenv-"));
    const file = path.join(dir, ".env");
    writeFileSync(file, "LOG_LEVEL=debug\nAPP_ID=1\n", { mode: 0o644 });
    const values = { APP_ID: "12345", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: "a1b2c3", NOTE: "it's # not a comment", QUOTED: 'say "hi"', EMPTY: "" };
    updateDotEnv(file, values);
    expect(parseEnv(readFileSync(file, "utf8"))).toEqual({ LOG_LEVEL: "debug", ...values });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses a value it could not write back faithfully instead of corrupting the file", () => {
    dir = mkdtempSync(path.join(tmpdir(), "agent-gate-dotenv-"));
    const file = path.join(dir, ".env");
    expect(() => updateDotEnv(file, { BAD: `both ' and "` })).toThrow(/both quote characters/);
    expect(() => statSync(file)).toThrow();
  });
});
