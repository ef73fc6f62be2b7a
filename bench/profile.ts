/**
 * Where the server's CPU goes: a V8 CPU profile (`node --cpu-prof`, written when the process exits) summed by
 * self time per package (a dependency under node_modules, a room of src/, or Node's own internals) and per
 * function, so the CPU per decided delivery is explained by measurement, not by guessing.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

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
