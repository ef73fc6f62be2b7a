/**
 * Real CODEOWNERS files and file lists from public repositories (test/fixtures/codeowners/real, a copy of the
 * team's shared/data/codeowners so the test runs wherever the repository is cloned; see its README):
 * every path is matched by our indexed matcher and by an independent reference — a plain last-match-wins loop
 * over one `ignore` (gitignore) matcher per line, with GitHub's documented deviations applied — and the two must
 * agree on every file.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCodeowners } from "../../src/policy/codeowners.js";
import { referenceOwners, referenceRules } from "../fixtures/codeowners/reference.js";

const DATA = process.env.CODEOWNERS_DATA ?? join(import.meta.dirname, "../fixtures/codeowners/real");
const repos = existsSync(DATA)
  ? readdirSync(DATA, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(DATA, d.name, "CODEOWNERS")))
      .map((d) => d.name)
      .sort()
  : [];

/** Hand-checked against the CODEOWNERS text: [file, owners (null = no line matches), winning line]. */
const HAND_CHECKED: Record<string, Array<[string, string[] | null, number | null]>> = {
  "DataDog__dd-trace-py": [
    ["ddtrace/contrib/internal/flask/patch.py", ["@DataDog/apm-core-python", "@DataDog/apm-idm-python"], 13],
    ["ddtrace/internal/remoteconfig/_subscribers.py", ["@DataDog/remote-config", "@DataDog/apm-core-python"], 311],
    ["tests/contrib/botocore/test_dsm.py", ["@DataDog/data-streams-monitoring"], 389],
    ["tests/appsec/iast/iast_utils.py", ["@DataDog/asm-python"], 393],
  ],
  "eclipse-omr__omr": [
    ["gc/CMakeLists.txt", ["@charliegracie", "@youngar"], 36], // /gc/ comes after **/CMakeLists.txt
    ["compiler/control/OMROptions.cpp", ["@dsouzai"], 41],
  ],
  "esphome__esphome": [
    ["esphome/components/adc/sensor.py", ["@esphome/core"], 18],
    ["esphome/components/xpt2046/touchscreen/xpt2046.cpp", ["@nielsnl68", "@numo68"], 489],
    // `esphome/components/adc128s102/*` does not reach the nested sensor/ directory (GitHub's docs/* rule),
    // which is why the file lists such subdirectories on lines of their own.
    ["esphome/components/adc128s102/sensor/adc128s102_sensor.cpp", null, null],
  ],
  grafana__k6: [
    ["release notes/v1.0.0.md", [], 8], // `/release\ notes/` with no owners clears ownership
    ["docs/features/README.md", ["@grafana/k6-core", "@andrewslotin"], 11],
    ["go.mod", ["@grafana/k6-core"], 2],
  ],
  grafana__loki: [
    ["docs/sources/_index.md", ["@grafana/docs-logs", "@grafana/loki-team"], 5],
    [".github/workflows/operator-bundle.yaml", ["@grafana/loki-team", "@periklis", "@xperimental", "@JoaoBraveCoding"], 9],
    ["pkg/logql/syntax/syntax.y", ["@grafana/oss-big-tent", "@grafana/loki-team"], 13],
    ["operator/CHANGELOG.md", [], 20], // unanchored CHANGELOG.md, later than /operator/
  ],
  "nodejs__nodejs.org": [
    [".github/workflows/build.yml", ["@nodejs/web-infra"], 5],
    ["apps/site/pages/en/blog/announcements/apigee-rising-stack-yahoo.md", ["@nodejs/releasers"], 41],
  ],
  python__peps: [
    ["peps/pep-8016.rst", ["@njsmith", "@dstufft"], 802],
    [".github/workflows/lint.yml", ["@AA-Turner", "@CAM-Gerlach"], 10],
    ["build.py", ["@AA-Turner"], 16],
  ],
};

describe("real CODEOWNERS files", () => {
  it("covers every repository in the data folder with hand checks", () => {
    expect(repos.length).toBeGreaterThanOrEqual(7);
    expect(repos.filter((r) => !HAND_CHECKED[r])).toEqual([]);
  });

  describe.each(repos)("%s", (repo) => {
    const text = readFileSync(join(DATA, repo, "CODEOWNERS"), "utf8");
    const files = readFileSync(join(DATA, repo, "files.txt"), "utf8").split("\n").filter(Boolean);
    const co = parseCodeowners(text, { path: "CODEOWNERS" });

    it("parses without errors", () => {
      expect(co.errors).toEqual([]);
      expect(co.ruleCount).toBeGreaterThan(0);
    });

    it("agrees with the gitignore-based reference on every file", () => {
      const ref = referenceRules(text);
      expect(ref.length).toBe(co.ruleCount);
      const differences: string[] = [];
      for (const file of files) {
        const mine = co.ownersOf(file);
        const theirs = referenceOwners(ref, file);
        const a = mine ? `${mine.line}:${mine.owners.join(",")}` : "none";
        const b = theirs ? `${theirs.line}:${theirs.owners.join(",")}` : "none";
        if (a !== b) differences.push(`${file}: ours ${a}, reference ${b}`);
      }
      expect(differences.slice(0, 20)).toEqual([]);
      // Fewer tests than files x rules: the index does its job on real data.
      expect(co.stats.patternTests).toBeLessThan(files.length * Math.max(1, co.ruleCount) / 2);
    });

    it.each(HAND_CHECKED[repo] ?? [])("%s -> %j (line %s)", (file, owners, line) => {
      expect(files).toContain(file);
      const match = co.ownersOf(file);
      expect(match?.owners ?? null).toEqual(owners);
      expect(match?.line ?? null).toBe(line);
    });
  });
});
