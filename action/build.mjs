// Bundles the action (dist/index.js) and its MCP server (dist/mcp.js) with esbuild.
// Deterministic on purpose: the committed dist/ is compared with a fresh build in action/test/build.test.ts.
//   node action/build.mjs [outdir]
import { build } from "esbuild";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] ?? path.join(root, "action", "dist"));

export const ENTRIES = { index: "action/src/main.ts", mcp: "action/src/mcp-main.ts" };

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
for (const [name, entry] of Object.entries(ENTRIES)) {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: path.join(outdir, `${name}.js`),
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    // Bundled CommonJS dependencies call require() for Node built-ins.
    banner: { js: 'import { createRequire as __agentGateCreateRequire } from "node:module";\nconst require = __agentGateCreateRequire(import.meta.url);' },
    minify: true,
    legalComments: "none",
    sourcemap: false,
    charset: "utf8",
    logLevel: "warning",
  });
}
// dist/ may be used without the repository's package.json (e.g. a copied action): say it is ESM.
await writeFile(path.join(outdir, "package.json"), `${JSON.stringify({ type: "module" }, null, 2)}\n`);
