/**
 * Telemetry at scale: Codex `exec --json` transcripts, a claude-code-action execution file and a Copilot OTel file at
 * 1x and 10x, a zip bomb and the cwd-of-slashes artifact, each streamed through the App's readers, redacted
 * (`redactTrace`) and rendered (`renderRationaleMarkdown`). Each input runs in its own child process, so the peak
 * memory reported is that input's own; it should stay flat as the input grows, because the readers keep at most
 * CAPS steps whatever the input.
 *
 * The transcripts are generated into a temporary directory and deleted afterwards; they are never committed.
 */
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { zipSync } from "fflate";
import { DEFAULT_ARTIFACT_LIMITS, parseTelemetryArtifact, readTranscript, redactTrace, renderRationaleMarkdown, TranscriptReader } from "../src/telemetry/index.js";
import type { Trace } from "../src/telemetry/index.js";
import { childInput, peakRss, rng, ROOT, runChild, table } from "./util.js";

/** One turn of a Codex run as `codex exec --json` prints it: reasoning, commands, edits, messages, a decision. */
function* codexTurn(r: () => number, turn: number): Generator<string> {
  const id = (k: string) => `item_${turn}_${k}`;
  yield JSON.stringify({ type: "turn.started" });
  yield JSON.stringify({ type: "item.completed", item: { id: id("r"), type: "reasoning", text: `**Planning step ${turn}**\n\nI need to read the failing test, find where the handler builds the request, and change the retry logic. ${"The handler in src/api/client.ts retries twice. ".repeat(4)}` } });
  const commands = 2 + Math.floor(r() * 4);
  for (let c = 0; c < commands; c++) {
    const command = ["bash -lc 'rg -n retry src'", "bash -lc 'npm test -- --run test/api'", "bash -lc 'cat src/api/client.ts'", "bash -lc 'git diff --stat'"][c % 4]!;
    const failed = r() < 0.1;
    const lines = 5 + Math.floor(r() * 60);
    const output: string[] = [];
    for (let l = 0; l < lines; l++) output.push(`src/api/client.ts:${l + 1}:  const response = await fetch(url, { retries: ${l % 3} }); // turn ${turn}`);
    // Now and then a secret in a command's output, as a real run leaks them: redaction must catch it.
    if (r() < 0.05) output.push(`export GITHUB_TOKEN=ghp_${"A1b2C3d4E5f6G7h8I9j0".repeat(2).slice(0, 36)}`);
    if (r() < 0.03) output.push(`aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY${String(turn).padStart(10, "0")}"`);
    yield JSON.stringify({ type: "item.started", item: { id: id(`c${c}`), type: "command_execution", command, aggregated_output: "", exit_code: null, status: "in_progress" } });
    yield JSON.stringify({ type: "item.completed", item: { id: id(`c${c}`), type: "command_execution", command, aggregated_output: output.join("\n"), exit_code: failed ? 1 : 0, status: failed ? "failed" : "completed" } });
  }
  if (r() < 0.6) {
    yield JSON.stringify({ type: "item.completed", item: { id: id("f"), type: "file_change", changes: [{ path: `src/api/client${turn % 50}.ts`, kind: "update" }, { path: `test/api/client${turn % 50}.test.ts`, kind: r() < 0.5 ? "add" : "update" }], status: "completed" } });
  }
  if (r() < 0.2) {
    yield JSON.stringify({ type: "item.completed", item: { id: id("d"), type: "mcp_tool_call", server: "agent-gate", tool: "record_decision", arguments: { decision: `use exponential backoff (turn ${turn})`, rationale: "Two retries without backoff hammer the API during an outage; the test shows three calls in 10 ms.", alternatives: ["keep fixed delay"], files: [`src/api/client${turn % 50}.ts`] }, status: "completed" } });
  }
  if (r() < 0.1) yield JSON.stringify({ type: "item.completed", item: { id: id("w"), type: "web_search", query: "exponential backoff jitter fetch retry" } });
  if (r() < 0.1) yield JSON.stringify({ type: "item.completed", item: { id: id("t"), type: "todo_list", items: [{ text: "fix retry", completed: true }, { text: "add test", completed: r() < 0.5 }] } });
  yield JSON.stringify({ type: "item.completed", item: { id: id("m"), type: "agent_message", text: `Turn ${turn}: changed the retry to back off exponentially and added a test for it.` } });
  yield JSON.stringify({ type: "turn.completed", usage: { input_tokens: 12_000 + turn, cached_input_tokens: 9_000, output_tokens: 800 } });
}

/** Writes a Codex JSONL transcript of about `bytes` bytes; returns the line count. */
export async function writeCodexTranscript(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const r = rng(11);
  let written = 0;
  let lines = 0;
  const write = async (line: string) => {
    written += Buffer.byteLength(line) + 1;
    lines++;
    if (!out.write(line + "\n")) await once(out, "drain");
  };
  await write(JSON.stringify({ type: "thread.started", thread_id: "0199a213-81c0-7800-8aa1-bbab2a035a53" }));
  for (let turn = 0; written < bytes; turn++) for (const line of codexTurn(r, turn)) await write(line);
  out.end();
  await once(out, "finish");
  return lines;
}

/** Writes lines to a file until it holds about `bytes` bytes; returns the line count. */
async function writeLines(path: string, bytes: number, first: string[], next: (i: number) => string[], last: string[] = []): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let lines = 0;
  const write = async (line: string) => {
    written += Buffer.byteLength(line) + 1;
    lines++;
    if (!out.write(`${line}\n`)) await once(out, "drain");
  };
  for (const l of first) await write(l);
  for (let i = 0; written < bytes; i++) for (const l of next(i)) await write(l);
  for (const l of last) await write(l);
  out.end();
  await once(out, "finish");
  return lines;
}

const FIXTURES = join(ROOT, "test/fixtures/telemetry");

/**
 * A claude-code-action execution file of about `bytes` bytes: the real fixture's messages, the middle ones repeated
 * with fresh tool ids (and a Bash call whose output leaks a token), pretty-printed as the action writes it.
 */
export async function writeExecutionFile(path: string, bytes: number): Promise<number> {
  const messages = JSON.parse(readFileSync(join(FIXTURES, "claude-code-action-execution.json"), "utf8")) as Array<Record<string, unknown>>;
  const [init, ...rest] = messages;
  const result = rest.pop();
  const pretty = (v: unknown, comma: boolean) => (JSON.stringify(v, null, 2).replace(/^/gm, "  ") + (comma ? "," : "")).split("\n");
  const leak = { type: "assistant", message: { model: "claude-test-model", content: [{ type: "tool_use", id: "", name: "Bash", input: { command: "env | grep TOKEN" } }] } };
  return writeLines(path, bytes, ["[", ...pretty(init, true)], (i) => {
    const turn = JSON.parse(JSON.stringify([...rest, leak]).replaceAll('"tool_call_', `"tool_call_${i}_`)) as Array<Record<string, unknown>>;
    const id = `leak_${i}`;
    (((turn.at(-1)!.message as { content: Array<{ id: string }> }).content)[0]!).id = id;
    turn.push({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: id, content: `GITHUB_TOKEN=ghp_${"A1b2C3d4E5f6G7h8I9j0".repeat(2).slice(0, 36)}` }] } });
    return turn.flatMap((m) => pretty(m, true));
  }, [...pretty(result, false), "]"]);
}

/** A Copilot CLI OTel file of about `bytes` bytes: the real fixture's spans and metrics, repeated with fresh trace ids. */
export async function writeCopilotFile(path: string, bytes: number): Promise<number> {
  const lines = readFileSync(join(FIXTURES, "copilot-otel.jsonl"), "utf8").trim().split("\n");
  return writeLines(path, bytes, [], (i) => lines.map((l) => l.replaceAll('"traceId":"', `"traceId":"${i.toString(16)}`)));
}

interface TelemetryChildResult {
  bytes: number;
  lines: number;
  seconds: number;
  peakRss: number | null;
  steps: number;
  events: number;
  summaryChars: number;
  textChars: number;
  redacted: boolean;
  /** Why the artifact was refused (a limit), or null. */
  refused: string | null;
  liveHeap: number | null;
}

/** In the child: stream the file (or unzip the artifact) through parse → redact → render. */
async function measure(path: string, zip: boolean): Promise<TelemetryChildResult> {
  const t0 = performance.now();
  let raw: Trace;
  let refused: string | null = null;
  if (zip) {
    try {
      raw = parseTelemetryArtifact(new Uint8Array(readFileSync(path)), { ...DEFAULT_ARTIFACT_LIMITS, maxTotalBytes: Number(process.env.BENCH_UNZIP_LIMIT ?? DEFAULT_ARTIFACT_LIMITS.maxTotalBytes) }).trace;
    } catch (e) {
      refused = e instanceof Error ? e.message : String(e);
      raw = readTranscript('{"type":"thread.started"}').trace;
    }
  } else {
    const reader = new TranscriptReader();
    let chunks = 0;
    for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
      reader.write(chunk as string);
      if (++chunks % 10 === 0) sampleLiveHeap();
    }
    raw = reader.end();
  }
  sampleLiveHeap();
  const trace = redactTrace(raw);
  const rendered = renderRationaleMarkdown(trace);
  const seconds = (performance.now() - t0) / 1000;
  const all = rendered.summary + (rendered.text ?? "");
  return {
    bytes: statSync(path).size,
    lines: trace.stats.events,
    seconds,
    peakRss: peakRss(),
    steps: trace.steps.length,
    events: trace.stats.events,
    summaryChars: rendered.summary.length,
    textChars: rendered.text?.length ?? 0,
    redacted: !/ghp_[A-Za-z0-9]{30,}/.test(all) && !/wJalrXUtnFEMI/.test(all),
    refused,
    liveHeap,
  };
}

/** The heap that is really held (after a full GC) at its highest, sampled every 10 MiB of input: RSS includes GC slack. */
let liveHeap: number | null = null;
function sampleLiveHeap(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  liveHeap = Math.max(liveHeap ?? 0, process.memoryUsage().heapUsed);
}

export interface TelemetryRow extends TelemetryChildResult {
  label: string;
}

/** A zip of `compressedTarget`-ish bytes that inflates to `bytes`: one highly repetitive JSONL transcript. */
function writeBomb(path: string, bytes: number): void {
  const line = `${JSON.stringify({ type: "item.completed", item: { id: "x", type: "agent_message", text: "a".repeat(1000) } })}\n`;
  const whole = new Uint8Array(bytes);
  const enc = new TextEncoder().encode(line);
  for (let at = 0; at + enc.length <= bytes; at += enc.length) whole.set(enc, at);
  writeFileSync(path, zipSync({ "codex.jsonl": whole }, { level: 9 }));
}

/** The case: a 36 KB Claude Code artifact whose cwd holds thousands of slashes, with many file-changing tool calls. */
function writeSlashes(path: string): void {
  const cwd = `/${"/".repeat(30_000)}x`;
  const lines = [JSON.stringify({ type: "system", subtype: "init", session_id: "s", cwd, model: "m" })];
  for (let i = 0; i < 400; i++) {
    lines.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: `t${i}`, name: "Edit", input: { file_path: `${cwd}/f${i}.ts` } }] } }));
    lines.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: `t${i}`, content: "ok" }] } }));
  }
  writeFileSync(path, zipSync({ "claude.jsonl": new TextEncoder().encode(lines.join("\n")) }, { level: 9 }));
}

export interface TelemetrySizes {
  /** Codex JSONL sizes (MB). */
  codexMb: number[];
  /** claude-code-action execution file and Copilot OTel file: the 1x and 10x sizes (MB). */
  growthMb: [number, number];
  /** What the zip bomb inflates to (MB). */
  bombMb: number;
}

async function one(dir: string, label: string, name: string, make: (path: string) => Promise<unknown> | void, env: NodeJS.ProcessEnv = {}): Promise<TelemetryRow> {
  const path = join(dir, name);
  await make(path);
  const result = await runChild<TelemetryChildResult>("telemetry.ts", { path, zip: name.endsWith(".zip") }, { NODE_OPTIONS: "--expose-gc", ...env });
  rmSync(path, { force: true });
  return { ...result, label };
}

export async function benchTelemetry(sizes: TelemetrySizes): Promise<{ markdown: string; rows: TelemetryRow[] }> {
  const dir = mkdtempSync(join(tmpdir(), "agent-gate-telemetry-"));
  const rows: TelemetryRow[] = [];
  const [x1, x10] = sizes.growthMb;
  try {
    for (const size of sizes.codexMb) rows.push(await one(dir, `Codex exec --json, ${size} MB`, `codex-${size}.jsonl`, (p) => writeCodexTranscript(p, size * 1024 * 1024)));
    for (const size of [x1, x10]) rows.push(await one(dir, `claude-code-action execution file (JSON array), ${size} MB`, `exec-${size}.json`, (p) => writeExecutionFile(p, size * 1024 * 1024)));
    for (const size of [x1, x10]) rows.push(await one(dir, `Copilot CLI OTel file, ${size} MB`, `copilot-${size}.jsonl`, (p) => writeCopilotFile(p, size * 1024 * 1024)));
    rows.push(await one(dir, `zip bomb (unpacks to ${sizes.bombMb} MB), default 128 MiB limit`, "bomb.zip", (p) => writeBomb(p, sizes.bombMb * 1024 * 1024)));
    rows.push(await one(dir, `same zip bomb, limit raised to ${sizes.bombMb + 8} MiB (parsed whole)`, "bomb.zip", (p) => writeBomb(p, sizes.bombMb * 1024 * 1024), { BENCH_UNZIP_LIMIT: String((sizes.bombMb + 8) * 1024 * 1024) }));
    rows.push(await one(dir, "Claude Code artifact, cwd of 30,000 slashes, 400 edits", "slashes.zip", writeSlashes));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { markdown: telemetryMarkdown(rows), rows };
}

function telemetryMarkdown(rows: TelemetryRow[]): string {
  const mib = (b: number | null) => (b === null ? "n/a" : (b / 1024 / 1024).toFixed(0));
  return [
    "## 4. Telemetry: parse, redact and render",
    "",
    "Each input is streamed through the App's readers (`TranscriptReader` for files, `parseTelemetryArtifact` for zips: a JSON array element by element, " +
      "a zip inflated a few KiB at a time), then `redactTrace` and `renderRationaleMarkdown`. Inputs are generated from the real fixtures " +
      "(test/fixtures/telemetry/SOURCES.md) with a leaked token in some command outputs. Each row runs in a fresh Node process; peak RSS is that process's " +
      "VmHWM (Node itself and the loaded modules included, and whatever garbage V8 lets accumulate before collecting it); live heap is the most " +
      "the process really held, measured after a full GC every 10 MiB of input: that is the figure that must stay flat as the input grows tenfold.",
    "",
    table(
      ["input", "input bytes", "seconds", "MB/s", "peak RSS MiB", "live heap MiB", "events", "steps kept", "rendered chars", "secrets in output", "refused"],
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "l", "l"],
      rows.map((r) => [
        r.label,
        (r.bytes / 1024 / 1024).toFixed(1) + " MB",
        r.seconds.toFixed(2),
        (r.bytes / 1024 / 1024 / r.seconds).toFixed(0),
        mib(r.peakRss),
        mib(r.liveHeap),
        r.events.toLocaleString("en"),
        r.steps,
        (r.summaryChars + r.textChars).toLocaleString("en"),
        r.redacted ? "none (redacted)" : "**LEAKED**",
        r.refused ? r.refused.replace(/\|/g, "\\|") : "—",
      ]),
    ),
  ].join("\n");
}

const input = childInput<{ path: string; zip: boolean }>();
if (input) console.log(JSON.stringify(await measure(input.path, input.zip)));
