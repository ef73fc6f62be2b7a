// `npm pack` ships what `npx agent-gate` needs: the compiled CLI (no TypeScript, no tsx), the migrations, the
// JSON Schema and the manifest. The tarball is installed into an empty project, as another repository would,
// and its `agent-gate` runs --version, validate and migrate on the Node running this test (CI: 20, 22 and 24).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RELEASE_SKIP_REASON, RELEASE_TESTS, REPO_ROOT, run, runOk, tempDir } from "./helpers.js";

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string; dependencies: Record<string, string> };

describe.skipIf(!RELEASE_TESTS)(`npm pack → install → agent-gate${RELEASE_TESTS ? "" : ` (skipped: ${RELEASE_SKIP_REASON})`}`, () => {
  let work: string;
  let files: string[];
  let consumer: string;
  let agentGate: string;

  beforeAll(async () => {
    work = tempDir("agent-gate-pack-");
    // prepack runs `npm run build`, so this is what `npm publish` would upload.
    const packed = await runOk("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO_ROOT });
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = info!.files.map((f) => f.path);
    consumer = path.join(work, "consumer");
    mkdirSync(consumer);
    writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true }));
    await runOk("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(work, path.basename(info!.filename))], { cwd: consumer });
    agentGate = path.join(consumer, "node_modules", ".bin", "agent-gate");
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("the tarball holds the compiled CLI, migrations, schema, manifest and release files, and no sources or tests", () => {
    for (const needed of ["bin/agent-gate.js", "dist/src/cli/main.js", "dist/src/app/server.js", "dist/src/index.d.ts", "migrations/meta/_journal.json", "schema/agent-gate.schema.json", "app.yml", "LICENSE", "README.md", "CHANGELOG.md", "SECURITY.md", "package.json"]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => /^(src|test|bench|scripts|action)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
  });

  it("installs without tsx: the bin runs the compiled code", () => {
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(existsSync(path.join(consumer, "node_modules", "tsx"))).toBe(false);
    expect(existsSync(path.join(consumer, "node_modules", "agent-gate", "dist", "src", "cli", "main.js"))).toBe(true);
  });

  it("agent-gate --version prints the package's version", async () => {
    expect(await run(agentGate, ["--version"], { cwd: consumer })).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  it("agent-gate validate accepts a valid policy (exit 0) and names file:line of an error (exit 1)", async () => {
    mkdirSync(path.join(consumer, ".github"), { recursive: true });
    writeFileSync(path.join(consumer, ".github", "agent-gate.yml"), readFileSync(path.join(REPO_ROOT, "examples", "agent-gate.yml")));
    const valid = await run(agentGate, ["validate"], { cwd: consumer });
    expect(valid.code, valid.stderr).toBe(0);

    writeFileSync(path.join(consumer, "broken.yml"), "version: 1\nscope: everybody\n");
    const invalid = await run(agentGate, ["validate", "broken.yml"], { cwd: consumer });
    expect(invalid.code).toBe(1);
    expect(`${invalid.stdout}${invalid.stderr}`).toMatch(/broken\.yml:2(:\d+)?: /);
  });

  it("agent-gate migrate finds the packaged migrations", async () => {
    const migrated = await run(agentGate, ["migrate", "--data-dir", path.join(consumer, "data")], { cwd: consumer });
    expect(migrated.stderr).toBe("");
    expect(migrated.stdout).toMatch(/^PGlite in .+: [1-9]\d* migration\(s\) applied, schema up to date\n$/);
    expect(migrated.code).toBe(0);
  });
});
