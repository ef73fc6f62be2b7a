/**
 * The package's own files at run time: its version from package.json (for `agent-gate --version` and
 * `GET /healthz`) and its root folder (for app.yml). package.json sits at the package root, outside the compiled
 * tree, so it is found by walking up from this file, which works from src/ under tsx and from dist/src/ in the
 * packed package alike.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

let cached: { root: string; version: string } | null | undefined;

function findPackage(): { root: string; version: string } | null {
  if (cached !== undefined) return cached;
  let dir = new URL(".", import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "agent-gate" && typeof pkg.version === "string") return (cached = { root: fileURLToPath(dir), version: pkg.version });
    } catch {
      // not here; go up
    }
    dir = new URL("..", dir);
  }
  return (cached = null);
}

export function packageVersion(): string {
  return findPackage()?.version ?? "unknown";
}

/** The folder holding the package's package.json (ends with a path separator), or null if it cannot be found. */
export function packageRoot(): string | null {
  return findPackage()?.root ?? null;
}
