import { describe, expect, it } from "vitest";
import { createParser, detectFormat, parseNativeBundle, parseTranscript, TelemetryError } from "../../src/telemetry/index.js";
import type { Step } from "../../src/telemetry/index.js";
import { fixture, manifestObject, nativeBundle } from "./helpers.js";

const kinds = (steps: Step[]) => steps.map((s) => s.kind);
const of = <K extends Step["kind"]>(steps: Step[], k: K) => steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === k);

describe("detectFormat", () => {
  it.each([
    ["codex.jsonl", "codex"],
    ["codex-legacy.jsonl", "codex"],
    ["claude-code.jsonl", "claude-code"],
    ["otel-spans.jsonl", "otel"],
    ["native-bundle/events.jsonl", "native"],
    ["native-bundle/network.jsonl", "native"],
  ])("%s is %s", (file, format) => {
    expect(detectFormat(fixture(file).split("\n").slice(0, 5))).toBe(format);
  });
  it("recognises a pretty-printed OTLP export as a whole", () => {
    expect(detectFormat([fixture("otel-export.json")])).toBe("otel");
  });
  it("returns null for text that is no telemetry", () => {
    expect(detectFormat(["hello", "{\"a\":1}", "[1,2]"])).toBeNull();
  });
});

describe("Codex exec --json", () => {
  const t = parseTranscript(fixture("codex.jsonl"));
  it("reads the run header and sums usage over turns", () => {
    expect(t.run).toMatchObject({ format: "codex", agent: "codex", sessionId: "0199a213-81c0-7800-8aa1-bbab2a035a53" });
    expect(t.run.usage).toEqual({ inputTokens: 24763, cachedInputTokens: 24448, outputTokens: 122, costUsd: null });
  });
  it("maps items to steps in order, once per item (started/completed pairs are not duplicated)", () => {
    expect(kinds(t.steps)).toEqual(["reasoning", "command", "decision", "file_change", "file_change", "tool_call", "web_search", "file_change", "command", "error", "command", "other", "message"]);
    const cmds = of(t.steps, "command");
    expect(cmds.map((c) => [c.command, c.exitCode, c.status])).toEqual([
      ["bash -lc 'rg -n retry src/api'", 0, "completed"],
      ["bash -lc 'npm test'", 1, "failed"],
      ["bash -lc 'npm test'", 0, "completed"],
    ]);
    expect(cmds[1]!.outputExcerpt).toContain("expected 10 to be 9");
  });
  it("turns the agent-gate record_decision MCP call into a decision", () => {
    const [d] = of(t.steps, "decision");
    expect(d).toMatchObject({
      summary: "Use a token bucket in the client",
      alternatives: ["p-limit dependency — adds a package for 20 lines of code", "Server-side throttling — not ours to change"],
      files: ["src/api/rateLimit.ts", "src/api/client.ts:12"],
    });
    expect(of(t.steps, "tool_call").map((c) => c.tool)).toEqual(["search"]);
  });
  it("collects the files it reported and counts todo_list as other", () => {
    expect(t.files.paths.map((p) => [p.path, p.change])).toEqual([
      ["src/api/rateLimit.ts", "add"],
      ["src/api/client.ts", "update"],
      ["test/api/rateLimit.test.ts", "add"],
    ]);
    expect(t.stats.otherTypes).toEqual({ "item:todo_list": 1 });
    expect(t.stats.events).toBe(20);
  });
  it("reads the older item_type / assistant_message form", () => {
    const legacy = parseTranscript(fixture("codex-legacy.jsonl"));
    expect(legacy.run.sessionId).toBe("01997dac-9581-7de3-b6a0-1df8256f2752");
    expect(kinds(legacy.steps)).toEqual(["reasoning", "command", "file_change", "message"]);
    expect(of(legacy.steps, "message")[0]!.text).toBe("Removed the first line of README.md.");
    expect(legacy.run.usage.inputTokens).toBe(1200);
  });
  it("emits an item that never completed as in progress, and turn.failed as an error", () => {
    const tr = parseTranscript(
      [
        '{"type":"item.started","item":{"id":"i1","type":"command_execution","command":"sleep 100","aggregated_output":"","exit_code":null,"status":"in_progress"}}',
        '{"type":"turn.failed","error":{"message":"context window exceeded"}}',
      ].join("\n"),
      "codex",
    );
    expect(of(tr.steps, "command")[0]).toMatchObject({ command: "sleep 100", status: "in_progress", exitCode: null });
    expect(of(tr.steps, "error")[0]!.message).toBe("context window exceeded");
    expect(tr.run.outcome).toBe("failed");
  });
});

describe("Claude Code stream-json", () => {
  const t = parseTranscript(fixture("claude-code.jsonl"));
  it("reads model, session, duration, cost and usage", () => {
    expect(t.run).toMatchObject({ agent: "claude-code", model: "claude-sonnet-4-5-20250929", durationMs: 48211, outcome: "success" });
    expect(t.run.usage).toEqual({ inputTokens: 28 + 5120 + 40960, cachedInputTokens: 40960, outputTokens: 373, costUsd: 0.1834 });
  });
  it("pairs tool_use with tool_result: Bash → command with exit code, failures parsed from 'Exit code N'", () => {
    const cmds = of(t.steps, "command");
    expect(cmds.map((c) => [c.command, c.exitCode, c.status])).toEqual([
      ["grep -rn retry src/api", 0, "completed"],
      ["npm test", 1, "failed"],
    ]);
  });
  it("maps Write/Edit to file changes relative to the session cwd", () => {
    expect(t.files.paths).toEqual([
      { path: "src/api/rateLimit.ts", change: "write" },
      { path: "src/api/client.ts", change: "update" },
    ]);
  });
  it("maps mcp__agent-gate__record_decision to a decision, WebSearch/WebFetch to web searches, other MCP tools to tool calls", () => {
    expect(of(t.steps, "decision")[0]).toMatchObject({ summary: "Add a token bucket to the client", alternatives: ["p-limit — a dependency for 20 lines", "Server-side throttling"], files: ["src/api/client.ts:12-14"] });
    expect(of(t.steps, "web_search").map((w) => w.url ?? w.query)).toEqual(["token bucket algorithm", "https://en.wikipedia.org/wiki/Token_bucket"]);
    expect(of(t.steps, "tool_call").map((c) => [c.server, c.tool, c.status])).toEqual([
      ["github", "create_issue", "failed"],
      [null, "Read", "completed"],
    ]);
    expect(of(t.steps, "reasoning")).toHaveLength(1);
  });
  it("keeps a tool_use whose result never came, with unknown status", () => {
    const tr = parseTranscript('{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"rm -rf build"}}]}}', "claude-code");
    expect(of(tr.steps, "command")[0]).toMatchObject({ command: "rm -rf build", exitCode: null, status: "unknown" });
  });
});

describe("OpenTelemetry GenAI spans", () => {
  it("reads an OTLP JSON export: agent, model, task, chat usage, tools", () => {
    const t = parseTranscript(fixture("otel-export.json"));
    expect(t.run).toMatchObject({ format: "otel", agent: "widget-bot", model: "gpt-4.1", task: "Add rate limiting to the API client", sessionId: "conv_5j66UpCpwteGg4YSxUnt7lPY" });
    // chat spans' usage wins over the agent span's (which would double count)
    expect(t.run.usage).toMatchObject({ inputTokens: 2700, outputTokens: 200 });
    expect(t.run.startedAt).toBe("2025-10-09T08:53:20.000Z");
    expect(of(t.steps, "decision")[0]).toMatchObject({ summary: "Token bucket in the client", files: ["src/api/client.ts#L12"] });
    expect(of(t.steps, "command")[0]).toMatchObject({ command: "npm test", exitCode: 1, status: "failed", durationMs: 12000 });
    expect(t.files.paths.map((p) => p.path)).toEqual(["src/api/rateLimit.ts", "src/api/client.ts"]);
    expect(of(t.steps, "tool_call").map((c) => c.tool)).toEqual(["get_weather"]);
    expect(t.stats.otherTypes).toEqual({ "otel:span": 1 });
    // steps come in time order
    const times = t.steps.map((s) => s.time ?? "");
    expect([...times].sort()).toEqual(times);
  });
  it("reads JSON Lines of spans with plain attribute objects", () => {
    const t = parseTranscript(fixture("otel-spans.jsonl"));
    expect(t.run).toMatchObject({ agent: "reviewer", model: "claude-sonnet-4-5" });
    expect(t.run.usage).toMatchObject({ inputTokens: 300, outputTokens: 40 });
    expect(of(t.steps, "command")[0]).toMatchObject({ command: "npm run lint", exitCode: 0, durationMs: 3000 });
    expect(t.files.paths.map((p) => p.path)).toEqual(["src/lint.ts"]);
  });
  it("accepts one OTLP export per line (collector file exporter)", () => {
    const oneLine = JSON.stringify(JSON.parse(fixture("otel-export.json")));
    const t = parseTranscript(`${oneLine}\n${oneLine}\n`, "otel");
    expect(t.stats.events).toBe(16);
    expect(t.stats.byKind.decision).toBe(2);
  });
});

describe("native bundle", () => {
  it("builds the run header from the manifest and merges events and network attempts in time order", () => {
    const { manifest, trace } = parseNativeBundle(nativeBundle());
    expect(manifest.pullRequest?.number).toBe(42);
    expect(trace.run).toMatchObject({ format: "native", agent: "codex", model: "gpt-5-codex", task: "Add rate limiting to the API client", triggeredBy: "octocat", outcome: "succeeded" });
    expect(trace.run.usage.costUsd).toBe(0.42);
    expect(trace.stats.events).toBe(16);
    const net = of(trace.steps, "network");
    expect(net.map((n) => [n.host, n.allowed])).toEqual([
      ["api.openai.com", true],
      ["registry.npmjs.org", true],
      ["evil.example.com", false],
      ["169.254.169.254", false],
    ]);
    const times = trace.steps.map((s) => s.time!);
    expect([...times].sort()).toEqual(times);
    expect(of(trace.steps, "file_change").find((f) => f.path === "src/api/client.ts")?.line).toBe(12);
  });
  it("throws a typed TelemetryError on an invalid manifest, naming the field", () => {
    const bad = { ...nativeBundle(), manifest: JSON.stringify(manifestObject({ headSha: "not-a-sha", extra: 1 })) };
    expect(() => parseNativeBundle(bad)).toThrow(TelemetryError);
    try {
      parseNativeBundle(bad);
    } catch (e) {
      expect((e as TelemetryError).code).toBe("invalid_manifest");
      expect((e as TelemetryError).details.join(" ")).toMatch(/headSha/);
    }
    expect(() => parseNativeBundle({ ...nativeBundle(), manifest: "{" })).toThrow(/not valid JSON/);
    expect(() => parseNativeBundle({ ...nativeBundle(), manifest: JSON.stringify(manifestObject({ version: 2 })) })).toThrow(expect.objectContaining({ code: "unsupported_version" }));
  });
  it("reports bad event lines with their line number and keeps the rest; unknown event types are other", () => {
    const events = ['{"time":"2025-10-09T08:00:01Z","type":"message","role":"agent","text":"hi"}', "not json", '{"time":"2025-10-09T08:00:02Z","type":"command"}', '{"time":"2025-10-09T08:00:03Z","type":"telepathy","x":1}'].join("\n");
    const { trace } = parseNativeBundle({ ...nativeBundle(), events, network: ['{"host":"x","port":99999,"allowed":true}'] });
    expect(trace.stats.malformed.map((m) => [m.source, m.line])).toEqual([
      ["events", 2],
      ["events", 3],
      ["network", 1],
    ]);
    expect(trace.stats.malformed[1]!.message).toMatch(/command/);
    expect(trace.stats.otherTypes).toEqual({ telepathy: 1 });
    expect(kinds(trace.steps)).toEqual(["message", "other"]);
  });
  it("merges the agent transcript the manifest names", () => {
    const manifest = JSON.stringify(manifestObject({ transcript: { path: "codex.jsonl", format: "codex" }, usage: undefined }));
    const { trace } = parseNativeBundle({ manifest, events: "", network: "", transcript: fixture("codex.jsonl") });
    expect(trace.run.agent).toBe("codex");
    expect(trace.run.usage.inputTokens).toBe(24763);
    expect(trace.stats.byKind.decision).toBe(1);
    expect(trace.run.format).toBe("native");
  });
});

describe("malformed and unknown input", () => {
  it("reports a malformed line with its line number and skips it; unknown types are counted as other", () => {
    const t = parseTranscript(['{"type":"thread.started","thread_id":"t"}', "{oops", "", '{"type":"turn.exploded","x":1}', '{"no":"type"}', '{"type":"item.completed","item":{"id":"1","type":"agent_message","text":"done"}}'].join("\n"), "codex");
    expect(t.stats.malformed.map((m) => m.line)).toEqual([2, 5]);
    expect(t.stats.malformedTotal).toBe(2);
    expect(t.stats.other).toBe(1);
    expect(t.stats.otherTypes).toEqual({ "turn.exploded": 1 });
    expect(of(t.steps, "message")[0]!.text).toBe("done");
  });
  it("throws unknown_format when nothing is recognisable", () => {
    expect(() => parseTranscript("just text\nmore text")).toThrow(expect.objectContaining({ code: "unknown_format" }));
  });
  it("createParser streams line by line with the same result as parseTranscript", () => {
    const text = fixture("claude-code.jsonl");
    const p = createParser("claude-code");
    text.split("\n").forEach((l, i) => p.push(l, i + 1));
    expect(p.finish()).toEqual(parseTranscript(text));
  });
});
