/**
 * Replicas on one Postgres: the same burst as bench/throughput.ts (each PR gets `opened`, then an approving review
 * once `opened` is answered; a tenth are redeliveries), sent round-robin to N servers (`src/app/server.ts` in child
 * processes, as behind a load balancer), and optionally with one replica killed (SIGKILL) half-way.
 *
 * A delivery the killed replica did not answer 2xx (its connection dropped) is what GitHub would list as failed;
 * it is sent again to a live replica once the burst is over (as a redelivery, by hand or by the reconciliation
 * pass, would). Lost = answered 2xx (or sent again) but never decided; duplicated = decided twice.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import postgres from "postgres";
import { APP_ID, fakeGitHub, newPull, privateKey, pullRequestEvent, review, reviewEvent } from "./requests.js";
import type { Delivery } from "./requests.js";
import { checkDatabase, cpuSeconds, freePort, waitForHealth } from "./throughput.js";
import type { DatabaseCheck } from "./throughput.js";
import type { PerfSummary, ProfileSummary } from "./profile.js";
import { ROOT, nodeBinary, quantile, table } from "./util.js";

const PG_ADMIN_URL = process.env.AGENT_GATE_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECRET = "bench-webhook-secret";

export interface ReplicaOptions {
  deliveries: number;
  replicas: number;
  /** SIGKILL the first replica once half the deliveries are sent. */
  killHalfway: boolean;
  concurrency?: number;
  /** The Node binary the servers run on (default: this process's). */
  serverNode?: string | undefined;
}

export interface ReplicaResult {
  replicas: number;
  killed: boolean;
  /** `node --version` of the servers. */
  serverNodeVersion: string;
  deliveries: number;
  unique: number;
  /** Until every delivery was decided in the database. */
  seconds: number;
  decidedPerSecond: number;
  latencyMs: { p50: number; p99: number };
  statuses: Record<string, number>;
  /** Deliveries the killed replica never answered 2xx, sent again to a live one. */
  resent: number;
  /** CPU of every replica after it was healthy (start-up excluded), per decided delivery. */
  cpuMsPerDecided: number | null;
  db: DatabaseCheck | null;
  dbError?: string;
}

interface Replica {
  child: ChildProcess;
  url: string;
  cpuAtStart: number | null;
  alive: boolean;
}

async function startReplica(dbUrl: string, host: string, node: string): Promise<Replica> {
  const port = await freePort();
  const child = spawn(node, ["--import", "tsx", join(ROOT, "src/app/server.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      APP_ID: String(APP_ID),
      PRIVATE_KEY: privateKey(),
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: host,
      GHE_PROTOCOL: "http",
      DATABASE_URL: dbUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      NODE_ENV: "production",
      RECONCILE_INTERVAL_SECONDS: "0",
    },
    stdio: ["ignore", "ignore", "ignore"],
  });
  await waitForHealth(`http://127.0.0.1:${port}/healthz`, child);
  return { child, url: `http://127.0.0.1:${port}/api/github/webhooks`, cpuAtStart: child.pid === undefined ? null : cpuSeconds(child.pid), alive: true };
}

/** The burst: opened then review per PR, a tenth redelivered; `send` picks the replica. */
function chains(fake: ReturnType<typeof fakeGitHub>, deliveries: number, send: (id: string, event: Delivery) => Promise<void>, uniqueIds: Set<string>): Array<() => Promise<void>> {
  const pullRequests = Math.max(1, Math.floor((deliveries * 0.9) / 2));
  const redeliveries = deliveries - pullRequests * 2;
  return Array.from({ length: pullRequests }, (_, i) => async () => {
    const p = newPull(fake, i + 1, 3, { repo: `service-${i % 50}` });
    const opened = pullRequestEvent(p, "opened");
    opened.payload.installation.id = 10_000 + i;
    const openedId = randomUUID();
    uniqueIds.add(openedId);
    await Promise.all([send(openedId, opened), 2 * i < redeliveries ? send(openedId, opened) : Promise.resolve()]);
    review(p, "dba-alice");
    const approval = reviewEvent(p, "dba-alice");
    approval.payload.installation.id = 10_000 + i;
    const reviewId = randomUUID();
    uniqueIds.add(reviewId);
    await send(reviewId, approval);
    if (2 * i + 1 < redeliveries) await send(reviewId, approval);
  });
}

async function post(url: string, id: string, event: Delivery): Promise<number> {
  const body = JSON.stringify(event.payload);
  const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": String(event.name), "x-github-delivery": id, "x-hub-signature-256": signature, "user-agent": "GitHub-Hookshot/bench" },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

export async function benchReplicas(options: ReplicaOptions): Promise<ReplicaResult> {
  const fake = fakeGitHub();
  const host = await fake.start();
  const dbName = `agent_gate_bench_${randomBytes(6).toString("hex")}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const dbUrl = new URL(PG_ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const replicas: Replica[] = [];
  const node = nodeBinary(options.serverNode ?? process.execPath);
  try {
    // The first applies the migrations; the others find them applied.
    replicas.push(await startReplica(dbUrl.toString(), host, node.path));
    replicas.push(...(await Promise.all(Array.from({ length: options.replicas - 1 }, () => startReplica(dbUrl.toString(), host, node.path)))));
    return { ...(await burst(options, fake, replicas, dbUrl.toString())), serverNodeVersion: node.version };
  } finally {
    for (const r of replicas) if (r.alive) r.child.kill("SIGTERM");
    await Promise.all(replicas.map((r) => new Promise((resolve) => (r.child.exitCode !== null || r.child.signalCode !== null ? resolve(null) : r.child.once("exit", resolve)))));
    await fake.stop();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
    await admin.end({ timeout: 5 });
  }
}

async function burst(options: ReplicaOptions, fake: ReturnType<typeof fakeGitHub>, replicas: Replica[], dbUrl: string): Promise<Omit<ReplicaResult, "serverNodeVersion">> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const uniqueIds = new Set<string>();
  const notTaken: Array<{ id: string; event: Delivery }> = [];
  let sent = 0;
  let next = 0;
  const live = () => replicas.filter((r) => r.alive);
  const send = async (id: string, event: Delivery) => {
    sent++;
    if (options.killHalfway && sent === Math.floor(options.deliveries / 2) && replicas[0]!.alive) {
      replicas[0]!.alive = false;
      replicas[0]!.child.kill("SIGKILL");
    }
    const targets = live();
    const t0 = performance.now();
    const status = await post(targets[next++ % targets.length]!.url, id, event);
    latencies.push(performance.now() - t0);
    statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
    if (status < 200 || status >= 300) notTaken.push({ id, event });
  };
  const work = chains(fake, options.deliveries, send, uniqueIds);
  const started = performance.now();
  let nextChain = 0;
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 256, work.length) }, async () => {
    while (nextChain < work.length) await work[nextChain++]!();
  }));
  // What GitHub lists as failed is sent again (a redelivery keeps its X-GitHub-Delivery).
  for (const d of notTaken) await post(live()[0]!.url, d.id, d.event);
  const check = await checkDatabase(dbUrl, uniqueIds, started, 180_000 + uniqueIds.size * 500);
  const cpu = live().reduce<number | null>((sum, r) => {
    const now = r.child.pid === undefined ? null : cpuSeconds(r.child.pid);
    return sum === null || now === null || r.cpuAtStart === null ? null : sum + now - r.cpuAtStart;
  }, 0);
  const decided = check.db ? uniqueIds.size - check.db.missing : 0;
  return {
    replicas: options.replicas,
    killed: options.killHalfway,
    deliveries: sent,
    unique: uniqueIds.size,
    seconds: check.seconds,
    decidedPerSecond: decided / check.seconds,
    latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    statuses,
    resent: notTaken.length,
    // The killed replica's CPU cannot be read after its death: with a kill the figure covers the survivors only.
    cpuMsPerDecided: cpu === null || decided === 0 ? null : (cpu * 1000) / decided,
    db: check.db,
    ...(check.dbError ? { dbError: check.dbError } : {}),
  };
}

/** Section 3b and 3c of docs/benchmarks.md. */
export function replicasMarkdown(runs: ReplicaResult[], profile: ProfileSummary | null, profiledDecisions: number, perf: PerfSummary | null = null): string {
  const fmt = (x: number) => x.toFixed(1);
  const rows = runs.map((r) => [
    r.replicas,
    r.killed ? "yes, half-way" : "no",
    r.serverNodeVersion,
    r.deliveries.toLocaleString("en"),
    fmt(r.seconds),
    fmt(r.decidedPerSecond),
    fmt(r.latencyMs.p50),
    fmt(r.latencyMs.p99),
    r.latencyMs.p99 < 100 ? "met" : "**missed**",
    r.cpuMsPerDecided === null ? "n/a" : fmt(r.cpuMsPerDecided),
    r.cpuMsPerDecided === null ? "" : r.cpuMsPerDecided <= 8 ? "met" : "**missed**",
    r.db ? `${r.db.coalesced} / ${r.unique} (${(r.db.coalesced / r.unique).toFixed(2)})` : "n/a",
    r.db ? (r.unique - r.db.missing).toLocaleString("en") : "n/a",
    r.db ? `**${r.db.missing}**` : "n/a",
    r.db ? `**${r.db.duplicated}**` : "n/a",
    r.resent,
    Object.entries(r.statuses).map(([k, v]) => `${k}: ${v}`).join(", "),
  ]);
  const lines = [
    "### 3b. Replicas on one Postgres, and one killed (-9) half-way",
    "",
    "The same burst, sent round-robin to N servers on one Postgres database (as a load balancer would); reconciliation off, so only the queue recovers. " +
      "The servers run on the Node of the App's image (the Dockerfile's `NODE_VERSION`) when this machine has that binary, as a deployment would, else on the benchmark's own. " +
      "Kill: the first replica gets SIGKILL when half the deliveries are sent; what it never answered 2xx is sent again to the survivor afterwards (GitHub lists those as failed; a redelivery or the reconciliation pass sends them again), " +
      "and its jobs come back from pg-boss when their 40 s expiry runs out. CPU: all live replicas after they were healthy (start-up excluded), per decided delivery; after a kill, the survivor only. " +
      "Coalesced: deliveries folded into a pending evaluation of their PR, of those received. Targets: p99 under 100 ms, at most 8 ms CPU per decided delivery, 0 lost, 0 duplicated.",
    "",
    table(
      ["replicas", "killed", "Node", "deliveries", "seconds (all decided)", "decided/s", "HTTP p50 ms", "HTTP p99 ms", "p99 < 100 ms", "CPU ms / decided", "≤ 8 ms", "coalesced / received", "decided", "lost", "duplicated", "sent again", "HTTP statuses"],
      ["r", "l", "l", "r", "r", "r", "r", "r", "l", "r", "l", "r", "r", "r", "r", "r", "l"],
      rows,
    ),
    "",
  ];
  if (perf) {
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    lines.push(
      "### 3c. Where the CPU goes (Linux perf on the single server in section 3)",
      "",
      `\`perf record -F 499 -g\` on every thread of the server of section 3, from /healthz to the last decision (${perf.samples.toLocaleString("en")} samples, ${profiledDecisions.toLocaleString("en")} evaluations), ` +
        "with `--perf-basic-prof --interpreted-frames-native-stack` so that JavaScript frames have names. A sample is charged to the nearest frame, from the leaf up, in a group below " +
        "(Node's own internals, a socket write say, to the library that called them); V8's compiler and GC threads and the kernel outside any JavaScript are shown apart. " +
        "Unlike V8's profiler (which samples the main thread on a wall-clock timer, so counts time spent waiting for a core), perf counts only time on a CPU.",
      "",
      table(["charged to", "share"], ["l", "r"], perf.byGroup.map((g) => [g.name, pct(g.share)])),
      "",
      table(["package (nearest frame)", "share"], ["l", "r"], perf.byPackage.map((p) => [`\`${p.name}\``, pct(p.share)])),
      "",
    );
  } else if (profile) {
    lines.push(
      "### 3c. Where the CPU goes (V8 profile of the single server in section 3)",
      "",
      `\`node --cpu-prof\` on the server of section 3 (start-up included), ${(profile.totalMs / 1000).toFixed(1)} s of samples for ${profiledDecisions.toLocaleString("en")} evaluations: ` +
        `${(profile.totalMs / Math.max(1, profiledDecisions)).toFixed(1)} ms a decision under the profiler. Self time, by package and by function:`,
      "",
      table(["package", "ms", "share"], ["l", "r", "r"], profile.byPackage.map((p) => [`\`${p.name}\``, p.ms.toFixed(0), `${(p.share * 100).toFixed(1)} %`])),
      "",
      table(["function", "ms", "share"], ["l", "r", "r"], profile.byFunction.map((p) => [`\`${p.name}\``, p.ms.toFixed(0), `${(p.share * 100).toFixed(1)} %`])),
      "",
    );
  }
  return lines.join("\n");
}
