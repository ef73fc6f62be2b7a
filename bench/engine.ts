/**
 * The whole policy evaluation (src/policy `evaluate`: risk, requirements, approvals) for one large pull request:
 * the synthetic 5,000-line CODEOWNERS, 3,000 changed files with patches, the recommended preset, a few reviews.
 * Runs in a child process so its peak memory is its own.
 */
import { defaultPolicy } from "../src/policy/config.js";
import { parseCodeowners } from "../src/policy/codeowners.js";
import { evaluate } from "../src/policy/decision.js";
import type { ChangedFile, PullRequestFacts, Review } from "../src/policy/types.js";
import { syntheticCodeowners } from "./codeowners.js";
import { childInput, ms, peakRss, quantile, rng, runChild, table } from "./util.js";

export interface EngineInput {
  rules: number;
  files: number;
  runs: number;
}

export interface EngineResult {
  rules: number;
  files: number;
  runs: number;
  parseMs: { median: number; p99: number };
  evaluateMs: { median: number; p99: number };
  totalMs: { median: number; p99: number };
  risk: string;
  requirements: number;
  baselineRss: number | null;
  peakRss: number | null;
}

const HEAD = "ab".repeat(20);
const WARM_UP_RUNS = 10;

/** Patches like an agent's: a few hunks, now and then a URL, a script, or a line that looks like a key. */
function patchFor(r: () => number, i: number): string {
  const lines = ["@@ -1,6 +1,9 @@", " import { thing } from './thing';", `-const old${i} = 1;`, `+const value${i} = compute(${i});`];
  const extra = Math.floor(r() * 12);
  for (let k = 0; k < extra; k++) lines.push(`+  line ${k} of change ${i}: return value${i} + ${k};`);
  if (r() < 0.05) lines.push(`+const endpoint = "https://api.example-${i % 13}.com/v1/items";`);
  if (r() < 0.01) lines.push(`+const token = "AKIA${String(i).padStart(16, "7")}";`);
  return lines.join("\n");
}

export function engineCase(input: EngineInput) {
  const { text, files: paths } = syntheticCodeowners(input.rules, input.files);
  const r = rng(7);
  const files: ChangedFile[] = paths.map((filename, i) => {
    const patch = patchFor(r, i);
    const additions = patch.split("\n").filter((l) => l.startsWith("+")).length;
    return { filename, status: i % 17 === 0 ? "added" : "modified", additions, deletions: 1, changes: additions + 1, patch };
  });
  const pr: PullRequestFacts = { number: 1, author: "agent-gate-runner[bot]", authorType: "Bot", baseRef: "main", headRef: "agent/run-1", headSha: HEAD, labels: [], changedFiles: files.length };
  const reviews: Review[] = [
    { reviewer: "user17", state: "APPROVED", commitId: HEAD, submittedAt: "2026-01-01T00:00:00Z" },
    { reviewer: "lead", state: "APPROVED", commitId: HEAD, submittedAt: "2026-01-01T00:01:00Z" },
    { reviewer: "user9", state: "CHANGES_REQUESTED", commitId: HEAD, submittedAt: "2026-01-01T00:02:00Z" },
  ];
  const teams: Record<string, string[]> = {};
  for (let t = 0; t < 400; t++) teams[`@org/team-${t}`] = [`user${t}`, "lead"];
  return { text, files, pr, reviews, teams };
}

function measure(input: EngineInput): EngineResult {
  const baselineRss = peakRss();
  const c = engineCase(input);
  const policy = defaultPolicy();
  const policySource = { source: "recommended preset", ref: "base" };
  const run = (codeowners = parseCodeowners(c.text)) =>
    evaluate({ policy, policySource, codeowners, files: c.files, pr: c.pr, reviews: c.reviews, teams: c.teams });
  const decision = run();
  // The App is a long-running process: measure the engine warmed up (JIT-compiled), not its first calls.
  for (let i = 0; i < WARM_UP_RUNS; i++) run();
  const parse: number[] = [];
  const evalOnly: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < input.runs; i++) {
    const t0 = performance.now();
    const codeowners = parseCodeowners(c.text);
    const t1 = performance.now();
    run(codeowners);
    const t2 = performance.now();
    parse.push(t1 - t0);
    evalOnly.push(t2 - t1);
    total.push(t2 - t0);
  }
  const q = (xs: number[]) => ({ median: quantile(xs, 0.5), p99: quantile(xs, 0.99) });
  return {
    ...input,
    parseMs: q(parse),
    evaluateMs: q(evalOnly),
    totalMs: q(total),
    risk: decision.risk,
    requirements: decision.approval.requirements.length,
    baselineRss,
    peakRss: peakRss(),
  };
}

export async function benchEngine(input: EngineInput): Promise<{ markdown: string; result: EngineResult }> {
  const result = await runChild<EngineResult>("engine.ts", input);
  const mib = (b: number | null) => (b === null ? "n/a" : `${(b / 1024 / 1024).toFixed(0)} MiB`);
  const target = result.evaluateMs.median < 20 ? "met" : "**missed**";
  const markdown = [
    `### 1b. The whole evaluation: ${result.files.toLocaleString("en")} changed files, ${result.rules.toLocaleString("en")}-line CODEOWNERS, recommended preset`,
    "",
    `Risk (rules, detectors over every patch line) and approvals (ownership of every file, ${result.requirements} requirements, reviews, team membership), ${result.runs} runs after ${WARM_UP_RUNS} warm-up runs (the App is a long-running process, so the engine runs JIT-compiled). The decision: ${result.risk} risk.`,
    "",
    table(
      ["step", "median ms", "p99 ms", "target"],
      ["l", "r", "r", "l"],
      [
        ["parse the CODEOWNERS", ms(result.parseMs.median), ms(result.parseMs.p99), ""],
        ["evaluate (src/policy `evaluate`)", ms(result.evaluateMs.median), ms(result.evaluateMs.p99), `< 20 ms: ${target}`],
        ["parse + evaluate", ms(result.totalMs.median), ms(result.totalMs.p99), ""],
      ],
    ),
    "",
    `Peak memory (VmHWM of the benchmark process): ${mib(result.peakRss)}, of which ${mib(result.baselineRss)} was Node and the loaded modules before the data was built.`,
  ].join("\n");
  return { markdown, result };
}

const input = childInput<EngineInput>();
if (input) console.log(JSON.stringify(measure(input)));
