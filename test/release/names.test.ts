// Where the docs need the project's own repository (the `uses:` line, the schema URL, the App's homepage) they
// use one placeholder, YOUR-ORG/agent-gate, that the README states once; no repository name that does not exist.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers.js";

const files = execFileSync("git", ["ls-files", "*.md", "*.yml", "*.yaml", "Dockerfile", "app.yml", "schema/*.json"], { cwd: REPO_ROOT, encoding: "utf8" })
  .split("\n")
  .filter((f) => f && !f.startsWith("test/fixtures/") && !f.startsWith("action/dist/"));

describe("names that resolve", () => {
  it("every reference to the project's repository uses the YOUR-ORG/agent-gate placeholder", () => {
    const wrong: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
      for (const match of text.matchAll(/(?:github\.com\/|githubusercontent\.com\/|uses:\s*|github:)([\w.-]+)\/agent-gate\b/g)) {
        if (match[1] !== "YOUR-ORG") wrong.push(`${file}: ${match[0]}`);
      }
    }
    expect(files.length).toBeGreaterThan(5);
    expect(wrong).toEqual([]);
  });

  it("the README says once what the placeholder stands for", () => {
    const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    expect(readme.match(/`YOUR-ORG\/agent-gate` in this README and the docs stands for/g)).toHaveLength(1);
  });
});
