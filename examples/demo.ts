/**
 * `npm run demo [-- --format json|markdown] [-- --keep]`: builds a sample repository in a temporary folder
 * (a main branch with a policy and CODEOWNERS, and an agent branch that touches sensitive files), then runs
 * `agent-gate evaluate` on it exactly as a maintainer would:
 *
 *   agent-gate evaluate --repo <tmp> --base main --head agent/demo-1 --author copilot-swe-agent[bot]
 *
 * Needs only Node and git. Nothing leaves the machine; the folder is removed afterwards unless --keep.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const keep = args.includes("--keep");
const format = args.includes("--format") ? (args[args.indexOf("--format") + 1] ?? "text") : "text";

const repo = mkdtempSync(join(tmpdir(), "agent-gate-demo-"));
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: "Demo",
  GIT_AUTHOR_EMAIL: "demo@example.com",
  GIT_COMMITTER_NAME: "Demo",
  GIT_COMMITTER_EMAIL: "demo@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
};
const git = (...a: string[]) => execFileSync("git", a, { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
};

try {
  git("init", "-q", "-b", "main");
  // main: what the repository looks like before the agent runs.
  write(".github/agent-gate.yml", readFileSync(join(here, "agent-gate.yml"), "utf8"));
  write(
    ".github/CODEOWNERS",
    ["# Sample owners", "*            @acme/maintainers", "/.github/    @acme/platform", "/src/auth/   @acme/security @alice", ""].join("\n"),
  );
  write(".github/workflows/ci.yml", "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n");
  write("package.json", JSON.stringify({ name: "shop", version: "1.0.0", scripts: { test: "node --test" }, dependencies: { express: "^4.19.0" } }, null, 2) + "\n");
  write("src/auth/session.ts", 'export function checkSession(token: string): boolean {\n  return token.length > 0;\n}\n');
  write("src/app.ts", 'import { checkSession } from "./auth/session.js";\nexport const ok = checkSession("x");\n');
  write("README.md", "# shop\n");
  git("add", "-A");
  git("commit", "-q", "-m", "initial");

  // agent/demo-1: what a coding agent pushed.
  git("checkout", "-q", "-b", "agent/demo-1");
  mkdirSync(join(repo, "src/util"), { recursive: true });
  renameSync(join(repo, "src/auth/session.ts"), join(repo, "src/util/session.ts")); // out of the protected folder
  write("src/app.ts", 'import { checkSession } from "./util/session.js";\nexport const ok = checkSession("x");\n');
  // The agent also drops the security team from CODEOWNERS: judged by main's CODEOWNERS, and critical itself.
  write(".github/CODEOWNERS", ["# Sample owners", "*            @acme/maintainers", ""].join("\n"));
  write(
    "package.json",
    JSON.stringify(
      { name: "shop", version: "1.0.0", scripts: { test: "node --test", postinstall: "node scripts/setup.js" }, dependencies: { express: "^4.19.0", "left-pad": "^1.3.0" } },
      null,
      2,
    ) + "\n",
  );
  // AWS's documented example key, assembled so this file does not itself look like a secret.
  write("src/config.ts", `export const awsKeyId = "${"AKIA" + "IOSFODNN7EXAMPLE"}";\nexport const api = "https://api.telemetry-collector.io/v1";\n`);
  write("README.md", "# shop\n\nNow with sessions.\n");
  git("add", "-A");
  git("commit", "-q", "-m", "agent: refactor sessions");

  const bin = join(here, "..", "bin", "agent-gate.js");
  const cli = ["evaluate", "--repo", repo, "--base", "main", "--head", "agent/demo-1", "--author", "copilot-swe-agent[bot]", "--format", format];
  process.stderr.write(`$ agent-gate ${cli.join(" ")}\n\n`);
  const run = spawnSync(process.execPath, [bin, ...cli], { stdio: "inherit" });
  // Exit 1 is the point of the demo (the PR waits for approval), not a failure of it.
  process.stderr.write(`\n(exit code ${run.status}: 0 when the decision is success, 1 while it waits for approval or fails)\n`);
} finally {
  if (keep) process.stderr.write(`\n(sample repository kept at ${repo})\n`);
  else rmSync(repo, { recursive: true, force: true });
}
