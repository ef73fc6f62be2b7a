#!/usr/bin/env node
// The installed package runs the compiled CLI (dist/, built by `npm run build`, which `npm pack` runs first).
// A development checkout (src/ is there) runs the TypeScript source through tsx, a development dependency, so a
// stale dist/ left by an earlier build is never what runs while the sources change.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../src/cli/main.ts", import.meta.url);
const built = new URL("../dist/src/cli/main.js", import.meta.url);

async function loadTsx() {
  try {
    return await import("tsx/esm/api");
  } catch {
    return undefined;
  }
}

const tsx = existsSync(fileURLToPath(source)) ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write("agent-gate: no compiled CLI in dist/: run `npm run build` (or `npm ci` to run the sources with tsx)\n");
  process.exit(2);
}
