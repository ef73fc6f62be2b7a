/**
 * Telemetry at scale: a Codex `exec --json` transcript of 5, 50 and 200 MB, streamed line by line through the
 * parser (src/telemetry `createParser`), redacted (`redactTrace`) and rendered (`renderRationaleMarkdown`). Each size
 * runs in its own child process, so the peak memory reported is that size's own; it should stay flat as the
 * file grows, because the parser keeps at most CAPS steps whatever the input.
 *
 * The transcripts are generated into a temporary directory and deleted afterwards; they are never committed.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { createParser, redactTrace, renderRationaleMarkdown } from "../src/telemetry/index.js";
import { childInput, peakRss, rng, runChild, table } from "./util.js";

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
}

/** In the child: stream the file through parse → redact → render. */
async function measure(path: string): Promise<TelemetryChildResult> {
  const t0 = performance.now();
  const parser = createParser("codex");
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) parser.push(line, ++n);
  const trace = redactTrace(parser.finish());
  const rendered = renderRationaleMarkdown(trace);
  const seconds = (performance.now() - t0) / 1000;
  const all = rendered.summary + (rendered.text ?? "");
  return {
    bytes: statSync(path).size,
    lines: n,
    seconds,
    peakRss: peakRss(),
    steps: trace.steps.length,
    events: trace.stats.events,
    summaryChars: rendered.summary.length,
    textChars: rendered.text?.length ?? 0,
    redacted: !/ghp_[A-Za-z0-9]{30,}/.test(all) && !/wJalrXUtnFEMI/.test(all),
  };
}

export interface TelemetryRow extends TelemetryChildResult {
  label: string;
}

export async function benchTelemetry(sizesMb: number[]): Promise<{ markdown: string; rows: TelemetryRow[] }> {
  const dir = mkdtempSync(join(tmpdir(), "agent-gate-telemetry-"));
  const rows: TelemetryRow[] = [];
  try {
    for (const size of sizesMb) {
      const path = join(dir, `codex-${size}mb.jsonl`);
      await writeCodexTranscript(path, size * 1024 * 1024);
      const result = await runChild<TelemetryChildResult>("telemetry.ts", { path });
      rows.push({ ...result, label: `${size} MB` });
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const mib = (b: number | null) => (b === null ? "n/a" : (b / 1024 / 1024).toFixed(0));
  const markdown = [
    "## 4. Telemetry: parse, redact and render a Codex transcript",
    "",
    "A generated `codex exec --json` transcript (reasoning, commands with output, file changes, `record_decision` calls, messages, usage; a secret in some command outputs) " +
      "is streamed line by line through `createParser(\"codex\")`, then `redactTrace` and `renderRationaleMarkdown`. Each size runs in a fresh Node process; " +
      "peak RSS is that process's VmHWM (Node itself and the loaded modules included).",
    "",
    table(
      ["file", "lines", "seconds", "MB/s", "peak RSS MiB", "events", "steps kept", "rendered chars (summary + text)", "secrets in output"],
      ["l", "r", "r", "r", "r", "r", "r", "r", "l"],
      rows.map((r) => [
        r.label,
        r.lines.toLocaleString("en"),
        r.seconds.toFixed(2),
        (r.bytes / 1024 / 1024 / r.seconds).toFixed(0),
        mib(r.peakRss),
        r.events.toLocaleString("en"),
        r.steps,
        (r.summaryChars + r.textChars).toLocaleString("en"),
        r.redacted ? "none (redacted)" : "**LEAKED**",
      ]),
    ),
  ].join("\n");
  return { markdown, rows };
}

const input = childInput<{ path: string }>();
if (input) console.log(JSON.stringify(await measure(input.path)));
