/**
 * The benchmarks still run: `npm run bench -- --smoke` (tiny sizes, seconds) in a child process, asserting on the
 * tables it prints and the results it writes, never on a timing, and proving smoke mode leaves
 * docs/benchmarks.md alone.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const DOC = join(ROOT, "docs/benchmarks.md");

/** The data rows of the first markdown table after `heading`. */
function tableRows(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading);
  if (start === -1) throw new Error(`no section ${heading}`);
  const lines = markdown.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((c) => c.trim()));
  }
  return rows;
}

describe("npm run bench -- --smoke", () => {
  let dir: string;
  let stdout: string;
  let results: any;
  let docBefore: string | null;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-gate-bench-smoke-"));
    docBefore = existsSync(DOC) ? readFileSync(DOC, "utf8") : null;
    const json = join(dir, "results.json");
    const run = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--json", json], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    if (run.status !== 0) throw new Error(`bench failed (${run.status}):\n${run.stderr}`);
    stdout = run.stdout;
    results = JSON.parse(readFileSync(json, "utf8"));
  }, 150_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints every section with a line describing the machine", () => {
    for (const heading of ["# Benchmarks", "## 1. Engine", "### 1a.", "### 1b.", "### 1c.", "## 2. GitHub requests per event", "## 3. Webhook throughput", "## 4. Telemetry", "## 5. Detectors and gate files"]) {
      expect(stdout).toContain(heading);
    }
    expect(stdout).toMatch(/^Machine: .+ cores, .+ RAM, .+ Node v\d+/m);
    expect(results.smoke).toBe(true);
  });

  it("measures our matcher, the naive ignore loop and the codeowners package side by side", () => {
    const rows = tableRows(stdout, "### 1a.");
    expect(rows.map((r) => r[0])).toEqual([
      expect.stringContaining("agent-gate"),
      expect.stringContaining("naive last-match-wins loop"),
      expect.stringContaining("`codeowners` npm package"),
    ]);
    for (const r of rows) expect(Number(r[1])).toBeGreaterThan(0);
    expect(results.engine.codeowners.vsNaive).toBeGreaterThan(0);
    expect(tableRows(stdout, "### 1b.").map((r) => r[0])).toEqual(["parse the CODEOWNERS", "evaluate (src/policy `evaluate`)", "parse + evaluate"]);
    expect(results.engine.evaluation.files).toBe(100);
    // Smoke mode runs the first real repository only (the data is kept in test/fixtures/codeowners/real).
    expect(tableRows(stdout, "### 1c.")).toHaveLength(1);
    expect(results.engine.codeowners.realRows).toBe(1);
    expect(results.engine.evaluation.peakRss).toBeGreaterThan(0);
  });

  it("counts the GitHub requests of every event, cold and warm, with the 304s apart", () => {
    const rows: Array<{ event: string; cache: string; total: number; counted: number; notModified: number }> = results.requests;
    expect(rows.map((r) => `${r.event} ${r.cache}`)).toEqual([
      "pull_request.opened cold",
      "pull_request.opened warm",
      "pull_request.synchronize cold",
      "pull_request.synchronize warm",
      "pull_request_review.submitted cold",
      "pull_request_review.submitted warm",
      "pull_request_review.submitted warm",
    ]);
    for (const r of rows) {
      expect(r.total).toBe(r.counted + r.notModified);
      expect(r.counted).toBeGreaterThan(0);
    }
    // Cold means nothing cached: no request can be answered 304.
    expect(rows.filter((r) => r.cache === "cold").every((r) => r.notModified === 0)).toBe(true);
    // Warm means something is remembered (a 304, or a file at a commit not asked again): fewer requests than cold.
    for (const warm of rows.filter((r) => r.cache === "warm")) {
      const cold = rows.find((r) => r.cache === "cold" && r.event === warm.event)!;
      expect(warm.total).toBeLessThan(cold.total);
    }
    expect(tableRows(stdout, "## 2. GitHub requests")).toHaveLength(rows.length);
  });

  it("streams each telemetry input in its own process and never prints a secret", () => {
    const rows = tableRows(stdout, "## 4. Telemetry");
    expect(rows.map((r) => r[0])).toEqual([
      "Codex exec --json, 1 MB",
      "Codex exec --json, 2 MB",
      "claude-code-action execution file (JSON array), 1 MB",
      "claude-code-action execution file (JSON array), 2 MB",
      "Copilot CLI OTel file, 1 MB",
      "Copilot CLI OTel file, 2 MB",
      "zip bomb (unpacks to 4 MB), default 128 MiB limit",
      "same zip bomb, limit raised to 12 MiB (parsed whole)",
      "Claude Code artifact, cwd of 30,000 slashes, 400 edits",
    ]);
    expect(rows.every((r) => r[9] === "none (redacted)")).toBe(true);
    expect(results.telemetry.every((r: { events: number; peakRss: number; liveHeap: number }) => r.events > 0 && r.peakRss > 0 && r.liveHeap > 0)).toBe(true);
  });

  it("sends signed deliveries to the running server and finds every decision in the database once", () => {
    const rows = tableRows(stdout, "## 3. Webhook throughput");
    expect(rows).toHaveLength(1);
    const tp = results.throughput;
    expect(tp.deliveries).toBe(4);
    expect(tp.db).toMatchObject({ missing: 0, duplicated: 0 });
    expect(tp.db.deliveries).toBe(tp.unique);
    // One check run per evaluated head: later decisions on a head update it (src/github/check-runs.ts).
    expect(tp.checkRuns).toBe(tp.db.heads);
    expect(tp.serverPeakRss).toBeGreaterThan(0);
  });

  it("sends the same burst in an open loop, at a fixed arrival rate, to a cold and to a warmed-up server, and finds every decision once", () => {
    const rows = tableRows(stdout, "### 3a.");
    expect(rows.map((r) => r[0])).toEqual([`cold, Node ${process.version}`, `warm (after 2), Node ${process.version}`]);
    const [open, warm] = results.openLoop;
    expect(open.ratePerSecond).toBe(50);
    expect(rows[0]![2]).toBe("50");
    for (const run of [open, warm]) {
      expect(run.deliveries).toBe(4);
      expect(run.db).toMatchObject({ missing: 0, duplicated: 0 });
      // The warm-up burst's rows are left out: only the measured deliveries are counted.
      expect(run.db.deliveries).toBe(run.unique);
      expect(run.serverCpuAfterStartSeconds).toBeGreaterThan(0);
      expect(run.serverCpuAfterStartSeconds).toBeLessThan(run.serverCpuSeconds);
    }
    expect(warm.warmupDeliveries).toBe(2);
  });

  it("times the compliance pages' queries on PGlite and Postgres", () => {
    const rows = tableRows(stdout, "## Compliance pages' queries");
    expect(rows.map((r) => [r[0], r[1]])).toEqual([["PGlite", "200"], ["Postgres", "200"]]);
    expect((results as { compliance: unknown[] }).compliance).toHaveLength(2);
  });

  it("times every content detector and the gate-file parsers at each size, with the ratio for ten times the input", () => {
    const detectors = tableRows(stdout, "## 5. Detectors and gate files");
    expect(detectors.map((r) => r[0])).toEqual(["`secrets`", "`external-hosts`", "`package-scripts`", "`submodules`"]);
    // Two smoke sizes: two timings and one ratio each, all positive numbers.
    for (const r of detectors) expect(r.slice(1, 4).every((c) => Number(c) > 0)).toBe(true);
    const gateFiles: Array<{ name: string; kind: string; ms: number[] }> = results.detectors.filter((r: { kind: string }) => r.kind === "gate file");
    expect(gateFiles.map((r) => r.name.split(" (")[0])).toEqual(["policy: unknown keys", "policy: repeated keys", "policy: valid rules", "CODEOWNERS"]);
    expect(gateFiles.every((r) => r.ms.length === 2 && r.ms.every((x) => x > 0))).toBe(true);
  });

  it("leaves docs/benchmarks.md alone in smoke mode", () => {
    expect(existsSync(DOC) ? readFileSync(DOC, "utf8") : null).toBe(docBefore);
  });
});
