/**
 * Telemetry is the agent's own output: hostile. Each parser must stay linear in its input, so a crafted transcript
 * cannot hold a webhook or a worker. The time bounds here are generous guards against hangs, not measurements
 * (those are in `npm run bench`).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FORMATS, readTranscript, renderRationaleMarkdown, crossCheck, buildAnnotations } from "../../src/telemetry/index.js";
import { normalizePath, trimTrailingSlashes } from "../../src/telemetry/util.js";
import { fixture } from "./helpers.js";

describe("linear time on crafted input", () => {
  it("a Claude Code cwd of 200,000 slashes costs nothing per file-changing tool call", () => {
    const cwd = `/${"/".repeat(200_000)}x`;
    const lines = [JSON.stringify({ type: "system", subtype: "init", session_id: "s", cwd, model: "m" })];
    for (let i = 0; i < 200; i++) {
      lines.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: `t${i}`, name: "Edit", input: { file_path: `${cwd}/f${i}.ts`, old_string: "a", new_string: "b" } }] } }));
      lines.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: `t${i}`, content: "ok" }] } }));
    }
    const started = performance.now();
    const { trace } = readTranscript(lines.join("\n"));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(trace.files.paths).toHaveLength(200);
    expect(trace.files.paths[0]?.path).toBe("f0.ts");
  });

  it("trimming trailing slashes is one pass and exact", () => {
    expect(trimTrailingSlashes("/a/b///")).toBe("/a/b");
    expect(trimTrailingSlashes("////")).toBe("");
    expect(trimTrailingSlashes("a")).toBe("a");
    const s = `${"/".repeat(1_000_000)}x`;
    const started = performance.now();
    expect(normalizePath(`${s}/y`, s)).toBe("y");
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

/** Records of every format's own shape, with hostile values where the parsers read strings, paths and nesting. */
const hostileString = fc.oneof(fc.string({ maxLength: 50 }), fc.constant("/".repeat(50_000)), fc.constant("\\".repeat(20_000)), fc.constant("*** Update File: ".repeat(5_000)), fc.constant("a:1-".repeat(10_000)));
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: "small" }, hostileString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(fc.constantFrom("type", "name", "path", "file_path", "command", "cwd", "input", "arguments", "content", "part", "payload", "message", "tool_call", "args", "state", "item", "attributes", "__proto__"), tie("v"), { maxKeys: 5 })),
})).v;
const typed = (types: string[]) => fc.record({ type: fc.constantFrom(...types), timestamp: fc.constantFrom("2026-01-01T00:00:00Z", "x"), session_id: fc.constant("s"), sessionID: fc.constant("s"), time: fc.constant("2026-01-01T00:00:00Z"), payload: value, message: value, part: value, item: value, tool_call: value, subtype: fc.constantFrom("init", "started", "completed", "delta") }, { requiredKeys: ["type"] });
const record = fc.oneof(
  typed(["system", "assistant", "user", "result", "tool_call", "thinking"]),
  typed(["session_meta", "response_item", "event_msg", "turn_context", "item.completed", "item.started", "turn.completed"]),
  typed(["init", "message", "tool_use", "tool_result", "error", "result", "step_start", "text", "step_finish", "complete", "notification", "span", "metric"]),
  fc.record({ action: fc.constantFrom("run", "edit", "write", "message", "finish", "think"), args: value, id: fc.nat(5), source: fc.constant("agent") }),
  fc.record({ observation: fc.constantFrom("run", "edit", "error"), cause: fc.nat(5), content: value, extras: value }),
  value,
);

describe("fuzzing every parser (fast-check)", () => {
  it.each(FORMATS.map((f) => f.format))("%s: never throws, stays fast per input, renders within GitHub's limits", (format) => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), (records) => {
        const text = records.map((r) => JSON.stringify(r) ?? "null").join("\n");
        const started = performance.now();
        const { trace } = readTranscript(text, { format });
        const rendered = renderRationaleMarkdown(trace, { crossCheck: crossCheck(trace, [{ filename: "a.ts" }]) });
        buildAnnotations(trace, ["a.ts"]);
        expect(performance.now() - started).toBeLessThan(2_000);
        expect(rendered.summary.length).toBeLessThanOrEqual(65_535);
      }),
      { numRuns: 150, seed: 17 },
    );
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("detection never throws anything but a TelemetryError", () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 10 }), fc.boolean(), (records, asArray) => {
        const text = asArray ? JSON.stringify(records) : records.map((r) => JSON.stringify(r) ?? "null").join("\n");
        try {
          readTranscript(text);
        } catch (e) {
          expect((e as Error).name).toBe("TelemetryError");
        }
      }),
      { numRuns: 300, seed: 17 },
    );
  });

  it("real fixtures survive arbitrary truncation", () => {
    const text = fixture("openhands-trajectory.json");
    fc.assert(
      fc.property(fc.nat(text.length), (cut) => {
        try {
          readTranscript(text.slice(0, cut));
        } catch (e) {
          expect((e as Error).name).toBe("TelemetryError");
        }
      }),
      { numRuns: 100, seed: 17 },
    );
  });
});
