import { describe, expect, it } from "vitest";
import { createParser, parseNativeBundle, parseTranscript, renderRationaleMarkdown, TELEMETRY_FORMATS, buildAnnotations, crossCheck } from "../../src/telemetry/index.js";
import { nativeBundle } from "./helpers.js";

// A small deterministic PRNG so failures reproduce.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function hostileLines(seed: number): string[] {
  const r = rng(seed);
  const lines: string[] = [];
  const pick = <T,>(a: T[]) => a[Math.floor(r() * a.length)]!;
  const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
  for (let i = 0; i < 200; i++) {
    const k = Math.floor(r() * 12);
    if (k === 0) lines.push(Array.from({ length: 50 }, () => String.fromCharCode(Math.floor(r() * 65536))).join(""));
    else if (k === 1) lines.push(deep(20_000, "[", "]"));
    else if (k === 2) lines.push(`{"type":"item.completed","item":${deep(5000, '{"a":', "}").replace(/}$/, "1}")}}`);
    else if (k === 3) lines.push(JSON.stringify({ type: pick(["assistant", "user", "item.completed", "message"]), message: { content: [{ type: "tool_use", id: "x", name: "Bash", input: { command: "y".repeat(200_000) } }] }, item: { type: "agent_message", text: "z".repeat(300_000) } }));
    else if (k === 4) lines.push('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"type":"__proto__","item":{"__proto__":{"type":"agent_message"}}}');
    else if (k === 5) lines.push(JSON.stringify({ type: "item.completed", item: { id: "__proto__", type: "command_execution", command: 5, exit_code: "x", aggregated_output: { a: 1 } } }));
    else if (k === 6) lines.push(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: "execute_tool __proto__", attributes: [{ key: "__proto__", value: { stringValue: "x" } }, { key: "gen_ai.tool.name", value: { kvlistValue: { values: [{ key: "__proto__", value: { intValue: "1" } }] } } }], startTimeUnixNano: "99999999999999999999999" }] }] }] }));
    else if (k === 7) lines.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "nope", content: [null, 1, { text: 5 }] }] } }));
    else if (k === 8) lines.push(JSON.stringify({ time: "not a time", type: "decision", decision: 1 }));
    else if (k === 9) lines.push(JSON.stringify({ type: "assistant", message: { content: "str" } }) + "\u0000");
    else if (k === 10) lines.push(JSON.stringify([1, 2, 3]));
    else lines.push(JSON.stringify({ name: "x".repeat(100), context: 5, attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": { toString: 1 }, "gen_ai.tool.call.arguments": deep(3000, "[", "]") } }));
  }
  return lines;
}

describe("hostile input", () => {
  it.each([1, 2, 3])("no parser crashes or pollutes prototypes on fuzzed lines (seed %i)", (seed) => {
    const lines = hostileLines(seed);
    for (const format of TELEMETRY_FORMATS) {
      const p = createParser(format);
      lines.forEach((l, i) => p.push(l, i + 1));
      const t = p.finish();
      expect(t.stats.events + 0).toBeGreaterThan(0);
      const r = renderRationaleMarkdown(t, { crossCheck: crossCheck(t, [{ filename: "a" }]) });
      expect(r.summary.length).toBeLessThanOrEqual(65_535);
      buildAnnotations(t, ["a"]);
      expect(JSON.stringify(t).length).toBeGreaterThan(0);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("random bytes through parseTranscript either parse or throw a TelemetryError, never anything else", () => {
    const r = rng(42);
    for (let i = 0; i < 50; i++) {
      const text = Array.from({ length: 2000 }, () => String.fromCharCode(Math.floor(r() * 256))).join("");
      try {
        parseTranscript(text);
      } catch (e) {
        expect((e as Error).name).toBe("TelemetryError");
      }
      const t = parseTranscript(text, "codex");
      expect(t.stats.malformedTotal).toBeGreaterThanOrEqual(0);
    }
  });

  it("reports every malformed line by number", () => {
    const t = parseTranscript(["{", '{"type":"thread.started"}', "[[[", "\u0000\u0001", "{}"].join("\n"), "codex");
    expect(t.stats.malformed.map((m) => m.line)).toEqual([1, 3, 4, 5]);
  });

  it("an unknown-key-laden manifest is refused, not trusted", () => {
    expect(() => parseNativeBundle({ ...nativeBundle(), manifest: '{"__proto__":{"version":1},"version":1}' })).toThrow(expect.objectContaining({ code: "invalid_manifest" }));
  });

  it("a line over the length limit is reported without being parsed", () => {
    const p = createParser("codex");
    p.push(" ".repeat(16 * 1024 * 1024 + 1), 7);
    expect(p.finish().stats.malformed[0]).toMatchObject({ line: 7, message: expect.stringMatching(/too long/) });
  });
});
