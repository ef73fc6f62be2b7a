/**
 * Webhook throughput: a burst of signed deliveries over HTTP to the real server (`src/app/server.ts` in a child
 * process, as `npm start` runs it) with a fresh Postgres database, against the fake GitHub API in this process.
 * Afterwards the database is checked: every delivery recorded once, one evaluation per delivery, none twice.
 *
 * Each pull request gets `opened`, then (after the answer) an approving review; a tenth of the deliveries are
 * redeliveries of earlier ones (same `X-GitHub-Delivery`), half sent while the original is still running.
 *
 * How the pull requests are spread over installations decides the ceiling, not the App: Octokit's throttling
 * (GitHub's secondary-rate-limit guidance) spaces one installation's content-creating requests 1 s apart, and a
 * delivery makes about 1.35 writes, so one installation publishes at most ~0.7 deliveries a second whatever the
 * App does. A burst of N deliveries a second is only possible spread over at least ~1.35 N installations, e.g. an
 * App installed in many organisations; `prsPerInstallation` (default 1) sets the spread.
 */
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { PERF_NODE_ARGS, recordPerf, summarisePerf } from "./profile.js";
import type { PerfSummary } from "./profile.js";
import { fakeGitHub, newPull, privateKey, pullRequestEvent, review, reviewEvent, APP_ID } from "./requests.js";
import type { Delivery } from "./requests.js";
import { ROOT, ms, nodeBinary, peakRss, quantile, table } from "./util.js";

const PG_ADMIN_URL = process.env.AGENT_GATE_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECRET = "bench-webhook-secret";

export interface ThroughputOptions {
  deliveries: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** Pull requests per installation (default 1: every pull request in its own installation). */
  prsPerInstallation?: number;
  /**
   * Open loop: deliveries arrive at this rate (a second), whether or not earlier ones were answered, as GitHub
   * sends them; each pull request's chain (opened, then its review once opened is answered) starts on a fixed
   * schedule. Absent: closed loop, `concurrency` deliveries in flight, each sent as soon as one is answered.
   */
  ratePerSecond?: number;
  /** Record the server with Linux perf (every thread) into this file while the burst runs; see profile.ts. */
  perfFile?: string | undefined;
  /**
   * Deliveries of a first burst on other pull requests, all decided before the measured burst starts, so the
   * figures are a running server's rather than a cold one's (V8 compiles the hot code during the first minutes).
   */
  warmupDeliveries?: number | undefined;
  /** The Node binary that runs the server (default: this process's). */
  serverNode?: string | undefined;
}

export interface ThroughputResult {
  deliveries: number;
  unique: number;
  pullRequests: number;
  concurrency: number;
  /** Until every delivery was finished in the database. */
  seconds: number;
  perSecond: number;
  /** Until every HTTP request was answered (200, or 202 after the middleware's 9 s). */
  answeredSeconds: number;
  latencyMs: { p50: number; p99: number; max: number };
  statuses: Record<string, number>;
  serverPeakRss: number | null;
  /** CPU seconds the server used from start-up to the end of the burst (Linux). */
  serverCpuSeconds: number | null;
  /** The same, from the moment it answered /healthz (start-up excluded). */
  serverCpuAfterStartSeconds: number | null;
  /** Open loop: the arrival rate asked for (null: closed loop). */
  ratePerSecond: number | null;
  githubRequests: number;
  checkRuns: number;
  installations: number;
  /** Content-creating requests GitHub received, and the most of them in any one second (all installations). */
  writes: number;
  peakWritesPerSecond: number;
  /** The closest two writes of one installation arrived this far apart (the limiter spaces them 1 s). */
  minWriteGapSeconds: number | null;
  /** `heads`: distinct (repository, head) evaluated; one check run each. `coalesced`: deliveries folded into a pending evaluation. */
  db: { deliveries: number; processed: number; evaluations: number; distinctEvaluated: number; missing: number; duplicated: number; coalesced: number; heads: number } | null;
  dbError?: string;
  /** Deliveries of the warm-up burst before this one (0: a cold server). */
  warmupDeliveries: number;
  /** `node --version` of the server's Node. */
  serverNodeVersion: string;
  /** Where the server's CPU went during the burst, when `perfFile` was given. */
  perf?: PerfSummary | null;
}

/** CPU seconds (user + system) a Linux process has used so far; null elsewhere. */
export function cpuSeconds(pid: number): number | null {
  try {
    // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function waitForHealth(url: string, child: { exitCode: number | null }, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the server did not answer ${url} within ${timeoutMs} ms`);
}

export type DatabaseCheck = NonNullable<ThroughputResult["db"]>;

/**
 * Waits until every delivery in `uniqueIds` is finished in the database (or `deadlineMs` passes), then counts:
 * delivery rows, evaluations, coalesced deliveries, lost (never recorded, failed, still pending, or processed
 * without its evaluation) and duplicated (two evaluations of one delivery). `seconds`: from `started` until done.
 * Rows of other deliveries (a warm-up burst's) are left out of every count.
 */
export async function checkDatabase(dbUrl: string, uniqueIds: Set<string>, started: number, deadlineMs: number): Promise<{ db: DatabaseCheck | null; dbError?: string; seconds: number }> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const ids = JSON.stringify([...uniqueIds]);
  let seconds = (performance.now() - started) / 1000;
  try {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const [p] = await sql<Array<{ done: number }>>`select count(*) filter (where outcome <> 'pending')::int as done from webhook_deliveries where guid in (select jsonb_array_elements_text((${ids}::text)::jsonb))`;
      if (p!.done >= uniqueIds.size || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    seconds = (performance.now() - started) / 1000;
    const rows = await sql<Array<{ guid: string; outcome: string }>>`select guid, outcome from webhook_deliveries where guid in (select jsonb_array_elements_text((${ids}::text)::jsonb))`;
    const outcome = new Map(rows.map((r) => [r.guid, r.outcome]));
    const [e] = await sql<Array<{ n: number; distinct: number }>>`select count(*)::int as n, count(distinct delivery_id)::int as distinct from evaluations where delivery_id in (select jsonb_array_elements_text((${ids}::text)::jsonb))`;
    const evaluated = new Set((await sql<Array<{ delivery_id: string }>>`select delivery_id from evaluations where delivery_id in (select jsonb_array_elements_text((${ids}::text)::jsonb))`).map((r) => r.delivery_id));
    // A delivery that arrived while its PR's evaluation was pending folded into it (docs/app.md, durable processing).
    const coalesced = new Set((await sql<Array<{ delivery_id: string }>>`select delivery_id from audit_log where kind = 'delivery_coalesced' and delivery_id in (select jsonb_array_elements_text((${ids}::text)::jsonb))`).map((r) => r.delivery_id));
    for (const id of coalesced) evaluated.add(id);
    const [h] = await sql<Array<{ n: number }>>`select count(distinct (repository, head_sha))::int as n from evaluations where delivery_id in (select jsonb_array_elements_text((${ids}::text)::jsonb))`;
    const missing = [...uniqueIds].filter((id) => {
      const o = outcome.get(id);
      return o === undefined || o === "pending" || o === "failed" || (o === "processed" && !evaluated.has(id));
    }).length;
    const db = { deliveries: rows.length, processed: rows.filter((r) => r.outcome === "processed").length, evaluations: e!.n, distinctEvaluated: e!.distinct, missing, duplicated: e!.n - e!.distinct, coalesced: coalesced.size, heads: h!.n };
    return { db, seconds };
  } catch (error) {
    return { db: null, dbError: error instanceof Error ? error.message : String(error), seconds };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** `concurrency` chains at a time, each started as soon as one finishes: the answer rate sets the arrival rate. */
async function closedLoop(chains: Array<() => Promise<void>>, concurrency: number): Promise<void> {
  let nextChain = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, chains.length) }, async () => {
      while (nextChain < chains.length) await chains[nextChain++]!();
    }),
  );
}

/**
 * Chain i starts at i * `intervalSeconds` from now, however slowly earlier deliveries are answered (a closed loop
 * would slow its arrivals down to the server's pace and hide the wait: coordinated omission).
 */
async function openLoop(chains: Array<() => Promise<void>>, intervalSeconds: number): Promise<void> {
  const t0 = performance.now();
  const running: Array<Promise<void>> = [];
  for (let i = 0; i < chains.length; i++) {
    const wait = t0 + i * intervalSeconds * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    running.push(chains[i]!());
  }
  await Promise.all(running);
}

export async function benchThroughput(options: ThroughputOptions): Promise<{ markdown: string; result: ThroughputResult }> {
  const concurrency = options.concurrency ?? 256;
  const prsPerInstallation = Math.max(1, Math.floor(options.prsPerInstallation ?? 1));
  const installationOf = (i: number) => 10_000 + Math.floor(i / prsPerInstallation);
  const fake = fakeGitHub();
  const host = await fake.start();
  const dbName = `agent_gate_bench_${randomBytes(6).toString("hex")}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const dbUrl = new URL(PG_ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const port = await freePort();
  let stderr = "";
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server (NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = [...(process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? []), ...(options.perfFile ? PERF_NODE_ARGS : [])];
  const serverNode = nodeBinary(options.serverNode ?? process.execPath);
  const server = spawn(serverNode.path, [...nodeArgs, "--import", "tsx", join(ROOT, "src/app/server.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      APP_ID: String(APP_ID),
      PRIVATE_KEY: privateKey(),
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: host,
      GHE_PROTOCOL: "http",
      DATABASE_URL: dbUrl.toString(),
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      NODE_ENV: "production",
      // Measured without the reconciliation pass (its one request a pass would only add noise here).
      RECONCILE_INTERVAL_SECONDS: "0",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  server.stderr.setEncoding("utf8");
  server.stderr.on("data", (c: string) => (stderr = (stderr + c).slice(-4_000)));

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const uniqueIds = new Set<string>();
  let sent = 0;
  let result: ThroughputResult | undefined;
  let perf: { stop(): Promise<void> } | undefined;
  try {
    await waitForHealth(`http://127.0.0.1:${port}/healthz`, server);
    let cpuAtStart = server.pid === undefined ? null : cpuSeconds(server.pid);
    if (options.perfFile && server.pid !== undefined) perf = recordPerf(server.pid, options.perfFile);
    const url = `http://127.0.0.1:${port}/api/github/webhooks`;
    const send = async (id: string, event: Delivery): Promise<void> => {
      const body = JSON.stringify(event.payload);
      const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
      sent++;
      const t0 = performance.now();
      let status = "error";
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-github-event": String(event.name), "x-github-delivery": id, "x-hub-signature-256": signature, "user-agent": "GitHub-Hookshot/bench" },
          body,
        });
        await response.arrayBuffer();
        status = String(response.status);
      } finally {
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };

    // 45% of the deliveries are PRs' opened events, 45% their reviews, 10% redeliveries.
    const burst = (deliveries: number, firstPull: number, ids: Set<string>) => {
      const pulls = Math.max(1, Math.floor((deliveries * 0.9) / 2));
      const redeliveries = deliveries - pulls * 2;
      const chains: Array<() => Promise<void>> = [];
      for (let k = 0; k < pulls; k++) {
        const i = firstPull + k;
        chains.push(async () => {
          // Spread over installations: see the note above the table (one installation's writes are spaced 1 s apart).
          const p = newPull(fake, i + 1, 3, { repo: `service-${i % 50}` });
          const opened = pullRequestEvent(p, "opened");
          opened.payload.installation.id = installationOf(i);
          const openedId = randomUUID();
          ids.add(openedId);
          const concurrentDuplicate = 2 * k < redeliveries;
          await Promise.all([send(openedId, opened), concurrentDuplicate ? send(openedId, opened) : Promise.resolve()]);
          review(p, "dba-alice");
          const approval = reviewEvent(p, "dba-alice");
          approval.payload.installation.id = installationOf(i);
          const reviewId = randomUUID();
          ids.add(reviewId);
          await send(reviewId, approval);
          if (2 * k + 1 < redeliveries) await send(reviewId, approval);
        });
      }
      return { pulls, run: () => (options.ratePerSecond ? openLoop(chains, deliveries / pulls / options.ratePerSecond) : closedLoop(chains, concurrency)) };
    };
    // A warm-up burst on other pull requests, decided before the measured one starts: the server of a deployment
    // that has been running (V8 has compiled its hot code). None of it is counted below.
    const warmupIds = new Set<string>();
    if (options.warmupDeliveries) {
      await burst(options.warmupDeliveries, 1_000_000, warmupIds).run();
      await checkDatabase(dbUrl.toString(), warmupIds, performance.now(), 120_000 + warmupIds.size * 2_000);
      latencies.length = 0;
      for (const key of Object.keys(statuses)) delete statuses[key];
      sent = 0;
      fake.requests.length = 0;
      fake.checkRuns.length = 0;
      cpuAtStart = server.pid === undefined ? null : cpuSeconds(server.pid);
    }
    const measured = burst(options.deliveries, 0, uniqueIds);
    const pullRequests = measured.pulls;
    const started = performance.now();
    await measured.run();
    const answered = (performance.now() - started) / 1000;

    // The webhook middleware answers 202 "still processing" after 9 s; the decisions are counted once the
    // database has finished every delivery (or a generous deadline passes).
    const { db, dbError, seconds } = await checkDatabase(dbUrl.toString(), uniqueIds, started, 120_000 + uniqueIds.size * 2_000);
    const serverPeak = server.pid === undefined ? null : peakRss(server.pid);
    const serverCpu = server.pid === undefined ? null : cpuSeconds(server.pid);
    const writes = fake.requests.filter((r) => r.method !== "GET" && !r.path.startsWith("/app/"));
    const byInstallation = new Map<number, number[]>();
    for (const w of writes) if (w.installation !== undefined) byInstallation.set(w.installation, [...(byInstallation.get(w.installation) ?? []), w.at]);
    let minGap: number | null = null;
    for (const times of byInstallation.values()) {
      times.sort((a, b) => a - b);
      for (let k = 1; k < times.length; k++) minGap = Math.min(minGap ?? Number.POSITIVE_INFINITY, times[k]! - times[k - 1]!);
    }
    const writeTimes = writes.map((w) => w.at).sort((a, b) => a - b);
    let peakWrites = 0;
    for (let lo = 0, hi = 0; hi < writeTimes.length; hi++) {
      while (writeTimes[hi]! - writeTimes[lo]! >= 1000) lo++;
      peakWrites = Math.max(peakWrites, hi - lo + 1);
    }
    result = {
      deliveries: sent,
      unique: uniqueIds.size,
      pullRequests,
      concurrency,
      seconds,
      perSecond: sent / seconds,
      answeredSeconds: answered,
      latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies) },
      statuses,
      serverPeakRss: serverPeak,
      serverCpuSeconds: serverCpu,
      serverCpuAfterStartSeconds: serverCpu === null || cpuAtStart === null ? null : serverCpu - cpuAtStart,
      ratePerSecond: options.ratePerSecond ?? null,
      warmupDeliveries: options.warmupDeliveries ?? 0,
      serverNodeVersion: serverNode.version,
      githubRequests: fake.requests.length,
      checkRuns: fake.checkRuns.length,
      installations: installationOf(pullRequests - 1) - installationOf(0) + 1,
      writes: writes.length,
      peakWritesPerSecond: peakWrites,
      minWriteGapSeconds: minGap === null ? null : minGap / 1000,
      db,
      ...(dbError ? { dbError } : {}),
    };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nserver stderr:\n${stderr}`);
  } finally {
    await perf?.stop();
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
    await fake.stop();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
    await admin.end({ timeout: 5 });
  }

  if (options.perfFile && result) {
    result.perf = await summarisePerf(options.perfFile);
    // perf script has read the JIT's symbol map; both files run to hundreds of MB.
    // BENCH_KEEP_PERF=1 keeps both, for `perf script -i FILE` by hand.
    if (!process.env.BENCH_KEEP_PERF) {
      rmSync(options.perfFile, { force: true });
      if (server.pid !== undefined) rmSync(`/tmp/perf-${server.pid}.map`, { force: true });
    }
  }
  const r = result;
  const target = r.perSecond >= 200 ? "met" : "**missed**";
  const dbLine = r.db
    ? `Database afterwards: ${r.db.deliveries} delivery rows for ${r.unique} distinct deliveries (${r.db.processed} processed, the rest superseded or skipped on purpose), ${r.db.evaluations} evaluations for ${r.db.distinctEvaluated} distinct deliveries, ${r.db.coalesced} deliveries coalesced into a pending evaluation of their PR (${(r.db.coalesced / r.unique).toFixed(2)} of those received): ` +
      `**${r.db.missing} lost, ${r.db.duplicated} duplicated**; the fake GitHub received ${r.checkRuns} check runs for ${r.db.heads} evaluated heads (one per head, updated by later decisions).`
    : `Database check pending: ${r.dbError ?? "no database"}.`;
  const markdown = [
    "## 3. Webhook throughput",
    "",
    `A burst of ${r.deliveries.toLocaleString("en")} signed deliveries (HMAC-SHA256, as GitHub signs them) over HTTP to \`src/app/server.ts\` (\`npm start\`) in a child process, ` +
      `with a fresh Postgres database and the fake GitHub API; ${r.concurrency} deliveries in flight at most. ${r.pullRequests.toLocaleString("en")} pull requests each get \`opened\`, ` +
      `then an approving review once \`opened\` is answered; ${r.deliveries - r.unique} deliveries are redeliveries (same \`X-GitHub-Delivery\`), half of them sent while the original runs. ` +
      `The ${r.pullRequests.toLocaleString("en")} pull requests are spread over ${r.installations.toLocaleString("en")} installation${r.installations === 1 ? "" : "s"} (${r.installations === r.pullRequests ? "one each" : `${(r.pullRequests / r.installations).toFixed(0)} each`}). ` +
      "The spread sets the ceiling: Octokit's throttling plugin (on in the server, as Probot configures it) spaces one installation's content-creating requests 1 s apart, GitHub's secondary-rate-limit guidance, " +
      `and a delivery made ${(r.writes / r.deliveries).toFixed(2)} writes, so one installation publishes at most ~${(r.deliveries / r.writes).toFixed(1)} deliveries a second whatever the App does; N deliveries a second need a burst spread over at least ~${(r.writes / r.deliveries).toFixed(2)} N installations (an App installed across many organisations). ` +
      `Measured at the fake GitHub: ${r.writes.toLocaleString("en")} writes, up to ${r.peakWritesPerSecond} in one second across installations, ` +
      `${r.minWriteGapSeconds === null ? "no installation wrote twice" : `the closest two writes of one installation arrived ${r.minWriteGapSeconds.toFixed(2)} s apart (the limiter starts them 1 s apart; a busy event loop delays some sends more than others)`}.`,
    "",
    table(
      ["deliveries", "seconds (all decided)", "deliveries/s", "target", "HTTP p50 ms", "HTTP p99 ms", "max ms", "server peak RSS MiB", "HTTP statuses", "GitHub requests"],
      ["r", "r", "r", "l", "r", "r", "r", "r", "l", "r"],
      [
        [
          r.deliveries.toLocaleString("en"),
          r.seconds.toFixed(1),
          r.perSecond.toFixed(1),
          `≥ 200/s: ${target}`,
          ms(r.latencyMs.p50),
          ms(r.latencyMs.p99),
          ms(r.latencyMs.max),
          r.serverPeakRss === null ? "n/a" : (r.serverPeakRss / 1024 / 1024).toFixed(0),
          Object.entries(r.statuses)
            .map(([k, v]) => `${k}: ${v}`)
            .join(", "),
          r.githubRequests.toLocaleString("en"),
        ],
      ],
    ),
    "",
    r.serverCpuSeconds === null
      ? ""
      : `The server used ${r.serverCpuSeconds.toFixed(1)} s of CPU from start-up to the last decision (${((r.serverCpuSeconds * 1000) / r.deliveries).toFixed(1)} ms a delivery, start-up included` +
        `${r.serverCpuAfterStartSeconds === null ? "" : `; ${r.serverCpuAfterStartSeconds.toFixed(1)} s after it answered /healthz`}; one Node process uses one core). `,
    dbLine,
  ].join("\n");
  return { markdown, result: r };
}

/**
 * Section 3a: the open-loop run. The closed loop above keeps `concurrency` deliveries in flight, so by Little's
 * law its latency is in-flight / answer rate whatever the server does (256 in flight answered at 1,000 a second
 * is 256 ms each); it measures how fast the edge answers, not how long GitHub waits. GitHub sends deliveries as
 * events happen, not when we answer the previous one: a fixed arrival rate is the honest latency measure.
 */
/** Section 3a: one row per run (a cold server, then one warmed up by an earlier burst). */
export function openLoopMarkdown(runs: ThroughputResult[]): string {
  const r = runs[0]!;
  const row = (run: ThroughputResult) => {
    const cpu = run.serverCpuAfterStartSeconds;
    const decided = run.db ? run.unique - run.db.missing : 0;
    const cpuMs = cpu === null || decided === 0 ? null : (cpu * 1000) / decided;
    return [
      `${run.warmupDeliveries ? `warm (after ${run.warmupDeliveries.toLocaleString("en")})` : "cold"}, Node ${run.serverNodeVersion}`,
      run.deliveries.toLocaleString("en"),
      run.ratePerSecond ?? "",
      run.answeredSeconds.toFixed(1),
      run.seconds.toFixed(1),
      ms(run.latencyMs.p50),
      ms(run.latencyMs.p99),
      ms(run.latencyMs.max),
      run.latencyMs.p99 < 100 ? "met" : "**missed**",
      cpuMs === null ? "n/a" : cpuMs.toFixed(1),
      cpuMs === null ? "" : cpuMs <= 8 ? "met" : "**missed**",
      run.db ? `**${run.db.missing}**` : "n/a",
      run.db ? `**${run.db.duplicated}**` : "n/a",
      Object.entries(run.statuses)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", "),
    ];
  };
  return [
    "### 3a. The same burst at a fixed arrival rate (open loop)",
    "",
    `Section 3 keeps ${r.concurrency} deliveries in flight and sends the next one as soon as one is answered (a closed loop). By Little's law its latency is then in-flight / answer rate, whatever the server does: ` +
      `a p99 under 100 ms with 256 in flight would need more than 2,560 answers a second, so that figure measures the edge's throughput, not how long GitHub waits. ` +
      `GitHub sends a delivery when its event happens, not when we answered the previous one, so here the pull requests' chains start on a fixed schedule: ${r.ratePerSecond ?? "?"} deliveries a second arrive whether or not earlier ones were answered ` +
      "(each review still follows its PR's `opened` answer), and each delivery's latency is measured from when it was sent. " +
      "Cold: a server that has just answered /healthz. Warm: the same server after a first burst on other pull requests (not counted), as a deployment that has been running: " +
      "V8 compiles the hot code during the first minutes, and that compiling is part of a cold run's CPU and latency. " +
      "The server runs on the benchmark's own Node, then (when the machine has their binaries: `.ci/run`'s cache, or `BENCH_SERVER_NODES`) on Node 22 and 24, which our users and the action run; " +
      "Node 20 is past its end of life, and newer V8s run the same server with markedly less CPU.",
    "",
    table(
      ["server", "deliveries", "arrival rate /s", "all answered s", "seconds (all decided)", "HTTP p50 ms", "HTTP p99 ms", "max ms", "p99 < 100 ms", "CPU ms / decided (start-up excluded)", "≤ 8 ms", "lost", "duplicated", "HTTP statuses"],
      ["l", "r", "r", "r", "r", "r", "r", "r", "l", "r", "l", "r", "r", "l"],
      runs.map(row),
    ),
    "",
  ].join("\n");
}
