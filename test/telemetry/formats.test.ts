/**
 * Every format as its agent writes it (test/fixtures/telemetry/SOURCES.md): detection, the steps that matter for a
 * review, and the shapes that used to be refused (a JSON array, Copilot's span lines, one pretty-printed document).
 */
import { describe, expect, it } from "vitest";
import { readTranscript, renderRationaleMarkdown, TranscriptReader } from "../../src/telemetry/index.js";
import type { Step, Trace } from "../../src/telemetry/index.js";
import { fixture } from "./helpers.js";

const of = <K extends Step["kind"]>(t: Trace, k: K) => t.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === k);

describe("real formats", () => {
  it("claude-code-action's execution file: a pretty-printed JSON array, the result text as the final message", () => {
    const { format, trace } = readTranscript(fixture("claude-code-action-execution.json"));
    expect(format).toBe("claude-code");
    expect(trace.run).toMatchObject({ agent: "claude-code", model: "claude-test-model", sessionId: "sample-session-id", durationMs: 18750 });
    expect(trace.run.usage.costUsd).toBe(0.0347);
    expect(trace.run.finalMessage).toBe("Successfully removed debug print statement from file and added review comment to document the change.");
    expect(trace.files.paths).toEqual([{ path: "/path/to/sample/file.py", change: "update" }]);
    expect(of(trace, "tool_call").map((t) => `${t.server}/${t.tool}`)).toEqual(["null/Read", "github/add_pull_request_review_comment"]);
    expect(trace.stats.malformedTotal).toBe(0);
    expect(renderRationaleMarkdown(trace).text).toContain("Successfully removed debug print statement");
  });

  it("the same array split into chunks at every size gives the same trace", () => {
    const text = fixture("claude-code-action-execution.json");
    const whole = readTranscript(text).trace;
    for (const size of [1, 7, 64, 1000]) {
      const r = new TranscriptReader();
      for (let i = 0; i < text.length; i += size) r.write(text.slice(i, i + size));
      expect(r.end()).toEqual(whole);
    }
  });

  it("Copilot CLI's OTel file exporter: spans with HrTime, metrics counted, chat usage, spans without an operation kept as other", () => {
    const { format, trace } = readTranscript(fixture("copilot-otel.jsonl"));
    expect(format).toBe("otel");
    expect(trace.run.agent).toBe("github-copilot");
    expect(trace.run.model).toBe("claude-sonnet-4.5");
    expect(trace.run.usage).toMatchObject({ inputTokens: 16335 + 16331 + 16618, outputTokens: 241 + 216 + 20, cachedInputTokens: 6966 + 16321 });
    expect(trace.run.startedAt).toBe("2026-04-15T21:14:20.398Z");
    expect(of(trace, "tool_call").map((t) => t.tool)).toEqual(["report_intent", "bash"]);
    expect(trace.stats.otherTypes).toEqual({ "otel:metric": 8, "otel:span": 1 });
    expect(trace.stats.malformedTotal).toBe(0);
  });

  it("Copilot usage values of \"[REDACTED]\" are unknown, not zero and not an error", () => {
    const line = JSON.stringify({ type: "span", traceId: "t", spanId: "s", name: "chat gpt-5", startTime: [1789068146, 811000000], endTime: [1789068147, 0], attributes: { "gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": "[REDACTED]", "gen_ai.usage.output_tokens": "[REDACTED]" } });
    const { trace } = readTranscript(line);
    expect(trace.run.usage.inputTokens).toBeNull();
    expect(trace.stats.malformedTotal).toBe(0);
  });

  it("a Codex session rollout: session, model, cumulative usage, tool calls and task_complete", () => {
    const { format, trace } = readTranscript(fixture("codex-rollout.jsonl"));
    expect(format).toBe("codex");
    expect(trace.run).toMatchObject({ agent: "codex", model: "gpt-5.3-codex", sessionId: "019c8bfe-ec25-79e0-97d7-bda6a9c575ff" });
    expect(trace.run.usage.inputTokens).toBe(298373);
    expect(trace.run.finalMessage).toMatch(/^\[REDACTED_LAST_AGENT_MESSAGE/);
    expect(of(trace, "tool_call")).toHaveLength(5);
    expect(of(trace, "tool_call")[0]).toMatchObject({ server: "cloud-associates", tool: "search_workflows", status: "completed" });
    expect(trace.stats.malformedTotal).toBe(0);
  });

  it("Codex rollout commands and apply_patch become commands with exit codes and reported file changes", () => {
    const lines = [
      { timestamp: "2026-04-20T16:44:37Z", type: "session_meta", payload: { id: "s", cwd: "/tmp/proj" } },
      { timestamp: "2026-04-20T16:44:37Z", type: "response_item", payload: { type: "function_call", name: "shell", arguments: '{"command":["bash","-lc","sed -i s/a/b/ README.md"]}', call_id: "c1" } },
      { timestamp: "2026-04-20T16:44:38Z", type: "event_msg", payload: { type: "exec_command_end", call_id: "c1", exit_code: 0 } },
      { timestamp: "2026-04-20T16:44:38Z", type: "response_item", payload: { type: "function_call_output", call_id: "c1", output: '{"output":"","metadata":{"exit_code":0}}' } },
      { timestamp: "2026-04-20T16:44:39Z", type: "response_item", payload: { type: "custom_tool_call", status: "completed", call_id: "c2", name: "apply_patch", input: "*** Begin Patch\n*** Add File: /tmp/proj/a.rs\n+fn main() {}\n*** End Patch" } },
      { timestamp: "2026-04-20T16:44:39Z", type: "response_item", payload: { type: "custom_tool_call_output", call_id: "c2", output: '{"output":"Success. Updated the following files:\\nA a.rs"}' } },
      { timestamp: "2026-04-20T16:44:40Z", type: "response_item", payload: { type: "function_call", name: "exec_command", arguments: '{"cmd":"false"}', call_id: "c3" } },
      { timestamp: "2026-04-20T16:44:40Z", type: "response_item", payload: { type: "function_call_output", call_id: "c3", output: "Process exited with code 1\nOutput:\n" } },
    ];
    const { trace } = readTranscript(lines.map((l) => JSON.stringify(l)).join("\n"));
    expect(of(trace, "command").map((c) => [c.command, c.exitCode, c.status])).toEqual([
      ["sed -i s/a/b/ README.md", 0, "completed"],
      ["false", 1, "failed"],
    ]);
    expect(trace.files.paths).toEqual([{ path: "a.rs", change: "add" }]);
  });

  it("opencode run --format json: text, tokens and cost from step_finish, the last text as the final message", () => {
    const { format, trace } = readTranscript(fixture("opencode.jsonl"));
    expect(format).toBe("opencode");
    expect(trace.run).toMatchObject({ agent: "opencode", sessionId: "ses_09ec7fc10ffekAtgUWHv9M6Y0T", finalMessage: "alpha\nbravo\ncharlie" });
    expect(trace.run.usage).toEqual({ inputTokens: 17913, outputTokens: 9, cachedInputTokens: 1664, costUsd: 0 });
  });

  it("opencode tool_use parts: bash with its exit code, edits as reported file changes", () => {
    const part = (tool: string, state: unknown) => JSON.stringify({ type: "tool_use", timestamp: 1788169427440, sessionID: "ses_abc", part: { id: "prt_1", messageID: "msg_1", sessionID: "ses_abc", type: "tool", tool, callID: "call_1", state } });
    const { trace } = readTranscript(
      [
        part("bash", { status: "completed", input: { command: "npm test", description: "Run tests" }, output: "1 failing", metadata: { exit: 1 } }),
        part("edit", { status: "completed", input: { filePath: "src/a.ts", oldString: "a", newString: "b" }, output: "" }),
        part("write", { status: "error", input: { filePath: "src/b.ts", content: "x" }, error: "permission denied" }),
      ].join("\n"),
    );
    expect(of(trace, "command")).toMatchObject([{ command: "npm test", exitCode: 1, status: "failed" }]);
    expect(trace.files.paths).toEqual([{ path: "src/a.ts", change: "update" }]);
    expect(of(trace, "tool_call")).toMatchObject([{ tool: "write", status: "failed", arguments: "src/b.ts" }]);
  });

  it("an OpenHands trajectory: the task, the file it created (workspace-relative) and the finish thought", () => {
    const { format, trace } = readTranscript(fixture("openhands-trajectory.json"));
    expect(format).toBe("openhands");
    expect(trace.run.task).toMatch(/^Please create a simple 2048 game/);
    expect(trace.files.paths).toEqual([{ path: "game_2048.py", change: "add" }]);
    expect(trace.run.finalMessage).toMatch(/^I've created a simple implementation of/);
  });

  it("Cursor CLI stream-json (the docs' example): Claude-shaped events plus tool_call started/completed", () => {
    const { format, trace } = readTranscript(fixture("cursor-stream.jsonl"));
    expect(format).toBe("cursor");
    expect(trace.run).toMatchObject({ agent: "cursor-agent", model: "Claude 4 Sonnet", task: "Lies die README.md und erstelle eine Zusammenfassung" });
    expect(trace.files.paths).toEqual([{ path: "summary.txt", change: "write" }]);
    expect(of(trace, "tool_call")).toMatchObject([{ tool: "read", status: "completed" }]);
    expect(trace.run.finalMessage).toBe("Ich werde die README.md lesen und eine Zusammenfassung erstellen");
  });

  it("Cursor thinking deltas make one reasoning step and shell calls are commands", () => {
    const ev = (o: object) => JSON.stringify({ session_id: "s", ...o });
    const { trace } = readTranscript(
      [
        ev({ type: "system", subtype: "init", cwd: "/w", model: "gpt-5" }),
        ev({ type: "thinking", subtype: "delta", text: "Let me " }),
        ev({ type: "thinking", subtype: "delta", text: "check." }),
        ev({ type: "thinking", subtype: "completed" }),
        ev({ type: "tool_call", subtype: "started", call_id: "c", tool_call: { shellToolCall: { args: { command: "sed -i s/x/y/ /w/a.txt" } } } }),
        ev({ type: "tool_call", subtype: "completed", call_id: "c", tool_call: { shellToolCall: { args: { command: "sed -i s/x/y/ /w/a.txt" }, result: { success: { exitCode: 0, stdout: "" } } } } }),
      ].join("\n"),
    );
    expect(of(trace, "reasoning").map((r) => r.text)).toEqual(["Let me check."]);
    expect(of(trace, "command")).toMatchObject([{ command: "sed -i s/x/y/ /w/a.txt", exitCode: 0, status: "completed" }]);
  });

  it("claude -p --output-format json: one result object", () => {
    const { format, trace } = readTranscript(fixture("claude-print.json"));
    expect(format).toBe("claude-code");
    expect(trace.run.finalMessage).toMatch(/^I fixed the off-by-one error/);
    expect(trace.run.usage).toEqual({ inputTokens: 9 + 6112 + 18336, outputTokens: 702, cachedInputTokens: 18336, costUsd: 0.0412 });
    expect(trace.run.sessionId).toBe("0b7a5f3e-6c1d-4c7e-9a54-2f0d3c1e8b21");
  });

  it("Gemini CLI stream-json: deltas joined, the shell command and the written file, a failed replace as a failed call", () => {
    const { format, trace } = readTranscript(fixture("gemini-stream.jsonl"));
    expect(format).toBe("gemini");
    expect(trace.run).toMatchObject({ agent: "gemini-cli", model: "gemini-2.5-pro", outcome: "success", durationMs: 6100 });
    expect(of(trace, "message").map((m) => m.text)).toEqual(["Add a --verbose flag to scripts/build.sh and document it in README.md", "I'll look at the build script first.", "Added the flag to scripts/build.sh; README.md has no Build section to extend."]);
    expect(of(trace, "command")).toMatchObject([{ command: "cat scripts/build.sh", exitCode: 0 }]);
    expect(trace.files.paths).toEqual([{ path: "scripts/build.sh", change: "write" }]);
    expect(of(trace, "tool_call")).toMatchObject([{ tool: "replace", status: "failed" }]);
    expect(trace.run.usage).toMatchObject({ inputTokens: 17931, outputTokens: 521, cachedInputTokens: 12288 });
  });

  it("Gemini CLI json: one pretty-printed document, the response as the final message", () => {
    const { format, trace } = readTranscript(fixture("gemini.json"));
    expect(format).toBe("gemini");
    expect(trace.run).toMatchObject({ model: "gemini-2.5-flash", finalMessage: "The capital of France is Paris.", sessionId: "8d3e0f51-2b7c-4a19-b6d4-0e9f8a7b6c5d" });
    expect(trace.run.usage).toMatchObject({ inputTokens: 8214, outputTokens: 7 });
  });

  it("goose stream-json: shell and text_editor tool requests with their responses", () => {
    const { format, trace } = readTranscript(fixture("goose-stream.jsonl"));
    expect(format).toBe("goose");
    expect(trace.run.task).toBe("Run the tests and fix the failing one in src/math.py");
    expect(of(trace, "command")).toMatchObject([{ command: "pytest -q", status: "completed" }]);
    expect(trace.files.paths).toEqual([{ path: "src/math.py", change: "update" }]);
    expect(trace.run.finalMessage).toBe("Fixed add() in src/math.py; both tests pass now.");
  });
});

describe("unrecognised input", () => {
  it("names the formats tried and shows the first line", () => {
    expect(() => readTranscript('{"hello":"world"}\n{"x":1}', { name: "run.log" })).toThrow(
      expect.objectContaining({ code: "unknown_format", message: expect.stringMatching(/^could not recognise the telemetry format of run\.log \(tried otel, codex, cursor, claude-code, gemini, opencode, goose, openhands, native\); the first line was: \{"hello":"world"\}$/) }),
    );
    expect(() => readTranscript("")).toThrow(expect.objectContaining({ message: expect.stringMatching(/the input is empty/) }));
  });

  it("counts unknown records of a known format instead of failing", () => {
    const { trace } = readTranscript([fixture("opencode.jsonl").trim(), JSON.stringify({ type: "step_start", sessionID: "s", part: {} }), JSON.stringify({ type: "tool_use", sessionID: "s", part: { tool: "todowrite", state: {} } })].join("\n"));
    expect(trace.stats.malformedTotal).toBe(0);
    expect(trace.stats.events).toBe(5);
  });

  it("a JSON array cut short keeps the elements read and reports where it broke", () => {
    const text = fixture("claude-code-action-execution.json");
    const { trace } = readTranscript(text.slice(0, text.indexOf('"type": "result"') - 10));
    expect(trace.stats.byKind.message).toBe(4);
    expect(trace.run.finalMessage).toBeNull();
  });
});
