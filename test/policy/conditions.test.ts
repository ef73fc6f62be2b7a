import { describe, expect, it } from "vitest";
import { formatPolicyError, parsePolicy } from "../../src/policy/config.js";
import { titleMatches } from "../../src/policy/conditions.js";
import { assessRisk } from "../../src/policy/risk.js";
import type { ChangedFile, PullRequestFacts } from "../../src/policy/types.js";
import { file, policy, pr } from "./engine-helpers.js";

/** A policy with only one rule, `probe` (high), carrying the given `when:`, so a finding means the conditions held. */
function probe(when: string, paths = "") {
  return policy(`risk:\n  extends: none\n  rules:\n    - id: probe\n      level: high\n${paths}      when: ${when}\n`);
}
const fires = (when: string, facts: Partial<PullRequestFacts> = {}, files: ChangedFile[] = [file("src/a.ts")]) =>
  assessRisk({ policy: probe(when), files, pr: pr(facts) }).findings.some((f) => f.rule === "probe");

const errorsOf = (text: string) => {
  const r = parsePolicy(text);
  if (r.ok) throw new Error("expected errors");
  return r.errors.map(formatPolicyError);
};

describe("conditions on risk rules", () => {
  it("targets: the base branch must match a glob", () => {
    expect(fires('{ targets: ["release/**"] }', { baseRef: "release/2.1" })).toBe(true);
    expect(fires('{ targets: ["release/**"] }', { baseRef: "main" })).toBe(false);
    expect(fires('{ targets: ["main", "release/*"] }', { baseRef: "main" })).toBe(true);
  });

  it("authors: one of the logins, case-insensitive, a leading @ allowed", () => {
    expect(fires('{ authors: ["@Alice"] }', { author: "alice" })).toBe(true);
    expect(fires('{ authors: ["alice"] }', { author: "mallory" })).toBe(false);
  });

  it("agent: the policy's agents match, or accepted telemetry for the head", () => {
    const human = { author: "alice", authorType: "User" as const, headRef: "feature/x" };
    expect(fires("{ agent: true }")).toBe(true); // copilot-swe-agent[bot] on copilot/fix-1
    expect(fires("{ agent: true }", human)).toBe(false);
    expect(fires("{ agent: true }", { ...human, telemetryAccepted: true })).toBe(true);
    expect(fires("{ agent: false }", human)).toBe(true);
    expect(fires("{ agent: false }")).toBe(false);
  });

  it("labels: any one of them, case-insensitive", () => {
    expect(fires('{ labels: ["needs-dba", "db"] }', { labels: ["DB"] })).toBe(true);
    expect(fires('{ labels: ["needs-dba"] }', { labels: ["other"] })).toBe(false);
  });

  it("title: globs, case-insensitive; a PR without a title matches only `*`", () => {
    expect(fires('{ title: ["*hotfix*"] }', { title: "Apply HOTFIX for login" })).toBe(true);
    expect(fires('{ title: ["[WIP]*"] }', { title: "Fix [WIP] later" })).toBe(false);
    expect(fires('{ title: ["[WIP]*"] }', { title: "[wip] fix" })).toBe(true);
    expect(fires('{ title: ["*hotfix*"] }', {})).toBe(false);
    expect(fires('{ title: ["*"] }', {})).toBe(true);
  });

  it("changedLines and changedFiles take gt, lt or a range", () => {
    const lines = (n: number) => [file("src/a.ts", { additions: n, changes: n })];
    expect(fires("{ changedLines: { lt: 10 } }", {}, lines(9))).toBe(true);
    expect(fires("{ changedLines: { lt: 10 } }", {}, lines(10))).toBe(false);
    expect(fires("{ changedLines: { gt: 5, lt: 10 } }", {}, lines(7))).toBe(true);
    expect(fires("{ changedLines: { gt: 5, lt: 10 } }", {}, lines(5))).toBe(false);
    expect(fires("{ changedFiles: { gt: 1 } }", {}, [file("a"), file("b")])).toBe(true);
    expect(fires("{ changedFiles: { gt: 1 } }", { changedFiles: 1 }, [file("a")])).toBe(false);
  });

  it("all conditions given must hold, and file conditions still select files", () => {
    const p = probe('{ targets: ["release/**"], status: [removed] }', "      paths: ['db/**']\n");
    const removed = file("db/schema.sql", { status: "removed", additions: 0, deletions: 3, changes: 3 });
    expect(assessRisk({ policy: p, files: [removed], pr: pr({ baseRef: "release/1" }) }).risk).toBe("high");
    expect(assessRisk({ policy: p, files: [removed], pr: pr({ baseRef: "main" }) }).risk).toBe("low");
    expect(assessRisk({ policy: p, files: [file("db/schema.sql")], pr: pr({ baseRef: "release/1" }) }).risk).toBe("low");
  });

  it("the gate-control rule ignores conditions: a release-only policy still makes workflows critical on main", () => {
    const p = probe('{ targets: ["release/**"] }');
    expect(assessRisk({ policy: p, files: [file(".github/workflows/ci.yml")], pr: pr({ baseRef: "main" }) }).risk).toBe("critical");
  });
});

describe("condition errors name the line", () => {
  it("an unknown condition name is an error at its line", () => {
    const text = ["risk:", "  rules:", "    - id: release", "      level: high", "      when:", "        milestone: [v2]", ""].join("\n");
    expect(errorsOf(text)).toEqual(['.github/agent-gate.yml:6: risk.rules[0].when.milestone: unknown key "milestone"']);
  });

  it("an empty threshold, a bad login and an empty list are errors at their lines", () => {
    const text = [
      "risk:",
      "  rules:",
      "    - id: a",
      "      level: high",
      "      when:",
      "        changedLines: {}",
      "        authors: ['not a login']",
      "        targets: []",
      "",
    ].join("\n");
    expect(errorsOf(text)).toEqual([
      ".github/agent-gate.yml:6: risk.rules[0].when.changedLines: a threshold needs gt, lt or both",
      ".github/agent-gate.yml:7: risk.rules[0].when.authors[0]: expected a GitHub login, e.g. alice or copilot-swe-agent[bot]",
      ".github/agent-gate.yml:8: risk.rules[0].when.targets: expected at least 1 item",
    ]);
  });
});

describe("title globs are linear (the title is the attacker's)", () => {
  /** The same glob as a regular expression, for small inputs where backtracking is harmless. */
  const reference = (glob: string, title: string) =>
    new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*").replace(/\?/g, "[\\s\\S]")}$`, "i").test(title);

  it("agrees with a regular expression on every small glob and title over a tiny alphabet", () => {
    const globs = ["", "*", "?", "a*", "*a", "*a*", "a?b", "*ab*b", "a**b", "?*?", "[*]", "*.*"];
    const titles = ["", "a", "b", "ab", "ba", "aab", "abab", "abb", "[x]", "a.b", "A B"];
    for (const g of globs) for (const t of titles) expect([g, t, titleMatches(g, t)]).toEqual([g, t, reference(g, t)]);
  });

  it("a hostile glob against a hostile title gives the right answer (no exponential retry)", () => {
    const glob = `${"*a".repeat(100)}*b`;
    expect(titleMatches(glob, "a".repeat(1024))).toBe(false);
    expect(titleMatches(glob, `${"a".repeat(1000)}b`)).toBe(true);
  });
});
