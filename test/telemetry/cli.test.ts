import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { strToU8, zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { registerTelemetryCommands } from "../../src/cli/commands/telemetry.js";
import { FIXTURES, fixture } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "agent-gate-telemetry-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command("agent-gate").exitOverride();
  let out = "";
  let err = "";
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerTelemetryCommands(program);
  try {
    await program.parseAsync(args, { from: "user" });
    return { out, err, code: 0 };
  } catch (e) {
    return { out, err, code: (e as { exitCode?: number }).exitCode ?? 1 };
  }
}

function bundleZip(prefix = ""): string {
  const files: Record<string, Uint8Array> = {};
  for (const f of ["manifest.json", "events.jsonl", "network.jsonl"]) files[`${prefix}${f}`] = strToU8(fixture(`native-bundle/${f}`));
  const path = join(tmp, `bundle-${prefix.replace(/\W/g, "") || "root"}.zip`);
  writeFileSync(path, zipSync(files));
  return path;
}

describe("agent-gate telemetry render", () => {
  it.each([
    ["codex.jsonl", "# codex: 1 decision, 3 commands \\(1 failed\\)"],
    ["codex-legacy.jsonl", "# codex: 0 decisions, 1 command"],
    ["claude-code.jsonl", "# claude-code: 1 decision, 2 commands \\(1 failed\\)"],
    ["otel-export.json", "# widget-bot: 1 decision, 1 command \\(1 failed\\)"],
    ["otel-spans.jsonl", "# reviewer: 0 decisions, 1 command"],
    ["native-bundle", "# codex: 1 decision, 3 commands \\(1 failed\\), 2 blocked connections"],
    ["native-bundle/manifest.json", "# codex: 1 decision, 3 commands \\(1 failed\\), 2 blocked connections"],
    ["claude-code-action-execution.json", "# claude-code: 0 decisions, 0 commands"],
    ["claude-print.json", "# claude-code: 0 decisions, 0 commands"],
    ["claude-stream-json.jsonl", "# claude-code: 0 decisions, 1 command"],
    ["copilot-otel.jsonl", "# github-copilot: 0 decisions, 0 commands"],
    ["codex-rollout.jsonl", "# codex: 0 decisions, 0 commands"],
    ["cursor-stream.jsonl", "# cursor-agent: 0 decisions, 0 commands"],
    ["gemini-stream.jsonl", "# gemini-cli: 0 decisions, 1 command"],
    ["gemini.json", "# gemini-cli: 0 decisions, 0 commands"],
    ["opencode.jsonl", "# opencode: 0 decisions, 0 commands"],
    ["goose-stream.jsonl", "# goose: 0 decisions, 1 command"],
    ["openhands-trajectory.json", "# openhands: 0 decisions, 0 commands"],
  ])("renders %s as markdown", async (file, heading) => {
    const r = await run("telemetry", "render", join(FIXTURES, file));
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe(heading);
    expect(r.out).toContain("### Agent run");
    expect(r.out).toContain("## Decisions");
    expect(r.out).not.toMatch(/malformed line(?!s\b)|could not be read/);
  });

  it.each([
    ["claude-code-action-execution.json", "Successfully removed debug print statement"],
    ["claude-print.json", "I fixed the off-by-one error"],
    ["claude-stream-json.jsonl", "Here are the files in the current directory."],
    ["gemini.json", "The capital of France is Paris."],
    ["opencode.jsonl", "alpha"],
    ["openhands-trajectory.json", "I've created a simple implementation"],
  ])("shows %s's final message", async (file, text) => {
    const r = await run("telemetry", "render", join(FIXTURES, file));
    expect(r.out).toContain("## The agent's final message");
    expect(r.out.slice(r.out.indexOf("## The agent's final message"))).toContain(text);
  });

  it("renders a bundle .zip (files at the root or in a folder)", async () => {
    for (const zip of [bundleZip(), bundleZip("agent-gate-telemetry/")]) {
      const r = await run("telemetry", "render", zip);
      expect(r.code).toBe(0);
      expect(r.out).toContain("| Triggered by | octocat |");
      expect(r.out).toContain("**BLOCKED**");
    }
  });

  it("renders a zip holding only a transcript (an agent not using the action)", async () => {
    const path = join(tmp, "transcript.zip");
    writeFileSync(path, zipSync({ "logs/claude.jsonl": strToU8(fixture("claude-code.jsonl")) }));
    const r = await run("telemetry", "render", path);
    expect(r.code).toBe(0);
    expect(r.out).toContain("| Model | claude-sonnet-4-5-20250929 |");
  });

  it("--format json prints the redacted trace (and the manifest for a bundle)", async () => {
    const r = await run("telemetry", "render", join(FIXTURES, "native-bundle"), "--format", "json");
    const parsed = JSON.parse(r.out) as { format: string; manifest: { runId: number }; trace: { stats: { events: number } } };
    expect(parsed.format).toBe("native");
    expect(parsed.manifest.runId).toBe(9876543210);
    expect(parsed.trace.stats.events).toBe(16);
  });

  it("--changed-files cross-checks against git diff --name-status output", async () => {
    const changed = join(tmp, "changed.txt");
    writeFileSync(changed, "M\tsrc/api/client.ts\nA\tsrc/api/rateLimit.ts\nR100\told.ts\tnew.ts\n");
    const r = await run("telemetry", "render", join(FIXTURES, "native-bundle"), "--changed-files", changed);
    expect(r.out).toContain("never reported by the agent");
    expect(r.out).toContain("- `new.ts`");
  });

  it("--input-format forces a parser", async () => {
    const r = await run("telemetry", "render", join(FIXTURES, "codex.jsonl"), "--input-format", "claude-code", "--format", "json");
    const parsed = JSON.parse(r.out) as { format: string; trace: { stats: { malformedTotal: number; other: number } } };
    expect(parsed.format).toBe("claude-code");
  });

  it("fails with exit code 2 and a clear message on unreadable or unrecognisable input", async () => {
    const junk = join(tmp, "junk.txt");
    writeFileSync(junk, "hello\nworld\n");
    const r1 = await run("telemetry", "render", junk);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/could not recognise the telemetry format of junk.txt \(tried .*\); the first line was: hello/);
    const r2 = await run("telemetry", "render", join(tmp, "missing.jsonl"));
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/cannot read/);
    const badManifest = join(tmp, "bad-bundle");
    rmSync(badManifest, { recursive: true, force: true });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(badManifest);
    writeFileSync(join(badManifest, "manifest.json"), JSON.stringify({ version: 1 }));
    const r3 = await run("telemetry", "render", badManifest);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/manifest.json does not match the bundle schema/);
  });

  it("streams a large JSONL file line by line", async () => {
    const big = join(tmp, "big.jsonl");
    const line = readFileSync(join(FIXTURES, "codex.jsonl"), "utf8");
    writeFileSync(big, line.repeat(2000));
    const r = await run("telemetry", "render", big, "--format", "json");
    const parsed = JSON.parse(r.out) as { trace: { stats: { events: number; byKind: Record<string, number> } } };
    expect(parsed.trace.stats.events).toBe(40_000);
    expect(parsed.trace.stats.byKind.decision).toBe(2000);
  });
});
