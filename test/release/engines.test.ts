// Every package the lockfile installs must say it runs wherever package.json says Agent Gate runs (npm prints
// EBADENGINE otherwise), and the Node versions CI tests on must be inside that range.
import { readFileSync } from "node:fs";
import path from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers.js";

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe("supported Node versions", () => {
  it("CI's Node 20, 22 and 24 and the machines' 20.20 are inside package.json's engines range", () => {
    for (const version of ["20.20.0", "22.13.0", "24.0.0"]) expect(semver.satisfies(version, pkg.engines.node), version).toBe(true);
    expect(semver.satisfies("18.20.0", pkg.engines.node)).toBe(false);
  });

  it("every package in the lockfile supports the whole engines range (no EBADENGINE on npm ci)", () => {
    const unsupported: string[] = [];
    for (const [location, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (!location || !range) continue;
      if (!semver.subset(pkg.engines.node, range)) unsupported.push(`${location.replace(/^.*node_modules\//, "")}@${entry.version}: node ${range}`);
    }
    expect(unsupported).toEqual([]);
  });
});
