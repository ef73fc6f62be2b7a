/**
 * Issue 12 (CPU per decided delivery): a policy text already parsed is not parsed again, and the copy every
 * evaluation shares cannot be changed by one of them.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePolicy } from "../../src/policy/config.js";
import { loadPolicy, parsePolicyOnce } from "../../src/services/snapshot.js";
import { FakeGitHub, repo } from "../helpers/fake-github-port.js";

const POLICY = readFileSync(new URL("../../examples/agent-gate.yml", import.meta.url), "utf8");

describe("parsePolicyOnce", () => {
  it("returns the same parse for the same file and text, equal to a fresh parse", () => {
    const first = parsePolicyOnce(POLICY, ".github/agent-gate.yml");
    expect(first.ok).toBe(true);
    expect(parsePolicyOnce(`${POLICY}`, ".github/agent-gate.yml")).toBe(first);
    expect(first).toEqual(parsePolicy(POLICY, ".github/agent-gate.yml"));
  });

  it("parses again when the text or the file differs, so errors name the right file", () => {
    const broken = "approvals: [\n";
    const own = parsePolicyOnce(broken, ".github/agent-gate.yml");
    const org = parsePolicyOnce(broken, "acme/.github:.github/agent-gate.yml");
    expect(own.ok || org.ok).toBe(false);
    if (own.ok || org.ok) return;
    expect(own.errors[0]!.file).toBe(".github/agent-gate.yml");
    expect(org.errors[0]!.file).toBe("acme/.github:.github/agent-gate.yml");
    expect(parsePolicyOnce(`${POLICY}\n# changed`, ".github/agent-gate.yml")).not.toBe(parsePolicyOnce(POLICY, ".github/agent-gate.yml"));
  });

  it("shares a frozen policy: changing it throws instead of reaching the next evaluation", () => {
    const result = parsePolicyOnce(POLICY, ".github/agent-gate.yml");
    if (!result.ok) throw new Error("the example policy is valid");
    expect(() => result.policy.risk.rules.push(result.policy.risk.rules[0]!)).toThrow(TypeError);
    expect(() => {
      (result.policy.approvals as { count: unknown }).count = {};
    }).toThrow(TypeError);
  });

  it("gives a repository without a policy file the frozen preset", async () => {
    const load = await loadPolicy(new FakeGitHub(), repo, "b".repeat(40));
    expect(load.ok && load.source.source).toBe("recommended preset (no policy file)");
    if (!load.ok) return;
    expect(Object.isFrozen(load.policy.risk.rules[0])).toBe(true);
  });
});
