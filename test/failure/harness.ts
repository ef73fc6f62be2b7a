/**
 * The failure tests' harness: the real server (`src/app/server.ts`, as `npm start` runs it) in a child process
 * that a test can kill -9 or SIGTERM, a fake GitHub over HTTP in the test process (bench/fake-github.ts), and
 * checks of the end state against GitHub's side (the fake's check runs) and the database (deliveries, pending
 * work, the audit log).
 *
 * Everything waits by polling state, never by sleeping a fixed time: the machine may be loaded.
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import type { FakeGitHub, FakePull } from "../../bench/fake-github.js";
import { APP_ID, fakeGitHub, privateKey } from "../../bench/requests.js";
import { parseHeadWitness } from "../../src/cli/checkpoint.js";
import { openStore } from "../../src/store/index.js";
import type { AuditEntry, Store } from "../../src/store/index.js";
import { createPostgresDatabase, rows } from "../helpers/db.js";
import { freePort } from "../helpers/net.js";
import { WEBHOOK_SECRET, waitFor } from "../helpers/webhooks.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CHECK_NAME = "Agent Gate: approval (main)";

export interface AppProcess {
  name: string;
  port: number;
  webhookUrl: string;
  child: ChildProcess;
  /** Every log line (pino JSON) and stderr line, for the checks below and for a failing test's message. */
  lines: string[];
  /** Resolves with the exit code (or the signal) once the process is gone. */
  exited: Promise<string>;
  alive(): boolean;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<string>;
}

export interface AppOptions {
  name: string;
  githubHost: string;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  env?: Record<string, string> | undefined;
}

/** Starts `src/app/server.ts` in a child process (one node process: `kill -9` reaches the App itself). */
export async function startAppProcess(options: AppOptions): Promise<AppProcess> {
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    NODE_ENV: "production",
    LOG_FORMAT: "json",
    LOG_LEVEL: "info",
    APP_ID: String(APP_ID),
    PRIVATE_KEY: privateKey(),
    WEBHOOK_SECRET,
    GHE_HOST: options.githubHost,
    GHE_PROTOCOL: "http",
    HOST: "127.0.0.1",
    PORT: String(port),
    JOB_CONCURRENCY: "8",
    // These tests prove the queue's own recovery; the reconciliation pass has its own test.
    RECONCILE_INTERVAL_SECONDS: "0",
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.dataDir ? { AGENT_GATE_DATA_DIR: options.dataDir } : {}),
    ...options.env,
  };
  const child = spawn(process.execPath, ["--import", "tsx", "src/app/server.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let rest = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts.filter((l) => l.trim() !== ""));
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  let exitedWith: string | undefined;
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve((exitedWith = signal ?? String(code)))));
  const app: AppProcess = {
    name: options.name,
    port,
    webhookUrl: `http://127.0.0.1:${port}/api/github/webhooks`,
    child,
    lines,
    exited,
    alive: () => exitedWith === undefined,
    async kill(signal) {
      if (exitedWith !== undefined) return exitedWith;
      child.kill(signal);
      return exited;
    },
  };
  try {
    await pollUntil(`${options.name} to answer /healthz`, async () => {
      if (!app.alive()) throw new Error(`${options.name} exited (${exitedWith}) before listening:\n${lines.slice(-30).join("\n")}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
      } catch {
        return false;
      }
    }, 180_000);
  } catch (error) {
    // The caller never gets the process to kill: a server that is slow to listen must not outlive the test.
    await app.kill("SIGKILL");
    throw error;
  }
  return app;
}

/** `waitFor` with the failure tests' patience: child processes on a loaded machine, polled every 250 ms. */
export function pollUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 240_000): Promise<void> {
  return waitFor(what, check, timeoutMs, 250);
}

/** Log lines that mean the process crashed or lost a promise (what the earlier session found: pg-boss, postgres.js). */
export function crashLines(app: AppProcess): string[] {
  // The App logs JSON; anything else on its output is Node printing an uncaught error's stack before exiting.
  return app.lines.filter((l) => (l.startsWith("{") ? /"level":60|unhandled rejection|uncaught exception/i.test(l) : /^\s*at |Error\b/.test(l)));
}

/** Opens the App's database from the test (Postgres: another client; PGlite: only once the App is gone). */
export function openDatabase(databaseUrl: string): Promise<Store> {
  return openStore({ databaseUrl, maxConnections: 3 });
}

/** Nothing left to do: no pending work, and every delivery recorded by the edge was handled. */
export async function settled(store: Store): Promise<boolean> {
  const [pending] = await rows<{ n: number }>(store, "select count(*)::int as n from pending_work");
  const [open] = await rows<{ n: number }>(store, "select count(*)::int as n from webhook_deliveries where outcome = 'pending'");
  return Number(pending?.n) === 0 && Number(open?.n) === 0;
}

type FakeCheckRun = FakeGitHub["checkRuns"][number];

export function runsOn(fake: FakeGitHub, pull: FakePull): FakeCheckRun[] {
  return fake.checkRuns.filter((r) => r.repo === `${pull.owner}/${pull.repo}` && r.headSha === pull.headSha && r.name === CHECK_NAME);
}

/** Every pull request has exactly one approval check on its newest head, with the conclusion it should have. */
export function everyPullDecided(fake: FakeGitHub, pulls: FakePull[], conclusion: (p: FakePull) => string): boolean {
  return pulls.every((p) => {
    const runs = runsOn(fake, p);
    return runs.length === 1 && runs[0]?.conclusion === conclusion(p);
  });
}

/** What the end state must be, for the test's message when it is not. */
export function describePulls(fake: FakeGitHub, pulls: FakePull[]): string {
  return pulls
    .map((p) => `#${p.number} ${p.headSha.slice(-6)}: ${runsOn(fake, p).map((r) => `${r.id}=${r.conclusion}`).join(",") || "no check"}`)
    .join("; ");
}

/** The `SEQ:HASH` a check run's summary names (issue 11), or null. */
export function auditRefOf(run: FakeCheckRun): string | null {
  return /Audit entry `(\d+:[0-9a-f]{64})`/.exec(run.summary)?.[1] ?? null;
}

async function auditEntries(store: Store): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const entry of store.audit.export()) out.push(entry);
  return out;
}

/**
 * The audit log has an entry for every check run GitHub shows: each run's summary names an `evaluation_decided`
 * entry of its head and name, the chain holds it unchanged (`audit verify --head`), and the run's id is in a
 * `check_published` entry. Returns the entries, for further checks.
 */
export async function expectAuditedChecks(store: Store, fake: FakeGitHub): Promise<AuditEntry[]> {
  const entries = await auditEntries(store);
  const byId = new Map(entries.map((e) => [e.id, e]));
  const publishedIds = new Set(entries.filter((e) => e.kind === "check_published").map((e) => (JSON.parse(e.payload) as { checkRunId: number }).checkRunId));
  const witnesses = [];
  for (const run of fake.checkRuns.filter((r) => r.name.startsWith("Agent Gate: approval"))) {
    const ref = auditRefOf(run);
    expect(ref, `check run ${run.id} names its audit entry`).not.toBeNull();
    const witness = parseHeadWitness(ref ?? "");
    expect(witness).toBeDefined();
    const entry = byId.get(witness!.id);
    expect(entry, `audit entry ${ref} of check run ${run.id}`).toMatchObject({ kind: "evaluation_decided", hash: witness!.hash });
    expect(JSON.parse(entry!.payload)).toMatchObject({ headSha: run.headSha, checkName: run.name, conclusion: run.conclusion });
    expect(publishedIds.has(run.id), `check run ${run.id} has a check_published entry`).toBe(true);
    witnesses.push(witness!);
  }
  expect(await store.audit.verify({ witnesses })).toMatchObject({ ok: true });
  return entries;
}

export interface PrivateCluster {
  url: string;
  /** `pg_ctl stop -m immediate`: every connection drops at once, as in a crash or a failover. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function run(command: string, args: string[], asPostgres: boolean): Promise<string> {
  const [cmd, argv] = asPostgres ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${out}`))));
  });
}

/**
 * A Postgres cluster of the test's own (initdb in a temporary directory, another port), so a test can stop the
 * database without touching the shared one. initdb refuses to run as root: then it runs as `postgres`.
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const versions = readdirSync("/usr/lib/postgresql").sort();
  const bin = path.join("/usr/lib/postgresql", versions.at(-1) ?? "", "bin");
  const dir = mkdtempSync(path.join(tmpdir(), "agent-gate-pg-"));
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, "data");
  const port = await freePort();
  await run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-N"], asPostgres);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=100`;
  const start = async () => {
    await run(path.join(bin, "pg_ctl"), ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "120", "start"], asPostgres);
  };
  const stop = async () => {
    await run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "120", "stop"], asPostgres);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async destroy() {
      await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where the App under test keeps its data: a fresh Postgres database, or a PGlite data directory (the embedded default). */
export type Driver = "postgres" | "pglite";

export interface Storage {
  driver: Driver;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
}

/**
 * What one failure test starts (fake GitHub, storage, App processes, a store opened from the test), each torn
 * down after the test whatever happened to it, the last started first: the App processes die before their
 * database is dropped, and a test only says what it needs.
 */
export interface FailureRun {
  github(): Promise<{ fake: FakeGitHub; host: string }>;
  storage(driver: Driver): Promise<Storage>;
  cluster(): Promise<PrivateCluster>;
  app(options: AppOptions): Promise<AppProcess>;
  /** The App's database, opened from the test. PGlite is one process: open it only once every App is gone. */
  openStore(storage: Storage): Promise<Store>;
}

/** Registers the teardown (afterEach) and returns the test's starters. Call once per test file, at the top. */
export function failureRun(): FailureRun {
  const teardown: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const step of teardown.splice(0).reverse()) await step().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  });
  const later = <T>(value: T, step: (value: T) => Promise<unknown>): T => {
    teardown.push(() => step(value));
    return value;
  };
  return {
    async github() {
      const fake = later(fakeGitHub(), (f) => f.stop());
      return { fake, host: await fake.start() };
    },
    async storage(driver) {
      if (driver === "postgres") {
        const database = later(await createPostgresDatabase(), (d) => d.drop());
        return { driver, databaseUrl: database.url };
      }
      const dataDir = later(mkdtempSync(path.join(tmpdir(), "agent-gate-failure-")), async (dir) => rmSync(dir, { recursive: true, force: true }));
      return { driver, dataDir };
    },
    async cluster() {
      return later(await startPrivateCluster(), (c) => c.destroy());
    },
    async app(options) {
      return later(await startAppProcess(options), (a) => a.kill("SIGKILL"));
    },
    async openStore(storage) {
      const store = storage.databaseUrl ? await openDatabase(storage.databaseUrl) : await openStore({ dataDir: storage.dataDir });
      return later(store, (s) => s.close());
    },
  };
}

/**
 * Nothing answered 202 is lost: every delivery still pending is covered by pending work, which the next start
 * resumes. (A job still finishing when SIGTERM's bound ran out leaves its work pending, by design.)
 */
export async function expectNothingLost(store: Store): Promise<void> {
  const lost = await rows(store, "select guid from webhook_deliveries d where outcome = 'pending' and not exists (select 1 from pending_work w where w.deliveries @> jsonb_build_array(jsonb_build_object('guid', d.guid)))");
  const left = JSON.stringify({ work: await rows(store, "select key, version, deliveries from pending_work"), jobs: await rows(store, "select state, retry_count, data from pgboss.job where state <> 'completed'") });
  expect(lost, left).toEqual([]);
}

/**
 * The queue has drained, read from the test. Postgres: polled from a second client while the App runs. PGlite:
 * the App is stopped first (SIGTERM lets running jobs finish), then its data directory is opened; work a job
 * was still finishing may stay pending for the next start, but none may be lost.
 */
export async function drained(run: FailureRun, storage: Storage, app: AppProcess): Promise<Store> {
  if (storage.driver === "postgres") {
    const store = await run.openStore(storage);
    await pollUntil("the queue to settle", () => settled(store), 120_000);
    return store;
  }
  expect(await app.kill("SIGTERM")).toBe("0");
  const store = await run.openStore(storage);
  await expectNothingLost(store);
  return store;
}
