// `agent-gate --version` prints package.json's version (the same one /healthz reports); `--help` shows
// examples and what each exit code means.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packageVersion } from "../../src/version.js";
import { cli } from "./git-repo.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

describe("agent-gate --version and --help", () => {
  it("--version and -V print the version from package.json and exit 0", async () => {
    expect(packageVersion()).toBe(pkg.version);
    for (const flag of ["--version", "-V"]) {
      const run = await cli([flag]);
      expect(run).toEqual({ code: 0, stdout: pkg.version, stderr: "" });
    }
  });

  it("--help lists the commands, examples and the exit codes", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: agent-gate /);
    for (const command of ["evaluate", "validate", "telemetry", "audit", "migrate"]) expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(run.stdout).toMatch(/^Examples:\n {2}agent-gate validate \.github\/agent-gate\.yml/m);
    expect(run.stdout).toMatch(/^Exit codes:\n {2}0 {2}done.*\n {2}1 {2}invalid.*\n {2}2 {2}usage or environment problem/m);
  });

  it("an unknown option is a usage error (exit 2), not a crash", async () => {
    const run = await cli(["--versoin"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown option '--versoin'/);
  });
});
