import { describe, expect, it } from "vitest";
import { formatPolicyError, parsePolicy } from "../../src/policy/config.js";
import { evaluate, policyErrorDecision } from "../../src/policy/decision.js";
import { CHECK_RUN_TEXT_LIMIT, RISK_LABEL_COLORS, escapeMarkdown, renderDecisionMarkdown, renderDecisionText } from "../../src/policy/render.js";
import type { ChangedFile } from "../../src/policy/types.js";
import { HEAD, codeowners, file, policy, pr, review } from "./engine-helpers.js";

function decisionFor(files: ChangedFile[], co = "* @owner\n") {
  return evaluate({
    policy: policy(),
    policySource: { source: ".github/agent-gate.yml", ref: "0123456789abcdef" },
    codeowners: codeowners(co),
    files,
    pr: pr(),
    reviews: [review("owner", "APPROVED")],
    teams: {},
  });
}

describe("renderDecisionMarkdown", () => {
  it("has the approvals table (path, rule, owners, approved by, status), then findings, then notes at the top", () => {
    const md = renderDecisionMarkdown(decisionFor([file("Dockerfile")]), ["**Not enforced:** the base branch does not require this check."]);
    const lines = md.split("\n");
    const table = lines.indexOf("| Sensitive path | Rule | Owners | Approved by | Status |");
    expect(table).toBeGreaterThan(0);
    expect(lines[table + 2]).toBe("| <code>Dockerfile</code> | infrastructure | @owner (CODEOWNERS line 1) | @owner | ✅ met |");
    expect(md.indexOf("#### Findings")).toBeGreaterThan(table);
    expect(md.indexOf("**Not enforced:**")).toBeLessThan(md.indexOf("| Sensitive path"));
  });

  it("stays under 65,535 characters for 3,000 sensitive paths and never cuts a row in half", () => {
    const files = Array.from({ length: 2999 }, (_, i) => file(`infra/modules/${"deep/".repeat(8)}module-${i}/main.tf`));
    const md = renderDecisionMarkdown(decisionFor(files));
    expect(new TextEncoder().encode(md).length).toBeLessThanOrEqual(CHECK_RUN_TEXT_LIMIT);
    for (const line of md.split("\n")) if (line.startsWith("|")) expect(line.endsWith("|")).toBe(true);
    expect(md).toMatch(/\d+ more lines? not shown: GitHub limits a check run summary to 65,535 characters/);
  });

  it("escapes file names: a path cannot inject markup, links or table cells", () => {
    const evil = "src/auth/x|y<img src=x onerror=alert(1)>[click](https://evil.example)`*_.ts";
    const md = renderDecisionMarkdown(decisionFor([file(evil)]));
    expect(md).not.toContain("<img");
    expect(md).not.toContain("[click](");
    const row = md.split("\n").find((l) => l.includes("onerror"))!;
    // 5 columns => 6 unescaped pipes.
    expect(row.replace(/\\\|/g, "").split("|").length - 1).toBe(6);
  });

  it.each([
    ["a team mention", "src/auth/@org/team.ts", /@org/, "@\u200Dorg/team"],
    ["an HTML image with a handler", "src/auth/<img src=x onerror=alert(1)>.ts", /<img/, "&lt;img src=x onerror=alert\\(1\\)&gt;"],
    ["a bare URL", "src/auth/https://evil.example/x.ts", /https:\/\/evil/, "https:\u200B//evil.example"],
    ["a www autolink", "src/auth/www.evil.example.ts", /www\.evil/, "www\u200B.evil.example"],
    ["a javascript: link", "src/auth/[x](javascript:alert(1)).ts", /\]\(javascript:/, "\\[x\\]\\(javascript:alert\\(1\\)\\)"],
  ])("nothing agent-chosen is live markup: %s in a path is escaped in the table and the findings", (_what, path, live, shown) => {
    const md = renderDecisionMarkdown(decisionFor([file(path)]));
    expect(md).not.toMatch(live);
    // Once in the approvals table, once in the findings.
    expect(md.split(shown).length - 1).toBe(2);
  });

  it("quotes an invalid policy's errors with file and line", () => {
    const r = parsePolicy("approvals:\n  count: { high: 0 }\n");
    if (r.ok) throw new Error("expected errors");
    const d = policyErrorDecision({ errors: r.errors, policySource: { source: ".github/agent-gate.yml", ref: "abc" }, headSha: HEAD });
    expect(d.conclusion).toBe("failure");
    expect(d.title).toBe("Invalid policy: .github/agent-gate.yml:2: approvals.count.high: expected a number >= 1");
    expect(renderDecisionMarkdown(d)).toContain(escapeMarkdown(formatPolicyError(r.errors[0]!)));
  });
});

describe("renderDecisionText", () => {
  it("strips terminal control sequences from file names", () => {
    const text = renderDecisionText(decisionFor([file("src/auth/\u001b[31mred\u001b[0m.ts")]));
    expect(text).not.toContain("\u001b");
    expect(text).toContain("src/auth/?[31mred?[0m.ts");
  });

  it("lists findings and approvals", () => {
    const text = renderDecisionText(decisionFor([file(".github/workflows/ci.yml")]));
    expect(text).toContain("[critical] gate-control");
    expect(text).toContain("[met] critical: 1 approval from @owner (CODEOWNERS line 1)");
  });
});

it("label colours exist for every level", () => {
  expect(Object.keys(RISK_LABEL_COLORS).sort()).toEqual(["critical", "high", "low", "medium"]);
  for (const c of Object.values(RISK_LABEL_COLORS)) expect(c).toMatch(/^[0-9a-f]{6}$/);
});
