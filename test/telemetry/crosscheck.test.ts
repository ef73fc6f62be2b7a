import { describe, expect, it } from "vitest";
import { batchAnnotations, buildAnnotations, crossCheck, parseFileRef, parseNativeBundle, parseTranscript } from "../../src/telemetry/index.js";
import type { Trace } from "../../src/telemetry/index.js";
import { fixture, nativeBundle } from "./helpers.js";

function traceOf(paths: Array<{ path: string; change?: "add" | "update" | "delete" | "rename"; previousPath?: string }>): Trace {
  const t = parseTranscript('{"type":"thread.started","thread_id":"t"}', "codex");
  return { ...t, files: { paths: paths.map((p) => ({ change: "update", ...p })), truncated: false } };
}

describe("likely sources of unreported changes", () => {
  const withCommands = (commands: Array<{ command: string; by?: "action" }>, files: Array<{ path: string }> = []) => {
    const t = traceOf(files);
    t.steps.push(...commands.map((c, i) => ({ kind: "command" as const, command: c.command, exitCode: 0, durationMs: null, outputExcerpt: "", status: "completed" as const, sourceLine: i + 1, ...(c.by ? { by: c.by } : {}) })));
    return t;
  };

  it("names the command that names the file (sed -i), by path or by file name", () => {
    const t = withCommands([{ command: "ls -la" }, { command: "sed -i 's/hello/bye/' README.md" }, { command: "perl -pi -e s/a/b/ /home/runner/work/demo/demo/src/deep/x.ts" }]);
    expect(crossCheck(t, [{ filename: "README.md" }, { filename: "src/deep/x.ts" }, { filename: "docs/other.md" }]).likelySources).toEqual([
      { path: "README.md", commands: ["sed -i 's/hello/bye/' README.md"], namesFile: true },
      { path: "src/deep/x.ts", commands: ["perl -pi -e s/a/b/ /home/runner/work/demo/demo/src/deep/x.ts"], namesFile: true },
    ]);
  });

  it("falls back to commands that apply a patch or run a script, and never blames the action's own git commands", () => {
    const t = withCommands([{ command: "git apply /tmp/fix.patch" }, { command: "python3 scripts/gen.py" }, { command: "git add -A -- docs/gen.md", by: "action" }]);
    expect(crossCheck(t, [{ filename: "docs/gen.md" }]).likelySources).toEqual([{ path: "docs/gen.md", commands: ["git apply /tmp/fix.patch", "python3 scripts/gen.py"], namesFile: false }]);
  });

  it("stays linear: 3,000 unreported files against 1,000 long commands", () => {
    const t = withCommands(Array.from({ length: 1000 }, (_, i) => ({ command: `${"echo x ".repeat(250)} > out/f${i}.txt` })));
    const files = Array.from({ length: 3000 }, (_, i) => ({ filename: `out/f${i}.txt` }));
    const started = performance.now();
    const cc = crossCheck(t, files);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(cc.likelySources.filter((s) => s.namesFile)).toHaveLength(1000);
  });
});

describe("crossCheck", () => {
  it("invariant 7 (unreported files flagged): finds files changed in the PR but never reported, and reported files not in the PR", () => {
    const t = traceOf([{ path: "src/a.ts" }, { path: "src/ghost.ts" }]);
    expect(crossCheck(t, [{ filename: "src/a.ts" }, { filename: ".github/workflows/ci.yml" }, { filename: "package.json" }])).toEqual({
      unreported: [".github/workflows/ci.yml", "package.json"],
      notInPullRequest: ["src/ghost.ts"],
      incomplete: false,
      likelySources: [],
    });
  });

  it("no discrepancies when both sides agree", () => {
    const { trace } = parseNativeBundle(nativeBundle());
    expect(crossCheck(trace, [{ filename: "src/api/client.ts" }, { filename: "src/api/rateLimit.ts" }])).toEqual({ unreported: [], notInPullRequest: [], incomplete: false, likelySources: [] });
  });

  it("invariant 7 (unreported files flagged): a rename reported with both paths matches; a rename the agent only reported under its old path is flagged under the new one", () => {
    const pr = [{ filename: "src/new.ts", previous_filename: "src/old.ts" }];
    expect(crossCheck(traceOf([{ path: "src/new.ts", change: "rename", previousPath: "src/old.ts" }]), pr)).toEqual({ unreported: [], notInPullRequest: [], incomplete: false, likelySources: [] });
    // Reported as delete old + add new (Codex apply_patch style): matches too.
    expect(crossCheck(traceOf([{ path: "src/old.ts", change: "delete" }, { path: "src/new.ts", change: "add" }]), pr).unreported).toEqual([]);
    // Only the old path reported: the new path is unreported; the old path is in the PR (as the rename's source).
    expect(crossCheck(traceOf([{ path: "src/old.ts" }]), pr)).toEqual({ unreported: ["src/new.ts"], notInPullRequest: [], incomplete: false, likelySources: [] });
    // The agent reported a rename the PR does not contain.
    expect(crossCheck(traceOf([{ path: "lib/b.ts", change: "rename", previousPath: "lib/a.ts" }]), pr)).toEqual({ unreported: ["src/new.ts"], notInPullRequest: ["lib/b.ts"], incomplete: false, likelySources: [] });
  });

  it("matches absolute paths from transcripts by their repository-relative suffix", () => {
    const t = traceOf([{ path: "/tmp/checkout/widgets/src/a.ts" }, { path: "/home/runner/work/widgets/widgets/src/b.ts" }]);
    expect(crossCheck(t, [{ filename: "src/a.ts" }, { filename: "src/b.ts" }])).toEqual({ unreported: [], notInPullRequest: [], incomplete: false, likelySources: [] });
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
      // The transcript's `npm test` names no file; it is the only command that could have written one.
      likelySources: [{ path: "test/api/rateLimit.test.ts", commands: ["npm test"], namesFile: false }],
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
