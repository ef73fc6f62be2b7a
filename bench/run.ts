/**
 * `npm run bench`: every benchmark of issue 7, measured side by side in one run on the machine at hand, printed
 * and written to docs/benchmarks.md with a line describing the machine.
 *
 *   npm run bench                      full sizes; writes docs/benchmarks.md
 *   npm run bench -- --smoke           tiny sizes, seconds; prints only (CI proves the benchmarks still run)
 *   npm run bench -- --only engine,requests,throughput,telemetry,compliance,detectors
 *   npm run bench -- --out FILE --json FILE
 *   npm run bench -- --only throughput --rate 50   section 3a's arrival rate (deliveries a second)
 *
 * Benchmarks are not tests: nothing here asserts a timing. Targets are shown beside the figures.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem, type as osType, release } from "node:os";
import { join } from "node:path";
import { benchCodeowners } from "./codeowners.js";
import { benchDetectors } from "./detectors.js";
import { benchEngine } from "./engine.js";
import { benchRequests } from "./requests.js";
import { benchTelemetry } from "./telemetry.js";
import { ROOT, imageNode, otherNodes } from "./util.js";

const SECTIONS = ["engine", "requests", "throughput", "telemetry", "compliance", "detectors"] as const;
type Section = (typeof SECTIONS)[number];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const smoke = process.argv.includes("--smoke");
const only = new Set((arg("--only")?.split(",") ?? SECTIONS) as Section[]);
const outFile = arg("--out") ?? (smoke ? undefined : join(ROOT, "docs/benchmarks.md"));
const jsonFile = arg("--json");

const sizes = smoke
  ? { rules: 200, files: 100, naiveSample: 50, runs: 3, realRepos: 1, requestSizes: [5], deliveries: 4, telemetry: { codexMb: [1, 2], growthMb: [1, 2] as [number, number], bombMb: 4 }, compliancePrs: [200], detectorLines: [100, 1_000], detectorRuns: 3 }
  : { rules: 5_000, files: 3_000, naiveSample: 300, runs: 25, realRepos: Number.POSITIVE_INFINITY, requestSizes: [50, 500, 3_000], deliveries: 2_000, telemetry: { codexMb: [5, 50, 200], growthMb: [5, 50] as [number, number], bombMb: 250 }, compliancePrs: [1_000, 10_000, 100_000], detectorLines: [1_000, 10_000, 100_000], detectorRuns: 7 };
sizes.deliveries = Number(arg("--deliveries") ?? sizes.deliveries);

function machine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  return `${model}, ${cpu.length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${osType()} ${release()}, Node ${process.version}`;
}

const results: Record<string, unknown> = { smoke, machine: machine() };
const parts: string[] = [
  "# Benchmarks",
  "",
  "Written by `npm run bench` (bench/run.ts); every figure below comes from one run on one machine, measured side by side, so the ratios hold even where the absolute times do not. " +
    "Benchmarks are not tests: CI only runs `npm run bench -- --smoke` (tiny sizes) to prove they still work.",
  "",
  `Machine: ${machine()}. Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC${smoke ? " (smoke sizes)" : ""}.`,
  "",
];

const started = performance.now();
const step = (name: string) => console.error(`[bench] ${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`);

if (only.has("engine")) {
  step("engine: ownership lookups");
  const co = await benchCodeowners({ rules: sizes.rules, paths: sizes.files, naiveSample: sizes.naiveSample, runs: sizes.runs, realRepos: sizes.realRepos });
  step("engine: the whole evaluation");
  const engine = await benchEngine({ rules: sizes.rules, files: sizes.files, runs: sizes.runs });
  results.engine = { codeowners: { medianMs: co.medianMs, vsNaive: co.vsNaive, vsNpm: co.vsNpm, realRows: co.realRows }, evaluation: engine.result };
  parts.push(
    "## 1. Engine",
    "",
    `Headline: ownership lookups **${co.vsNaive.toFixed(0)}x faster** than a naive last-match-wins loop of \`ignore\` matchers (target: at least 20x: ${co.vsNaive >= 20 ? "met" : "**missed**"}), ` +
      `${co.vsNpm.toFixed(0)}x faster than the \`codeowners\` npm package; the whole evaluation of ${sizes.files.toLocaleString("en")} files takes ` +
      `${engine.result.evaluateMs.median.toFixed(1)} ms median (target: under 20 ms: ${engine.result.evaluateMs.median < 20 ? "met" : "**missed**"}).`,
    "",
    co.markdown.split("\n### 1c")[0]!.trim(),
    "",
    engine.markdown,
    "",
    `### 1c${co.markdown.split("\n### 1c")[1] ?? ""}`.trim(),
    "",
  );
}

if (only.has("requests")) {
  step("requests per event");
  const req = await benchRequests({ sizes: sizes.requestSizes });
  results.requests = req.rows;
  parts.push(req.markdown, "");
}

if (only.has("throughput")) {
  step("webhook throughput");
  const { benchThroughput } = await import("./throughput.js");
  // Full sizes: 3c says where the server's CPU goes, measured with Linux perf when the machine has it, else with
  // V8's sampling profiler (written when the server exits).
  const { perfAvailable } = await import("./profile.js");
  const perfFile = !smoke && !process.env.BENCH_SERVER_NODE_ARGS && perfAvailable() ? join(mkdtempSync(join(tmpdir(), "agent-gate-perf-")), "perf.data") : undefined;
  const profileDir = smoke || perfFile || process.env.BENCH_SERVER_NODE_ARGS ? undefined : mkdtempSync(join(tmpdir(), "agent-gate-prof-"));
  if (profileDir) process.env.BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profileDir}`;
  const tp = await benchThroughput({ deliveries: sizes.deliveries, perfFile });
  if (profileDir) delete process.env.BENCH_SERVER_NODE_ARGS;
  results.throughput = tp.result;
  parts.push(tp.markdown, "");
  // The same burst in an open loop (--rate deliveries a second, default 50): the latency GitHub would see, cold and
  // warm, on this Node and then on the Nodes users run (22, 24) when this machine has their binaries.
  const { openLoopMarkdown } = await import("./throughput.js");
  const rate = Number(arg("--rate") ?? 50);
  const openLoop = [];
  for (const node of [undefined, ...(smoke ? [] : otherNodes())]) {
    const on = node ? `, server on Node ${node.version}` : "";
    step(`webhook burst: open loop${on}`);
    openLoop.push((await benchThroughput({ deliveries: sizes.deliveries, ratePerSecond: rate, serverNode: node?.path })).result);
    step(`webhook burst: open loop, warm server${on}`);
    openLoop.push((await benchThroughput({ deliveries: sizes.deliveries, ratePerSecond: rate, warmupDeliveries: Math.ceil(sizes.deliveries / 2), serverNode: node?.path })).result);
  }
  results.openLoop = openLoop;
  parts.push(openLoopMarkdown(openLoop), "");
  if (!smoke) {
    const { benchReplicas, replicasMarkdown } = await import("./replicas.js");
    const runs = [];
    // Replicas are a deployment: they run on the image's Node, when this machine has it.
    const deployed = imageNode();
    for (const [replicas, killHalfway] of [[1, false], [2, false], [2, true]] as const) {
      step(`webhook burst: ${replicas} replica(s)${killHalfway ? ", one killed -9 half-way" : ""}`);
      runs.push(await benchReplicas({ deliveries: sizes.deliveries, replicas, killHalfway, serverNode: deployed?.path }));
    }
    const { summariseProfiles } = await import("./profile.js");
    const profile = profileDir ? summariseProfiles(profileDir) : null;
    results.replicas = runs;
    results.profile = profile;
    parts.push(replicasMarkdown(runs, profile, tp.result.db?.evaluations ?? 0, tp.result.perf ?? null), "");
  }
}

if (only.has("telemetry")) {
  step("telemetry");
  const tel = await benchTelemetry(sizes.telemetry);
  results.telemetry = tel.rows;
  parts.push(tel.markdown, "");
}

if (only.has("compliance")) {
  step("compliance pages' queries");
  const { benchCompliance } = await import("./compliance.js");
  const comp = await benchCompliance(sizes.compliancePrs, smoke ? 2 : 7);
  results.compliance = comp.rows;
  parts.push(comp.markdown, "");
}

if (only.has("detectors")) {
  step("detectors and gate files");
  const det = benchDetectors(sizes.detectorLines, sizes.detectorRuns, smoke);
  results.detectors = det.rows;
  parts.push(det.markdown, "");
}

step("done");
const markdown = parts.join("\n").replace(/\n{3,}/g, "\n\n");
console.log(markdown);
// With --only, the sections run replace theirs in the existing file and the others stay as they were measured.
if (outFile) writeFileSync(outFile, arg("--only") && existsSync(outFile) ? mergeSections(readFileSync(outFile, "utf8"), markdown) : markdown);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(results, null, 2));

/** `## N. Title` sections of a benchmarks page, keyed by their title (the number may shift). */
function sections(markdown: string): { head: string; byTitle: Map<string, string>; order: string[] } {
  const chunks = markdown.split(/^(?=## )/m);
  const head = chunks[0]!.startsWith("## ") ? "" : chunks.shift()!;
  const byTitle = new Map<string, string>();
  const order: string[] = [];
  for (const chunk of chunks) {
    const title = chunk.split("\n")[0]!.replace(/^## (\d+\. )?/, "").trim();
    byTitle.set(title, chunk.trimEnd() + "\n\n");
    order.push(title);
  }
  return { head, byTitle, order };
}

/** The existing page with the fresh sections put in place (new ones appended); its header keeps the older run's line. */
function mergeSections(existing: string, fresh: string): string {
  const old = sections(existing);
  const next = sections(fresh);
  const out = old.order.map((title) => next.byTitle.get(title) ?? old.byTitle.get(title)!);
  for (const title of next.order) if (!old.byTitle.has(title)) out.push(next.byTitle.get(title)!);
  const note = `Sections ${next.order.map((t) => `"${t}"`).join(", ")} re-measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC (\`--only\`) on ${machine()}.\n\n`;
  return (old.head.trimEnd() + "\n\n" + note + out.join("")).replace(/\n{3,}/g, "\n\n");
}
