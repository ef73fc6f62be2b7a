/**
 * CODEOWNERS matching benchmark.
 *
 * (a) A synthetic 5,000-line CODEOWNERS against 3,000 paths: our indexed matcher vs the `codeowners` npm package
 *     vs a naive last-match-wins loop over one `ignore` matcher per line. The two naive matchers test up to
 *     files x rules patterns, so they run on a fixed sample of the paths and are scaled to 3,000 (said in the table).
 * (b) Each real repository in ../shared/data/codeowners: parse time and time to match every file.
 *
 * Run: npx tsx bench/codeowners.ts   (prints a markdown table)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ignore from "ignore";
import { parseCodeowners } from "../src/policy/codeowners.js";
import { quantile, rng } from "./util.js";

const RULES = 5_000;
const PATHS = 3_000;
const NAIVE_SAMPLE = 300;
const SHARED_DATA = join(import.meta.dirname, "../../shared/data/codeowners");
/** The shared data set when it sits beside the repository, else the copy kept in the test fixtures. */
const DATA = process.env.CODEOWNERS_DATA ?? (existsSync(SHARED_DATA) ? SHARED_DATA : join(import.meta.dirname, "../test/fixtures/codeowners/real"));

export function syntheticCodeowners(rules = RULES, paths = PATHS, seed = 42): { text: string; files: string[] } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const exts = ["ts", "js", "py", "go", "rs", "java", "md", "yml", "sql", "proto"] as const;
  const lines = ["# synthetic", "*  @org/everyone", "*.md  @org/docs", "Dockerfile  @org/infra", "**/migrations/  @org/db"];
  const services = Math.ceil(rules / 4);
  for (let i = lines.length; i < rules; i++) {
    const svc = Math.floor(r() * services);
    const owner = `@org/team-${svc % 400}`;
    const kind = r();
    if (kind < 0.4) lines.push(`/services/svc${svc}/ ${owner}`);
    else if (kind < 0.55) lines.push(`/services/svc${svc}/src/handler${i % 7}.${pick(exts)} ${owner} @user${i}`);
    else if (kind < 0.65) lines.push(`/docs/area${svc}/* ${owner}`);
    else if (kind < 0.75) lines.push(`/services/svc${svc}/**/*.${pick(exts)} ${owner}`);
    else if (kind < 0.82) lines.push(`packages/pkg${svc}/ ${owner}`);
    else if (kind < 0.88) lines.push(`module${svc}/ ${owner}`);
    else if (kind < 0.93) lines.push(`*.gen${svc}.${pick(exts)} ${owner}`);
    else if (kind < 0.97) lines.push(`/services/svc${svc}/test_*.py ${owner}`);
    else lines.push(`/services/svc${svc}/generated`); // no owners: clears
  }
  const files: string[] = [];
  for (let i = 0; i < paths; i++) {
    const svc = Math.floor(r() * services * 1.1); // some services have no line at all
    const kind = r();
    if (kind < 0.5) files.push(`services/svc${svc}/src/${pick(["api", "core", "util"])}/file${i}.${pick(exts)}`);
    else if (kind < 0.6) files.push(`services/svc${svc}/src/handler${i % 7}.${pick(exts)}`);
    else if (kind < 0.7) files.push(`docs/area${svc}/${pick(["guide", "intro", "faq"])}.md`);
    else if (kind < 0.78) files.push(`packages/pkg${svc}/lib/index.${pick(exts)}`);
    else if (kind < 0.85) files.push(`libs/module${svc}/src/a${i}.${pick(exts)}`);
    else if (kind < 0.9) files.push(`services/svc${svc}/test_${i}.py`);
    else if (kind < 0.95) files.push(`services/svc${svc}/db/migrations/${i}_init.sql`);
    else files.push(`tools/x${i}.gen${svc}.${pick(exts)}`);
  }
  return { text: lines.join("\n") + "\n", files };
}

function time(runs: number, fn: () => void): number[] {
  fn(); // warm up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

interface Competitor {
  name: string;
  runs: number[];
  scale: number;
  note: string;
  testsPerPath?: number;
}

function naiveLoop(text: string): { match: (file: string) => string[] | null; tests: { n: number } } {
  const tests = { n: 0 };
  const rules: Array<{ owners: string[]; ig: ReturnType<typeof ignore> }> = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [pattern, ...owners] = line.split(/\s+/);
    rules.push({ owners, ig: ignore({ ignorecase: false }).add(pattern!) });
  }
  const match = (file: string) => {
    for (let i = rules.length - 1; i >= 0; i--) {
      tests.n++;
      if (rules[i]!.ig.ignores(file)) return rules[i]!.owners;
    }
    return null;
  };
  return { match, tests };
}

export interface CodeownersBenchOptions {
  rules?: number;
  paths?: number;
  naiveSample?: number;
  /** Runs of the indexed matcher (the naive ones run 3 times). */
  runs?: number;
  /** Real repositories to run (sorted by name); default all. */
  realRepos?: number;
}

export interface CodeownersBenchResult {
  markdown: string;
  /** Median ms for all paths: ours, the naive loop and the npm package (the latter two scaled from the sample). */
  medianMs: { ours: number; naive: number; npm: number };
  /** How many times faster than the naive loop (median, same run). */
  vsNaive: number;
  vsNpm: number;
  realRows: number;
}

function syntheticTable(o: Required<CodeownersBenchOptions>): { markdown: string; medianMs: CodeownersBenchResult["medianMs"] } {
  const RULES = o.rules;
  const { text, files } = syntheticCodeowners(o.rules, o.paths);
  const sample = files.slice(0, Math.min(o.naiveSample, files.length));
  const scale = files.length / sample.length;
  const competitors: Competitor[] = [];

  const parseRuns = time(9, () => void parseCodeowners(text));
  const co = parseCodeowners(text);
  if (co.errors.length > 0 || co.ruleCount !== RULES - 1) throw new Error(`synthetic file did not parse cleanly: ${co.errors[0]?.message}`);
  const before = co.stats.patternTests;
  for (const f of files) co.ownersOf(f);
  const testsPerPath = (co.stats.patternTests - before) / files.length;
  competitors.push({
    name: "agent-gate `parseCodeowners().ownersOf` (indexed)",
    runs: time(o.runs, () => {
      for (const f of files) co.ownersOf(f);
    }),
    scale: 1,
    note: `all ${files.length} paths, ${o.runs} runs; parse ${ms(quantile(parseRuns, 0.5))} ms`,
    testsPerPath,
  });

  const naive = naiveLoop(text);
  for (const f of sample) naive.match(f);
  const naiveTests = naive.tests.n / sample.length;
  competitors.push({
    name: "naive last-match-wins loop, one `ignore` matcher per line",
    runs: time(3, () => {
      for (const f of sample) naive.match(f);
    }),
    scale,
    note: `${sample.length} paths x${scale}, 3 runs`,
    testsPerPath: naiveTests,
  });

  const require = createRequire(import.meta.url);
  const Codeowners = require("codeowners") as new (cwd: string) => { getOwner(file: string): string[] };
  const dir = mkdtempSync(join(tmpdir(), "agent-gate-bench-"));
  try {
    writeFileSync(join(dir, "CODEOWNERS"), text);
    const npm = new Codeowners(dir);
    competitors.push({
      name: "`codeowners` npm package (5.1.1) `getOwner`",
      runs: time(3, () => {
        for (const f of sample) npm.getOwner(f);
      }),
      scale,
      note: `${sample.length} paths x${scale}, 3 runs`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const medians = competitors.map((c) => quantile(c.runs, 0.5) * c.scale);
  const ours = medians[0]!;
  const rows = competitors.map((c, i) => {
    const med = medians[i]!;
    const p99 = quantile(c.runs, 0.99) * c.scale;
    // The npm package runs the same bottom-up loop over one `ignore` matcher per line as the naive one.
    const tests = c.testsPerPath !== undefined ? c.testsPerPath.toFixed(2) : "same loop as the naive one";
    const ratio = i === 0 ? "1x" : `${(med / ours).toFixed(med / ours < 10 ? 1 : 0)}x slower`;
    return `| ${c.name} | ${ms(med)} | ${ms(p99)} | ${ratio} | ${tests} | ${c.note} |`;
  });
  const n = files.length.toLocaleString("en");
  return {
    medianMs: { ours, naive: medians[1]!, npm: medians[2]! },
    markdown: [
      `### 1a. Ownership lookups: synthetic CODEOWNERS, ${RULES.toLocaleString("en")} lines x ${n} paths`,
      "",
      `| matcher | median ms / ${n} paths | p99 ms / ${n} paths | vs ours | pattern tests per path | runs |`,
      "| --- | ---: | ---: | ---: | ---: | --- |",
      ...rows,
    ].join("\n"),
  };
}

function realTable(o: Required<CodeownersBenchOptions>): { markdown: string; rows: number } {
  if (!existsSync(DATA)) return { markdown: `### 1c. Real repositories\n\n(no data at ${DATA})`, rows: 0 };
  const rows: string[] = [];
  const runs = Math.max(3, Math.min(9, o.runs));
  for (const repo of readdirSync(DATA).sort()) {
    if (rows.length >= o.realRepos) break;
    const dir = join(DATA, repo);
    if (!existsSync(join(dir, "CODEOWNERS"))) continue;
    const text = readFileSync(join(dir, "CODEOWNERS"), "utf8");
    const files = readFileSync(join(dir, "files.txt"), "utf8").split("\n").filter(Boolean);
    const parse = time(runs, () => void parseCodeowners(text));
    const co = parseCodeowners(text);
    let owned = 0;
    const before = co.stats.patternTests;
    for (const f of files) if ((co.ownersOf(f)?.owners.length ?? 0) > 0) owned++;
    const tests = (co.stats.patternTests - before) / files.length;
    const match = time(runs, () => {
      for (const f of files) co.ownersOf(f);
    });
    rows.push(
      `| ${repo.replace("__", "/")} | ${co.ruleCount} | ${files.length} | ${ms(quantile(parse, 0.5))} | ${ms(quantile(match, 0.5))} | ${ms(quantile(match, 0.99))} | ${tests.toFixed(2)} | ${owned} |`,
    );
  }
  return {
    rows: rows.length,
    markdown: [
      "### 1c. Real CODEOWNERS files against their repositories' full file lists (shared/data/codeowners, copied in test/fixtures/codeowners/real)",
      "",
      "| repository | rules | files | parse ms (median) | match all files ms (median) | p99 | pattern tests per path | files with owners |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
    ].join("\n"),
  };
}

export async function benchCodeowners(options: CodeownersBenchOptions = {}): Promise<CodeownersBenchResult> {
  const o: Required<CodeownersBenchOptions> = {
    rules: options.rules ?? RULES,
    paths: options.paths ?? PATHS,
    naiveSample: options.naiveSample ?? NAIVE_SAMPLE,
    runs: options.runs ?? 25,
    realRepos: options.realRepos ?? Number.POSITIVE_INFINITY,
  };
  const synthetic = syntheticTable(o);
  const real = realTable(o);
  return {
    markdown: [synthetic.markdown, "", real.markdown, ""].join("\n"),
    medianMs: synthetic.medianMs,
    vsNaive: synthetic.medianMs.naive / synthetic.medianMs.ours,
    vsNpm: synthetic.medianMs.npm / synthetic.medianMs.ours,
    realRows: real.rows,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await benchCodeowners()).markdown);
}
