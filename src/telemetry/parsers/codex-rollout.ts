/**
 * Codex session rollout files (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, openai/codex codex-rs/protocol
 * `RolloutItem`): `{timestamp, type, payload}` with type session_meta {id, cwd, cli_version}, turn_context {model},
 * response_item (message, reasoning, function_call {name, arguments, call_id} / function_call_output, custom_tool_call
 * {name: apply_patch, input} / custom_tool_call_output, local_shell_call, web_search_call), event_msg (user_message,
 * token_count {info.total_token_usage}, exec_command_end {call_id, exit_code}, task_complete {last_agent_message},
 * error) and compacted. Assistant text and reasoning come from response_item only: event_msg repeats them.
 */
import type { TraceAccumulator } from "../accumulator.js";
import { CAPS } from "../model.js";
import type { CallStatus } from "../model.js";
import { classifyTool, filesFromPatch } from "../tools.js";
import { arr, blocksText, get, int, isObject, isoTime, num, parseJson, str } from "../util.js";
import { addDraft, PendingMap } from "./builder.js";

const ROLLOUT_TYPES = new Set(["session_meta", "turn_context", "response_item", "event_msg", "compacted"]);

export function isCodexRolloutRecord(v: unknown): boolean {
  const type = str(get(v, "type"));
  return type !== undefined && ROLLOUT_TYPES.has(type) && isObject(get(v, "payload"));
}

interface PendingCall {
  name: string;
  input: unknown;
  custom: boolean;
  line: number;
  time?: string;
}

/** The exit code a function_call_output states: JSON `{metadata: {exit_code}}` or the text forms Codex prints. */
function exitCodeOf(output: string): number | null {
  const head = output.slice(0, 2000);
  if (head.trimStart().startsWith("{")) {
    const parsed = parseJson(output.length > 1_000_000 ? "" : output);
    if (parsed.ok) return int(get(get(parsed.value, "metadata"), "exit_code")) ?? null;
  }
  const m = /(?:^|\n)(?:Exit code:|Process exited with code) (-?\d{1,4})/.exec(head);
  return m ? Number(m[1]) : null;
}

function outputText(output: unknown): string {
  if (typeof output !== "string") return blocksText(output);
  if (!output.trimStart().startsWith("{") || output.length > 1_000_000) return output;
  const parsed = parseJson(output);
  return parsed.ok ? (str(get(parsed.value, "output")) ?? output) : output;
}

export class CodexRolloutHandler {
  private cwd: string | null = null;
  private readonly pending: PendingMap<PendingCall>;
  private readonly exitCodes = new Map<string, number>();
  private sawPrompt = false;

  constructor(private readonly acc: TraceAccumulator) {
    this.pending = new PendingMap(CAPS.pending, (p) => this.emit(p, null, null));
  }

  handle(value: unknown, line: number): void {
    const time = isoTime(get(value, "timestamp"));
    const run = this.acc.run;
    if (time) {
      if (run.startedAt === null) run.startedAt = time;
      run.endedAt = time;
    }
    const payload = get(value, "payload");
    switch (str(get(value, "type"))) {
      case "session_meta":
        run.sessionId ??= str(get(payload, "id")) ?? null;
        this.cwd ??= str(get(payload, "cwd")) ?? null;
        return;
      case "turn_context":
        run.model ??= str(get(payload, "model")) ?? null;
        return;
      case "response_item":
        return this.responseItem(payload, line, time);
      case "event_msg":
        return this.eventMsg(payload, line, time);
      default:
        this.acc.other("compacted", line, time);
    }
  }

  private responseItem(p: unknown, line: number, time?: string): void {
    const base = { sourceLine: line, ...(time ? { time } : {}) };
    const type = str(get(p, "type")) ?? "";
    const callId = str(get(p, "call_id"));
    switch (type) {
      case "message": {
        const role = str(get(p, "role"));
        // User and developer messages are instructions and environment context; the prompt comes from event_msg.
        if (role === "assistant") this.acc.add({ kind: "message", role: "agent", text: blocksText(get(p, "content")), ...base });
        return;
      }
      case "reasoning": {
        const text = blocksText(get(p, "summary"));
        if (text.trim() !== "") this.acc.add({ kind: "reasoning", text, ...base });
        return;
      }
      case "function_call":
      case "custom_tool_call":
        this.pending.set(callId ?? `line-${line}`, { name: str(get(p, "name")) ?? "unknown", input: get(p, type === "custom_tool_call" ? "input" : "arguments"), custom: type === "custom_tool_call", line, ...(time ? { time } : {}) });
        return;
      case "function_call_output":
      case "custom_tool_call_output": {
        const call = callId === undefined ? undefined : this.pending.take(callId);
        const output = get(p, "output");
        if (call) this.emit(call, typeof output === "string" ? output : blocksText(output), callId ?? null);
        else this.acc.other(`${type}:orphan`, line, time);
        return;
      }
      case "local_shell_call": {
        const command = arr(get(get(p, "action"), "command")).filter((x): x is string => typeof x === "string");
        this.emit({ name: "shell", input: { command }, custom: false, line, ...(time ? { time } : {}) }, null, null);
        return;
      }
      case "web_search_call":
        this.acc.add({ kind: "web_search", query: str(get(get(p, "action"), "query")) ?? "", ...base });
        return;
      default:
        this.acc.other(`response_item:${type || "unknown"}`, line, time);
    }
  }

  private eventMsg(p: unknown, line: number, time?: string): void {
    const type = str(get(p, "type")) ?? "";
    const run = this.acc.run;
    switch (type) {
      case "user_message": {
        const text = str(get(p, "message")) ?? "";
        if (!this.sawPrompt) {
          this.sawPrompt = true;
          run.task ??= text;
        }
        this.acc.add({ kind: "message", role: "user", text, sourceLine: line, ...(time ? { time } : {}) });
        return;
      }
      case "token_count": {
        // Totals are cumulative: the last one is the run's.
        const total = get(get(p, "info"), "total_token_usage");
        if (!isObject(total)) return;
        run.usage.inputTokens = num(get(total, "input_tokens")) ?? run.usage.inputTokens;
        run.usage.cachedInputTokens = num(get(total, "cached_input_tokens")) ?? run.usage.cachedInputTokens;
        run.usage.outputTokens = num(get(total, "output_tokens")) ?? run.usage.outputTokens;
        return;
      }
      case "exec_command_end": {
        const id = str(get(p, "call_id"));
        const code = int(get(p, "exit_code"));
        if (id !== undefined && code !== undefined && this.pending.has(id)) this.exitCodes.set(id, code);
        return;
      }
      case "task_complete": {
        const last = str(get(p, "last_agent_message"));
        if (last !== undefined && last.trim() !== "") run.finalMessage = last;
        return;
      }
      case "error":
      case "stream_error":
        this.acc.add({ kind: "error", message: str(get(p, "message")) ?? type, sourceLine: line, ...(time ? { time } : {}) });
        return;
      case "agent_message":
      case "agent_reasoning":
      case "agent_reasoning_section_break":
      case "task_started":
        return;
      default:
        this.acc.other(`event_msg:${type || "unknown"}`, line, time);
    }
  }

  /** A tool call with its output (null: the session ended first). */
  private emit(call: PendingCall, output: string | null, callId: string | null): void {
    const base = { sourceLine: call.line, ...(call.time ? { time: call.time } : {}) };
    const known = callId === null ? undefined : this.exitCodes.get(callId);
    if (callId !== null) this.exitCodes.delete(callId);
    if (call.custom && call.name === "apply_patch" && typeof call.input === "string") {
      const failed = output !== null && /^(?:error|failed|apply_patch verification failed)/i.test(outputText(output).trim());
      for (const c of failed ? [] : filesFromPatch(call.input, this.cwd)) this.acc.add({ kind: "file_change", path: c.path, change: c.change, ...(c.previousPath ? { previousPath: c.previousPath } : {}), ...base });
      if (failed) this.acc.add({ kind: "error", message: `apply_patch failed: ${outputText(output).slice(0, 500)}`, ...base });
      return;
    }
    const draft = classifyTool(call.name, call.input, null, this.cwd);
    const exitCode = known ?? (output === null ? null : exitCodeOf(output));
    const status: CallStatus = output === null && known === undefined ? "unknown" : exitCode !== null && exitCode !== 0 ? "failed" : "completed";
    addDraft(this.acc, draft, { name: call.name, status, exitCode, output: output === null ? "" : outputText(output) }, base);
  }

  flush(): void {
    for (const p of this.pending.drain()) this.emit(p, null, null);
  }
}
