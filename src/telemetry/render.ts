/**
 * The "Agent Gate: rationale" check run output. Every piece of agent text goes through src/shared/markdown.ts; the output is
 * built from whole blocks (a table row, a fenced block, a paragraph) against a budget, so a truncated output never
 * ends inside a table or a code fence, and summary and text each stay within GitHub's 65,535 characters.
 */
import { CHECK_RUN_TEXT_LIMIT } from "../shared/limits.js";
import { codeFence, codeSpan, escapeBlockquote, escapeInline, plainText } from "../shared/markdown.js";
import type { CrossCheckResult } from "./crosscheck.js";
import type { CommandStep, DecisionStep, NetworkStep, Step, Trace } from "./model.js";
import { commandFailed } from "./accumulator.js";

/** GitHub's limit for a check run's summary and text (src/shared/limits.ts). */
export const GITHUB_TEXT_LIMIT = CHECK_RUN_TEXT_LIMIT;
export const RATIONALE_CHECK_NAME = "Agent Gate: rationale";

const encoder = new TextEncoder();
/** UTF-8 bytes: never less than the character count GitHub limits, whichever way it counts. */
const size = (s: string) => encoder.encode(s).length;

const TRUNCATION_RESERVE = 400;

/** Accumulates whole blocks while they fit the budget. */
class Budget {
  private readonly parts: string[] = [];
  private used = 0;
  omitted = 0;
  constructor(private readonly limit: number) {}

  /** Adds a block (separated from the previous one by a blank line) if it fits; returns whether it did. */
  add(block: string, sep = "\n\n"): boolean {
    const piece = this.parts.length === 0 ? block : `${sep}${block}`;
    const n = size(piece);
    if (this.used + n > this.limit - TRUNCATION_RESERVE) {
      this.omitted++;
      return false;
    }
    this.parts.push(piece);
    this.used += n;
    return true;
  }

  /** A table: header and first row go in together; then row by row; a note says how many rows did not fit. */
  table(header: string[], align: string[], rows: string[][], what: string): void {
    if (rows.length === 0) return;
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    const head = `${line(header)}\n${line(align)}`;
    const first = rows[0];
    if (!first || !this.add(`${head}\n${line(first)}`)) {
      this.omitted += rows.length - 1;
      this.add(`_${rows.length} ${what} not shown (output limit)._`);
      return;
    }
    for (let i = 1; i < rows.length; i++) {
      const row = rows[i];
      if (!row || !this.add(line(row), "\n")) {
        this.omitted += rows.length - i - 1;
        this.add(`_… ${rows.length - i} more ${what} not shown (output limit)._`);
        return;
      }
    }
  }

  finish(): string {
    let out = this.parts.join("");
    if (this.omitted > 0) {
      const note = `\n\n---\n_Output truncated to fit GitHub's ${GITHUB_TEXT_LIMIT.toLocaleString("en-US")}-character limit. Render the full trace locally with \`agent-gate telemetry render\`._`;
      if (this.used + size(note) <= this.limit) out += note;
    }
    return out;
  }
}

function fmtInt(n: number | null): string {
  return n === null ? "—" : Math.round(n).toLocaleString("en-US");
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function runDurationMs(trace: Trace): number | null {
  const { startedAt, endedAt, durationMs } = trace.run;
  if (startedAt && endedAt) {
    const d = Date.parse(endedAt) - Date.parse(startedAt);
    if (Number.isFinite(d) && d >= 0) return d;
  }
  return durationMs;
}

const count = (trace: Trace, kind: string) => trace.stats.byKind[kind] ?? 0;
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
const text = (s: string | null | undefined, max = 500) => (s ? escapeInline(s, max) || "—" : "—");

function of<K extends Step["kind"]>(trace: Trace, kind: K): Array<Extract<Step, { kind: K }>> {
  return trace.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);
}

function failedCommands(trace: Trace): number {
  // Stored failed commands (the accumulator keeps failures beyond the per-kind cap, so this is rarely short).
  return of(trace, "command").filter(commandFailed).length;
}

function blockedCount(trace: Trace): number {
  return of(trace, "network").filter((n) => !n.allowed).length;
}

export interface RenderOptions {
  crossCheck?: CrossCheckResult;
  /** Per field (summary, text); defaults to and never exceeds 65,535. */
  maxChars?: number;
}

export interface RenderedCheck {
  title: string;
  summary: string;
  text?: string;
}

function buildTitle(trace: Trace, cc?: CrossCheckResult): string {
  const parts = [
    plural(count(trace, "decision"), "decision"),
    `${plural(count(trace, "command"), "command")}${failedCommands(trace) > 0 ? ` (${failedCommands(trace)} failed)` : ""}`,
  ];
  const blocked = blockedCount(trace);
  if (blocked > 0) parts.push(plural(blocked, "blocked connection"));
  if (cc && cc.unreported.length > 0) parts.push(plural(cc.unreported.length, "unreported file"));
  return plainText(`${trace.run.agent ?? "agent"}: ${parts.join(", ")}`, 200);
}

function header(trace: Trace): string[][] {
  const r = trace.run;
  const u = r.usage;
  const tokens =
    u.inputTokens === null && u.outputTokens === null
      ? "—"
      : `${fmtInt(u.inputTokens)} in${u.cachedInputTokens !== null ? ` (${fmtInt(u.cachedInputTokens)} cached)` : ""} · ${fmtInt(u.outputTokens)} out`;
  return [
    ["Agent", text(r.agent, 200)],
    ["Model", text(r.model, 200)],
    ["Task", text(r.task, 1000)],
    ["Triggered by", text(r.triggeredBy, 100)],
    ["Started", text(r.startedAt, 40)],
    ["Duration", formatDuration(runDurationMs(trace))],
    ["Tokens", tokens],
    ["Cost", u.costUsd === null ? "—" : `$${u.costUsd.toFixed(u.costUsd > 0 && u.costUsd < 0.01 ? 4 : 2)}`],
    ["Outcome", text(r.outcome, 100)],
    ["Telemetry format", text(r.format, 40)],
  ];
}

function countsLine(trace: Trace): string {
  const s = trace.stats;
  const net = count(trace, "network");
  const parts = [
    plural(count(trace, "decision"), "decision"),
    `${plural(count(trace, "command"), "command")} (${failedCommands(trace)} failed)`,
    plural(trace.files.paths.length, "file") + " reported changed",
    `${plural(net, "network attempt")} (${blockedCount(trace)} blocked)`,
    plural(count(trace, "tool_call"), "tool call"),
    plural(count(trace, "web_search"), "web search", "web searches"),
    plural(count(trace, "error"), "error"),
    plural(s.other, "other event"),
    plural(s.malformedTotal, "malformed line"),
  ];
  return `**Steps:** ${parts.join(" · ")} — ${plural(s.events, "event")} in total.`;
}

function fileList(files: string[], max: number): string {
  const shown = files.slice(0, max).map((f) => `- ${codeSpan(f, { maxChars: 300 })}`);
  if (files.length > max) shown.push(`- _… and ${files.length - max} more_`);
  return shown.join("\n");
}

function networkRow(n: NetworkStep): string[] {
  return [
    n.allowed ? "allowed" : "**BLOCKED**",
    codeSpan(n.host, { table: true, maxChars: 200 }),
    String(n.port),
    text(n.reason, 200),
    text(n.method ?? "", 20),
    fmtInt(n.bytes),
    n.process ? codeSpan(n.process, { table: true, maxChars: 120 }) : "—",
    text(n.time ?? "", 40),
  ];
}

function commandRow(c: CommandStep, i: number): string[] {
  return [
    String(i + 1),
    codeSpan(c.command, { table: true, maxChars: 300 }),
    c.exitCode === null ? (c.status === "declined" ? "declined" : "—") : commandFailed(c) ? `**${c.exitCode}**` : String(c.exitCode),
    formatDuration(c.durationMs),
  ];
}

function decisionBlock(d: DecisionStep, i: number): string {
  const out = [`#### Decision ${i + 1}: ${escapeInline(d.summary, 300) || "(no summary)"}`];
  if (d.rationale.trim() !== "") out.push(`**Why**\n\n${escapeBlockquote(d.rationale, 4000, 40)}`);
  if (d.alternatives.length > 0) {
    out.push(`**Alternatives considered**\n\n${d.alternatives.slice(0, 20).map((a) => `- ${escapeInline(a, 500)}`).join("\n")}`);
  }
  if (d.files.length > 0) out.push(`**Files:** ${d.files.slice(0, 20).map((f) => codeSpan(f, { maxChars: 200 })).join(", ")}`);
  return out.join("\n\n");
}

/** Renders a trace as the check run's title, summary and text. */
export function renderRationaleMarkdown(trace: Trace, opts: RenderOptions = {}): RenderedCheck {
  const limit = Math.min(opts.maxChars ?? GITHUB_TEXT_LIMIT, GITHUB_TEXT_LIMIT);
  return { title: buildTitle(trace, opts.crossCheck), summary: renderSummary(trace, limit, opts.crossCheck), text: renderText(trace, limit, opts.crossCheck) };
}

/** Each unreported file with the commands that likely changed it, when the transcript shows them. */
function unreportedList(cc: CrossCheckResult, max: number): string {
  const sources = new Map(cc.likelySources.map((s) => [s.path, s]));
  const shown = cc.unreported.slice(0, max).map((f) => {
    const s = sources.get(f);
    const cmds = s ? s.commands.map((c) => codeSpan(c, { maxChars: 200 })).join(", ") : "";
    return `- ${codeSpan(f, { maxChars: 300 })}${s ? (s.namesFile ? ` — likely changed by ${cmds}` : ` — possibly by a script or patch: ${cmds}`) : ""}`;
  });
  if (cc.unreported.length > max) shown.push(`- _… and ${cc.unreported.length - max} more_`);
  return shown.join("\n");
}

/** Header, counts, both directions of the cross-check, blocked network attempts. */
function renderSummary(trace: Trace, limit: number, cc?: CrossCheckResult): string {
  const sum = new Budget(limit);
  sum.add("### Agent run");
  sum.table(["", ""], ["---", "---"], header(trace), "header rows");
  sum.add(countsLine(trace));
  if (cc) {
    if (cc.unreported.length === 0 && cc.notInPullRequest.length === 0) {
      sum.add(`**Files:** every file in the pull request was reported by the agent's telemetry.${cc.incomplete ? " (The reported file list was truncated.)" : ""}`);
    } else {
      if (cc.unreported.length > 0) {
        sum.add(`**⚠ ${plural(cc.unreported.length, "file")} changed in the pull request but never reported by the agent:**${cc.incomplete ? " (the reported file list was truncated, so some may have been reported)" : ""}`);
        sum.add(unreportedList(cc, 50));
        if (trace.files.paths.length === 0) sum.add("_The agent's telemetry reports no file changes at all: no transcript of its own edits, or an agent that changes files only through shell commands._");
      }
      if (cc.notInPullRequest.length > 0) {
        sum.add(`**⚠ ${plural(cc.notInPullRequest.length, "file")} reported changed by the agent but not in the pull request:**`);
        sum.add(fileList(cc.notInPullRequest, 50));
      }
    }
  }
  const blocked = of(trace, "network").filter((n) => !n.allowed);
  if (blocked.length > 0) {
    sum.add(`**⚠ ${plural(blocked.length, "blocked network attempt")}** (first 10; all of them in the details):`);
    sum.table(["", "Host", "Port", "Reason", "Method", "Bytes", "Process", "Time"], ["---", "---", "---:", "---", "---", "---:", "---", "---"], blocked.slice(0, 10).map(networkRow), "blocked attempts");
  }
  if (trace.stats.malformedTotal > 0) sum.add(`_${plural(trace.stats.malformedTotal, "line")} of telemetry could not be read and ${trace.stats.malformedTotal === 1 ? "was" : "were"} skipped (see details)._`);
  return sum.finish();
}

/** Decisions, network (blocked first), commands, files, other tools, errors, the agent's last words, other events. */
function renderText(trace: Trace, limit: number, cc?: CrossCheckResult): string {
  const txt = new Budget(limit);
  const decisions = of(trace, "decision");
  txt.add("## Decisions");
  if (decisions.length === 0) txt.add("_The agent recorded no decisions (the `record_decision` tool of the agent-gate MCP server was not used)._");
  decisions.forEach((d, i) => txt.add(decisionBlock(d, i)));

  const network = of(trace, "network");
  if (network.length > 0) {
    txt.add("## Network attempts (blocked first)");
    const sorted = [...network.filter((n) => !n.allowed), ...network.filter((n) => n.allowed)];
    txt.table(["", "Host", "Port", "Reason", "Method", "Bytes", "Process", "Time"], ["---", "---", "---:", "---", "---", "---:", "---", "---"], sorted.map(networkRow), "network attempts");
  }

  const commands = of(trace, "command");
  if (commands.length > 0) {
    txt.add("## Commands");
    txt.table(["#", "Command", "Exit code", "Duration"], ["---:", "---", "---:", "---:"], commands.map(commandRow), "commands");
    const failed = commands.map((c, i) => ({ c, i })).filter((x) => commandFailed(x.c) && x.c.outputExcerpt.trim() !== "");
    for (const { c, i } of failed.slice(0, 20)) {
      txt.add(`<details><summary>Output of failed command ${i + 1} (exit code ${c.exitCode ?? "unknown"})</summary>\n\n${codeFence(c.outputExcerpt, "text")}\n\n</details>`);
    }
  }

  if (trace.files.paths.length > 0 || cc) {
    txt.add("## Files");
    const rows = trace.files.paths.map((f) => {
      const inPr = cc ? (cc.notInPullRequest.includes(f.path) ? "**not in PR**" : "yes") : "—";
      return [codeSpan(f.path, { table: true, maxChars: 300 }), f.change + (f.previousPath ? ` (from ${codeSpan(f.previousPath, { table: true, maxChars: 200 })})` : ""), inPr];
    });
    if (cc) for (const u of cc.unreported) rows.push([codeSpan(u, { table: true, maxChars: 300 }), "**not reported**", "yes"]);
    txt.table(["File", "Change (as reported)", "In the pull request"], ["---", "---", "---"], rows, "files");
    if (trace.files.truncated) txt.add("_The agent reported more files than the trace keeps; the list above is incomplete._");
  }

  const tools = of(trace, "tool_call");
  const searches = of(trace, "web_search");
  if (tools.length > 0 || searches.length > 0) {
    txt.add("## Tool calls and web searches");
    const rows = [
      ...tools.map((t) => [codeSpan(`${t.server ? `${t.server}/` : ""}${t.tool}`, { table: true, maxChars: 120 }), codeSpan(t.arguments, { table: true, maxChars: 200 }), t.status]),
      ...searches.map((w) => ["web search", codeSpan(w.url ?? w.query, { table: true, maxChars: 200 }), "—"]),
    ];
    txt.table(["Tool", "Arguments", "Status"], ["---", "---", "---"], rows, "tool calls");
  }

  const errors = of(trace, "error");
  if (errors.length > 0) {
    txt.add("## Errors");
    txt.add(errors.slice(0, 50).map((e) => `- ${escapeInline(e.message, 500)}`).join("\n") + (errors.length > 50 ? `\n- _… and ${errors.length - 50} more_` : ""));
  }

  // The format's own final answer (Claude Code's `result`, Codex's task_complete) when it states one, else the last message.
  const finalMessage = trace.run.finalMessage ?? of(trace, "message").filter((m) => m.role === "agent").at(-1)?.text;
  if (finalMessage && finalMessage.trim() !== "") {
    txt.add("## The agent's final message");
    txt.add(escapeBlockquote(finalMessage, 3000, 40));
  }

  const st = trace.stats;
  const otherTypes = Object.entries(st.otherTypes).sort((a, b) => b[1] - a[1]);
  const dropped = Object.entries(st.dropped).filter(([, n]) => n > 0);
  if (otherTypes.length > 0 || st.malformedTotal > 0 || dropped.length > 0) {
    txt.add("## Other events");
    if (otherTypes.length > 0) txt.add(otherTypes.slice(0, 30).map(([t, n]) => `- ${codeSpan(t, { maxChars: 100 })}: ${n}`).join("\n"));
    if (dropped.length > 0) txt.add(`_Not kept (per-kind limits of the trace): ${dropped.map(([k, n]) => `${n} ${escapeInline(k, 40)}`).join(", ")}._`);
    if (st.malformedTotal > 0) {
      txt.add(`**${plural(st.malformedTotal, "malformed line")} skipped:**`);
      txt.add(st.malformed.slice(0, 20).map((m) => `- ${m.source ? `${escapeInline(m.source, 20)} ` : ""}line ${m.line}: ${escapeInline(m.message, 200)}`).join("\n"));
    }
  }

  return txt.finish();
}
