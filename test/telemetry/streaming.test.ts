import { describe, expect, it } from "vitest";
import { CAPS, createParser } from "../../src/telemetry/index.js";
import type { Step } from "../../src/telemetry/index.js";

const of = <K extends Step["kind"]>(steps: Step[], k: K) => steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === k);

/** The most steps a trace can hold whatever the input: the per-kind caps plus the extra failed-command and network buckets. */
const MAX_STORED = Object.values(CAPS.steps).reduce((a, b) => a + b, 0) + CAPS.failedCommand + CAPS.blockedNetwork + CAPS.allowedNetwork;

describe("streaming builder memory", () => {
  it("keeps stored steps within the caps while counting every event (Codex, 18k lines)", () => {
    const p = createParser("codex");
    const big = "o".repeat(CAPS.rationaleChars + 1000);
    let n = 0;
    let maxHeld = 0;
    for (let i = 0; i < 3000; i++) {
      p.push(JSON.stringify({ type: "item.completed", item: { id: `c${i}`, type: "command_execution", command: `step ${i}`, aggregated_output: big, exit_code: i % 10 === 0 ? 1 : 0, status: i % 10 === 0 ? "failed" : "completed" } }), ++n);
      p.push(JSON.stringify({ type: "item.completed", item: { id: `m${i}`, type: "agent_message", text: big } }), ++n);
      p.push(JSON.stringify({ type: "item.completed", item: { id: `f${i}`, type: "file_change", changes: [{ path: `src/f${i}.ts`, kind: "update" }], status: "completed" } }), ++n);
      p.push(JSON.stringify({ type: "item.completed", item: { id: `d${i}`, type: "mcp_tool_call", server: "agent-gate", tool: "record_decision", arguments: { decision: `d${i}`, rationale: big }, status: "completed" } }), ++n);
      p.push(JSON.stringify({ type: "item.started", item: { id: `open${i}`, type: "command_execution", command: "x", aggregated_output: "", status: "in_progress" } }), ++n);
      p.push(JSON.stringify({ type: `future.event.${i % 500}` }), ++n);
      maxHeld = Math.max(maxHeld, p.storedSteps);
    }
    const t = p.finish();
    expect(maxHeld).toBeLessThanOrEqual(MAX_STORED);
    expect(t.stats.events).toBe(18_000);
    expect(t.stats.byKind.command).toBe(6000); // 3000 completed + 3000 never completed
    expect(t.stats.byKind.message).toBe(3000);
    expect(t.stats.byKind.decision).toBe(3000);
    expect(of(t.steps, "message")).toHaveLength(CAPS.steps.message);
    expect(of(t.steps, "decision")).toHaveLength(CAPS.steps.decision);
    expect(of(t.steps, "file_change")).toHaveLength(CAPS.steps.file_change);
    // failed commands are kept beyond the per-kind cap, up to their own cap
    const cmds = of(t.steps, "command");
    expect(cmds.length).toBeLessThanOrEqual(CAPS.steps.command + CAPS.failedCommand);
    expect(cmds.filter((c) => c.status === "failed").length).toBe(300); // all 300 failures kept, though only 50 fall within the first 500
    expect(t.stats.dropped.message).toBe(3000 - CAPS.steps.message);
    // strings are truncated
    expect(Math.max(...of(t.steps, "message").map((m) => m.text.length))).toBeLessThanOrEqual(CAPS.textChars);
    expect(Math.max(...cmds.map((c) => c.outputExcerpt.length))).toBeLessThanOrEqual(CAPS.outputChars + 100);
    expect(Math.max(...of(t.steps, "decision").map((d) => d.rationale.length))).toBeLessThanOrEqual(CAPS.rationaleChars);
    // every distinct reported file is kept for the cross-check (up to CAPS.files)
    expect(t.files.paths).toHaveLength(3000);
    expect(t.files.truncated).toBe(false);
    // unknown types: counted by name, the name table bounded
    expect(t.stats.other).toBe(3000);
    expect(Object.keys(t.stats.otherTypes).length).toBeLessThanOrEqual(CAPS.otherTypes + 1);
  });

  it("keeps blocked network attempts before allowed ones fill the trace, and bounds malformed-line reports", () => {
    const p = createParser("native");
    let n = 0;
    for (let i = 0; i < 5000; i++) {
      p.push(JSON.stringify({ time: "2025-01-01T00:00:00Z", host: `h${i}`, port: 443, method: "CONNECT", allowed: i % 5 !== 0, reason: "r" }), ++n);
      p.push("garbage", ++n);
    }
    const t = p.finish();
    const net = of(t.steps, "network");
    expect(net.filter((x) => !x.allowed)).toHaveLength(1000); // all 1000 blocked kept
    expect(net.filter((x) => x.allowed)).toHaveLength(CAPS.allowedNetwork);
    expect(t.stats.byKind.network).toBe(5000);
    expect(t.stats.malformed).toHaveLength(CAPS.malformed);
    expect(t.stats.malformedTotal).toBe(5000);
  });

  it("bounds calls waiting for a result (Claude tool_use without tool_result)", () => {
    const p = createParser("claude-code");
    for (let i = 0; i < 5000; i++) p.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: `t${i}`, name: "Bash", input: { command: `c${i}` } }] } }), i + 1);
    const t = p.finish();
    expect(t.stats.byKind.command).toBe(5000);
    expect(p.storedSteps).toBeLessThanOrEqual(MAX_STORED);
  });

  it("caps distinct files and says the list is truncated", () => {
    const p = createParser("codex");
    for (let i = 0; i < CAPS.files + 10; i++) p.push(JSON.stringify({ type: "item.completed", item: { id: String(i), type: "file_change", changes: [{ path: `f${i}`, kind: "add" }], status: "completed" } }), i + 1);
    const t = p.finish();
    expect(t.files.paths).toHaveLength(CAPS.files);
    expect(t.files.truncated).toBe(true);
  });
});
