import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { start } from "../../src/app/server.js";
import { openStore } from "../../src/store/index.js";
import { APP_ID, captureLog, testPrivateKey } from "../helpers/github.js";
import { tempDataDir } from "../helpers/db.js";

/** Every entry under `dir` (itself included) as "mode kind path", for readable failures. */
function modes(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out = [{ path: dir, mode: lstatSync(dir).mode & 0o777, dir: true }];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.push({ path: full, mode: lstatSync(full).mode & 0o777, dir: entry.isDirectory() });
  }
  return out;
}

function expectPrivate(dir: string): void {
  const entries = modes(dir);
  expect(entries.filter((e) => !e.dir).length).toBeGreaterThan(10);
  expect(entries.filter((e) => e.dir && e.mode !== 0o700).map((e) => `${e.mode.toString(8)} ${e.path}`)).toEqual([]);
  expect(entries.filter((e) => !e.dir && e.mode !== 0o600).map((e) => `${e.mode.toString(8)} ${e.path}`)).toEqual([]);
}

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe("private data: the embedded database", () => {
  it("private data: the data directory is created 0700 and its files 0600, while open and after close", async () => {
    const tmp = tempDataDir();
    cleanup.push(() => tmp.remove());
    const dataDir = path.join(tmp.dir, "nested", "data");
    const store = await openStore({ dataDir, migrate: true });
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    expectPrivate(dataDir);
    await store.close();
    expectPrivate(dataDir);
  });

  it("private data: a data directory left world-readable by an older version is tightened on open", async () => {
    const tmp = tempDataDir();
    cleanup.push(() => tmp.remove());
    const first = await openStore({ dataDir: tmp.dir, migrate: true });
    await first.close();
    chmodSync(tmp.dir, 0o755);
    mkdirSync(path.join(tmp.dir, "leftover"), { mode: 0o777 });
    chmodSync(path.join(tmp.dir, "leftover"), 0o777);
    writeFileSync(path.join(tmp.dir, "leftover", "x"), "secret", { mode: 0o666 });
    chmodSync(path.join(tmp.dir, "leftover", "x"), 0o666);
    const second = await openStore({ dataDir: tmp.dir });
    cleanup.push(() => second.close());
    expectPrivate(tmp.dir);
  });

  it("private data: npm start's embedded database (AGENT_GATE_DATA_DIR) is private", async () => {
    const tmp = tempDataDir();
    cleanup.push(() => tmp.remove());
    const dataDir = path.join(tmp.dir, "data");
    const running = await start({
      env: { APP_ID: String(APP_ID), PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: "s", AGENT_GATE_DATA_DIR: dataDir },
      port: 0,
      host: "127.0.0.1",
      log: captureLog("info").log,
    });
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    await running.stop();
    expectPrivate(dataDir);
  });
});
