import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultPolicy, formatPolicyError, parsePolicy, policyJsonSchemaText } from "../../src/policy/config.js";
import { RECOMMENDED_RULES } from "../../src/policy/preset.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/policy/${name}`, import.meta.url), "utf8");
const errorsOf = (text: string, file?: string) => {
  const r = parsePolicy(text, file);
  if (r.ok) throw new Error("expected errors");
  return r.errors.map(formatPolicyError);
};

describe("policy file", () => {
  it("every error names file, line and YAML path", () => {
    expect(errorsOf(fixture("invalid.yml"))).toEqual([
      '.github/agent-gate.yml:4: agents.branch: unknown key "branch" (did you mean "branches"?)',
      ".github/agent-gate.yml:13: approvals.count.high: expected a number >= 1",
      ".github/agent-gate.yml:14: approvals.fallback[0]: expected @user, @org/team or an email address",
    ]);
  });

  it("the issue's example error, exactly", () => {
    const text = ["scope: agents", "approvals:", "  count:", "    high: 0", ""].join("\n");
    expect(errorsOf(text)).toEqual([".github/agent-gate.yml:4: approvals.count.high: expected a number >= 1"]);
  });

  it("YAML syntax errors give file:line", () => {
    const [e] = errorsOf(fixture("broken-yaml.yml"), "policy.yml");
    expect(e).toMatch(/^policy\.yml:[56]: invalid YAML: /);
  });

  it("duplicate keys are an error, not a silent override", () => {
    expect(errorsOf("scope: agents\nscope: all\n")[0]).toMatch(/^\.github\/agent-gate\.yml:2: invalid YAML: .*[Uu]nique/);
  });

  it("unknown keys are errors at every depth", () => {
    const errs = errorsOf("foo: 1\nrisk:\n  rules:\n    - id: a\n      level: high\n      paths: [x]\n      colour: red\n");
    expect(errs).toEqual([
      '.github/agent-gate.yml:1: foo: unknown key "foo"',
      '.github/agent-gate.yml:7: risk.rules[0].colour: unknown key "colour"',
    ]);
  });

  it("'did you mean' knows every key of the schema, at any depth", () => {
    expect(errorsOf("approvals:\n  invalidate_on_push: false\n")).toEqual(['.github/agent-gate.yml:2: approvals.invalidate_on_push: unknown key "invalidate_on_push" (did you mean "invalidateOnPush"?)']);
    expect(errorsOf("risk:\n  rules:\n    - id: a\n      level: high\n      exludePaths: [x]\n      paths: [y]\n")[0]).toContain('(did you mean "excludePaths"?)');
  });

  it("the defaults live in the zod schema: an empty file parses to them, and the JSON Schema documents them", () => {
    const r = parsePolicy("");
    if (!r.ok) throw new Error("expected ok");
    expect(r.config.approvals.count).toEqual({ low: 1, medium: 1, high: 1, critical: 1 });
    expect(r.policy.agents).toEqual(defaultPolicy().agents);
    const schema = JSON.parse(policyJsonSchemaText()) as { properties: { scope: { default: string }; labels: { properties: { prefix: { default: string } } } } };
    expect(schema.properties.scope.default).toBe("agents");
    expect(schema.properties.labels.properties.prefix.default).toBe("agent-risk:");
  });

  it("wrong types and enum values name what was expected", () => {
    expect(errorsOf("scope: everything\n")).toEqual([".github/agent-gate.yml:1: scope: expected one of agents, all"]);
    expect(errorsOf("approvals:\n  invalidateOnPush: 'yes'\n")).toEqual([".github/agent-gate.yml:2: approvals.invalidateOnPush: expected true or false"]);
    expect(errorsOf("agents:\n  authors: bob\n")).toEqual([".github/agent-gate.yml:2: agents.authors: expected a list"]);
    expect(errorsOf("approvals:\n  count: { high: 1.5 }\n")).toEqual([".github/agent-gate.yml:2: approvals.count.high: expected a whole number"]);
  });

  it("a rule must say what it matches, and cannot take a reserved id or a leading-slash glob", () => {
    expect(errorsOf("risk:\n  rules:\n    - id: empty\n      level: low\n")).toEqual([
      ".github/agent-gate.yml:3: risk.rules[0]: a rule needs at least one of paths, detect or when",
    ]);
    expect(errorsOf("risk:\n  rules:\n    - id: gate-control\n      level: low\n      paths: ['**']\n")[0]).toContain(
      "risk.rules[0].id: \"gate-control\" is built in and always on",
    );
    expect(errorsOf("risk:\n  rules:\n    - id: a\n      level: low\n      paths: ['/src/**']\n")).toEqual([
      ".github/agent-gate.yml:5: risk.rules[0].paths[0]: globs match repository paths, which have no leading slash",
    ]);
  });

  it("the top level must be a mapping; an empty file is the defaults", () => {
    expect(errorsOf("- a\n- b\n")).toEqual([".github/agent-gate.yml:1: expected a mapping of settings at the top level"]);
    const empty = parsePolicy("");
    expect(empty.ok && empty.policy).toEqual(defaultPolicy());
  });

  it("a huge policy is refused without parsing", () => {
    expect(errorsOf(`# ${"x".repeat(300_000)}\n`)[0]).toMatch(/^\.github\/agent-gate\.yml: the policy file is larger than/);
  });

  it("defaults fill every field; the recommended preset follows the built-in gate-control rule", () => {
    const p = defaultPolicy();
    expect(p.scope).toBe("agents");
    expect(p.approvals).toEqual({ codeowners: { from: "high", requests: "all" }, count: { low: 1, medium: 1, high: 1, critical: 1 }, fallback: [], invalidateOnPush: true, pushersCannotApprove: true, rules: [] });
    expect(p.labels.prefix).toBe("agent-risk:");
    expect(p.risk.rules.map((r) => r.id)).toEqual(["gate-control", ...RECOMMENDED_RULES.map((r) => r.id)]);
  });

  it("the sample policy in examples/ is valid", () => {
    const r = parsePolicy(readFileSync(new URL("../../examples/agent-gate.yml", import.meta.url), "utf8"));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.policy.approvals.count.critical).toBe(2);
      expect(r.policy.risk.rules.find((x) => x.id === "large-change")?.when?.changedLines?.gt).toBe(500);
    }
  });
});

describe("JSON Schema", () => {
  it("schema/agent-gate.schema.json is up to date with the zod schema (run `npm run schema`)", () => {
    const committed = readFileSync(new URL("../../schema/agent-gate.schema.json", import.meta.url), "utf8");
    expect(committed).toBe(policyJsonSchemaText());
  });

  it("is strict and documents every field", () => {
    const schema = JSON.parse(policyJsonSchemaText()) as Record<string, unknown>;
    expect(schema.additionalProperties).toBe(false);
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.properties && typeof n.properties === "object") {
        for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          if (typeof v.description !== "string") undocumented.push(`${path}.${k}`);
          walk(v, `${path}.${k}`);
        }
      }
      if (n.items) walk(n.items, `${path}[]`);
    };
    walk(schema, "");
    expect(undocumented).toEqual([]);
  });
});
