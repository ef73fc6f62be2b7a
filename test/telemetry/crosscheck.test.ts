import { describe, expect, it } from "vitest";
import { batchAnnotations, buildAnnotations, crossCheck, parseFileRef, parseNativeBundle, parseTranscript } from "../../src/telemetry/index.js";
import type { Trace } from "../../src/telemetry/index.js";
import { fixture, nativeBundle } from "./helpers.js";

function traceOf(paths: Array<{ path: string; change?: "add" | "update" | "delete" | "rename"; previousPath?: string }>): Trace {
  const t = parseTranscript('{"type":"thread.started","thread_id":"t"}', "codex");
  return { ...t, files: { paths: paths.map((p) => ({ change: "update", ...p })), truncated: false } };
}

describe("crossCheck", () => {
  it("invariant 7 (unreported files flagged): finds files changed in the PR but never reported, and reported files not in the PR", () => {
    const t = traceOf([{ path: "src/a.ts" }, { path: "src/ghost.ts" }]);
    expect(crossCheck(t, [{ filename: "src/a.ts" }, { filename: ".github/workflows/ci.yml" }, { filename: "package.json" }])).toEqual({
      unreported: [".github/workflows/ci.yml", "package.json"],
      notInPullRequest: ["src/ghost.ts"],
      incomplete: false,
    });
  });

  it("no discrepancies when both sides agree", () => {
    const { trace } = parseNativeBundle(nativeBundle());
    expect(crossCheck(trace, [{ filename: "src/api/client.ts" }, { filename: "src/api/rateLimit.ts" }])).toEqual({ unreported: [], notInPullRequest: [], incomplete: false });
  });

  it("invariant 7 (unreported files flagged): a rename reported with both paths matches; a rename the agent only reported under its old path is flagged under the new one", () => {
    const pr = [{ filename: "src/new.ts", previous_filename: "src/old.ts" }];
    expect(crossCheck(traceOf([{ path: "src/new.ts", change: "rename", previousPath: "src/old.ts" }]), pr)).toEqual({ unreported: [], notInPullRequest: [], incomplete: false });
    // Reported as delete old + add new (Codex apply_patch style): matches too.
    expect(crossCheck(traceOf([{ path: "src/old.ts", change: "delete" }, { path: "src/new.ts", change: "add" }]), pr).unreported).toEqual([]);
    // Only the old path reported: the new path is unreported; the old path is in the PR (as the rename's source).
    expect(crossCheck(traceOf([{ path: "src/old.ts" }]), pr)).toEqual({ unreported: ["src/new.ts"], notInPullRequest: [], incomplete: false });
    // The agent reported a rename the PR does not contain.
    expect(crossCheck(traceOf([{ path: "lib/b.ts", change: "rename", previousPath: "lib/a.ts" }]), pr)).toEqual({ unreported: ["src/new.ts"], notInPullRequest: ["lib/b.ts"], incomplete: false });
  });

  it("matches absolute paths from transcripts by their repository-relative suffix", () => {
    const t = traceOf([{ path: "/tmp/checkout/widgets/src/a.ts" }, { path: "/home/runner/work/widgets/widgets/src/b.ts" }]);
    expect(crossCheck(t, [{ filename: "src/a.ts" }, { filename: "src/b.ts" }])).toEqual({ unreported: [], notInPullRequest: [], incomplete: false });
  });

  it("says when the reported file list was truncated", () => {
    const t = { ...traceOf([]), files: { paths: [], truncated: true } };
    expect(crossCheck(t, [{ filename: "x" }]).incomplete).toBe(true);
  });

  it("works on the Claude Code fixture, whose paths are absolute under the session cwd", () => {
    const t = parseTranscript(fixture("claude-code.jsonl"));
    expect(crossCheck(t, [{ filename: "src/api/client.ts" }, { filename: "src/api/rateLimit.ts" }, { filename: "test/api/rateLimit.test.ts" }])).toEqual({
      unreported: ["test/api/rateLimit.test.ts"],
      notInPullRequest: [],
      incomplete: false,
    });
  });
});

describe("annotations", () => {
  it("parses file references with lines", () => {
    expect(parseFileRef("src/a.ts:12")).toEqual({ path: "src/a.ts", start: 12, end: 12 });
    expect(parseFileRef("src/a.ts:12-20")).toEqual({ path: "src/a.ts", start: 12, end: 20 });
    expect(parseFileRef("src/a.ts#L3-L5")).toEqual({ path: "src/a.ts", start: 3, end: 5 });
    expect(parseFileRef("src/a.ts")).toEqual({ path: "src/a.ts" });
    expect(parseFileRef("src/a.ts:0")).toEqual({ path: "src/a.ts" });
  });

  it("annotates decisions and changes that name a line, and warns on unreported files", () => {
    const { trace } = parseNativeBundle(nativeBundle());
    const a = buildAnnotations(trace, ["src/api/client.ts", "src/api/rateLimit.ts", "package.json"]);
    expect(a).toEqual([
      expect.objectContaining({ path: "src/api/client.ts", start_line: 12, end_line: 14, annotation_level: "notice", title: "Agent decision: Use a token bucket in the client" }),
      expect.objectContaining({ path: "src/api/client.ts", start_line: 12, end_line: 12, annotation_level: "notice", title: "Changed by the agent" }),
      expect.objectContaining({ path: "package.json", start_line: 1, annotation_level: "warning", title: "Not reported by the agent" }),
    ]);
    expect(a[0]!.message).toContain("Why: The API allows 10 requests a second.");
    expect(a[0]!.message).toContain("Alternatives considered: p-limit dependency; Server-side throttling");
  });

  it("skips paths outside the pull request when the PR's files are given, and never exceeds the cap", () => {
    const t = parseTranscript(
      Array.from({ length: 700 }, (_, i) =>
        JSON.stringify({ type: "item.completed", item: { id: String(i), type: "mcp_tool_call", server: "agent-gate", tool: "record_decision", arguments: { decision: `d${i} @octocat`, rationale: "r", files: [`src/x.ts:${i + 1}`, `elsewhere.ts:${i + 1}`] }, status: "completed" } }),
      ).join("\n"),
      "codex",
    );
    const a = buildAnnotations(t, ["src/x.ts"]);
    expect(a.every((x) => x.path === "src/x.ts")).toBe(true);
    expect(a).toHaveLength(500);
    expect(a[0]!.title).not.toMatch(/@[a-z]/);
    expect(batchAnnotations(a).map((b) => b.length)).toEqual(Array(10).fill(50));
  });

  it("annotates with the trace's paths when no PR files are given (and claude absolute paths are made relative)", () => {
    const t = parseTranscript(fixture("claude-code.jsonl"));
    expect(buildAnnotations(t).map((x) => [x.path, x.start_line, x.end_line])).toEqual([["src/api/client.ts", 12, 14]]);
  });
});
