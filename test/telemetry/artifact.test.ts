import { strToU8, Zip, ZipDeflate, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { parseTelemetryArtifact, readArtifactZip } from "../../src/telemetry/index.js";
import { fixture } from "./helpers.js";

const bundleFiles = (prefix = "") =>
  Object.fromEntries(["manifest.json", "events.jsonl", "network.jsonl"].map((f) => [`${prefix}${f}`, strToU8(fixture(`native-bundle/${f}`))]));

describe("artifact zip", () => {
  it("parses a native bundle and its manifest", () => {
    const a = parseTelemetryArtifact(zipSync(bundleFiles()));
    expect(a.format).toBe("native");
    expect(a.manifest?.pullRequest?.number).toBe(42);
    expect(a.trace.stats.byKind.network).toBe(4);
  });

  it("reads the transcript the manifest names from the bundle folder, ignoring paths that escape it", () => {
    const m = JSON.parse(fixture("native-bundle/manifest.json")) as Record<string, unknown>;
    const files = { ...bundleFiles("b/"), "b/manifest.json": strToU8(JSON.stringify({ ...m, transcript: { path: "codex.jsonl", format: "codex" } })), "b/codex.jsonl": strToU8(fixture("codex.jsonl")) };
    expect(parseTelemetryArtifact(zipSync(files)).trace.stats.byKind.web_search).toBe(2);
    const escaping = { ...files, "b/manifest.json": strToU8(JSON.stringify({ ...m, transcript: { path: "../codex.jsonl", format: "codex" } })), "codex.jsonl": strToU8(fixture("codex.jsonl")) };
    expect(parseTelemetryArtifact(zipSync(escaping)).trace.stats.byKind.web_search).toBe(1);
  });

  it("parses a bare transcript", () => {
    const a = parseTelemetryArtifact(zipSync({ "run/codex.jsonl": strToU8(fixture("codex.jsonl")), "README.txt": strToU8("hi") }));
    expect(a).toMatchObject({ manifest: null, format: "codex" });
  });

  it("refuses a zip bomb, too many entries, garbage and an artifact with nothing recognisable", () => {
    const bomb = zipSync({ "a.jsonl": new Uint8Array(5_000_000) });
    expect(() => parseTelemetryArtifact(bomb, { maxEntries: 10, maxTotalBytes: 1_000_000 })).toThrow(expect.objectContaining({ code: "too_large" }));
    const many = zipSync(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, strToU8("x")])));
    expect(() => readArtifactZip(many, { maxEntries: 10, maxTotalBytes: 1_000_000 })).toThrow(expect.objectContaining({ code: "too_large" }));
    expect(() => parseTelemetryArtifact(strToU8("not a zip"))).toThrow(expect.objectContaining({ code: "invalid_artifact" }));
    expect(() => parseTelemetryArtifact(zipSync({ "x.txt": strToU8("hello") }))).toThrow(expect.objectContaining({ code: "unknown_format" }));
  });

  it("reads a zip written as a stream (data descriptors, sizes unknown up front, as actions/upload-artifact writes them)", () => {
    const parts: Uint8Array[] = [];
    const zip = new Zip((err, chunk) => {
      if (err) throw err;
      parts.push(chunk);
    });
    for (const [name, text] of [["agent-gate-telemetry/notes.txt", "hi"], ["agent-gate-telemetry/run.json", fixture("claude-code-action-execution.json")]] as const) {
      const entry = new ZipDeflate(name, { level: 6 });
      zip.add(entry);
      const bytes = strToU8(text);
      for (let i = 0; i < bytes.length; i += 1000) entry.push(bytes.subarray(i, i + 1000), i + 1000 >= bytes.length);
    }
    zip.end();
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) bytes.set(p, (at += p.length) - p.length);
    const a = parseTelemetryArtifact(bytes);
    expect(a.format).toBe("claude-code");
    expect(a.trace.run.finalMessage).toMatch(/^Successfully removed/);
  });

  it("counts inflated bytes across entries and stops at the limit, whatever each entry declares", () => {
    const two = zipSync({ "a.txt": new Uint8Array(600_000), "b.jsonl": strToU8(fixture("codex.jsonl").repeat(200)) });
    expect(() => parseTelemetryArtifact(two, { maxEntries: 10, maxTotalBytes: 500_000 })).toThrow(expect.objectContaining({ code: "too_large" }));
    expect(parseTelemetryArtifact(two, { maxEntries: 10, maxTotalBytes: 2_000_000 }).format).toBe("codex");
  });

  it("a line longer than the limit inside a bundle is reported, not held", () => {
    const m = JSON.parse(fixture("native-bundle/manifest.json")) as Record<string, unknown>;
    const files = { "manifest.json": strToU8(JSON.stringify(m)), "events.jsonl": strToU8(`${"x".repeat(16 * 1024 * 1024 + 10)}\n${fixture("native-bundle/events.jsonl")}`), "network.jsonl": strToU8("") };
    const t = parseTelemetryArtifact(zipSync(files)).trace;
    expect(t.stats.malformed[0]).toMatchObject({ line: 1, message: expect.stringMatching(/line too long/), source: "events" });
    expect(t.stats.byKind.decision).toBe(1);
  });

  it("drops entries that escape the artifact root", () => {
    const files = readArtifactZip(zipSync({ "../evil.jsonl": strToU8("x"), "ok.jsonl": strToU8("y") }));
    expect([...files.keys()]).toEqual(["ok.jsonl"]);
  });
});
