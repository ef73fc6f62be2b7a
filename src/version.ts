/**
 * The package version from package.json, for `agent-gate --version` and `GET /healthz`. Read at run time (not
 * imported as JSON) because the file sits at the package root, outside the compiled tree: it is found by walking
 * up from this file, which works from src/ under tsx and from dist/src/ in the packed package alike.
 */
import { readFileSync } from "node:fs";

let cachedVersion: string | undefined;

export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = new URL(".", import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "agent-gate" && typeof pkg.version === "string") return (cachedVersion = pkg.version);
    } catch {
      // not here; go up
    }
    dir = new URL("..", dir);
  }
  return (cachedVersion = "unknown");
}
