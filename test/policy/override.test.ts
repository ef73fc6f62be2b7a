/**
 * Break-glass, the pure part: the command's grammar and who may override (src/policy/override.ts).
 */
import { describe, expect, it } from "vitest";
import { parsePolicy } from "../../src/policy/config.js";
import type { ResolvedPolicy } from "../../src/policy/config.js";
import { judgeOverride, overrideTeamsNeeded, parseOverrideCommand } from "../../src/policy/override.js";

function policy(yaml: string): ResolvedPolicy {
  const parsed = parsePolicy(yaml);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join("; "));
  return parsed.policy;
}

const GROUP = policy(`override:\n  users: ["olga"]\n  teams: ["@acme/sre"]\n`);
const user = (login: string) => ({ login, type: "User" });

describe("parseOverrideCommand", () => {
  it("reads the reason after the command that opens the comment", () => {
    expect(parseOverrideCommand("/agent-gate override prod is down")).toEqual({ reason: "prod is down" });
    expect(parseOverrideCommand("\n  /Agent-Gate  override  prod is down\nsee INC-42")).toEqual({ reason: "prod is down\nsee INC-42" });
    expect(parseOverrideCommand("/agent-gate override")).toEqual({ reason: "" });
  });

  it("ignores the command anywhere but the start, and look-alikes", () => {
    expect(parseOverrideCommand("please /agent-gate override this")).toBeNull();
    expect(parseOverrideCommand("/agent-gate overrides x")).toBeNull();
    expect(parseOverrideCommand("> /agent-gate override quoted")).toBeNull();
  });

  it("cuts a very long reason", () => {
    expect(parseOverrideCommand(`/agent-gate override ${"x".repeat(5_000)}`)?.reason).toHaveLength(1_000);
  });
});

describe("judgeOverride", () => {
  const base = { reason: "outage", prAuthor: "agent[bot]", teams: {} };

  it("lets in a listed user and a member of a listed team, saying which", () => {
    expect(judgeOverride(GROUP, { ...base, commenter: user("Olga") })).toEqual({ allowed: true, via: "override.users" });
    expect(judgeOverride(GROUP, { ...base, commenter: user("sam"), teams: { "@acme/sre": ["Sam"] } })).toEqual({ allowed: true, via: "@acme/sre" });
  });

  it("invariant 4: refuses everyone else, bots, the author, the triggering human, and an empty reason", () => {
    const why = (r: Parameters<typeof judgeOverride>[1]) => {
      const v = judgeOverride(GROUP, r);
      return v.allowed ? "allowed" : v.why;
    };
    expect(why({ ...base, commenter: user("mallory"), teams: { "@acme/sre": ["sam"] } })).toMatch(/only the policy's override group/);
    expect(why({ ...base, commenter: { login: "olga[bot]", type: "Bot" } })).toMatch(/a bot cannot/);
    expect(why({ ...base, commenter: { login: "olga", type: "Bot" } })).toMatch(/a bot cannot/);
    expect(why({ ...base, commenter: user("olga"), prAuthor: "olga" })).toMatch(/author cannot/);
    expect(why({ ...base, commenter: user("olga"), triggeredBy: "OLGA" })).toMatch(/triggered this agent run/);
    expect(why({ ...base, commenter: user("olga"), reason: "" })).toMatch(/needs a reason/);
  });

  it("nobody can override when the policy names no group (the default)", () => {
    const v = judgeOverride(policy("{}"), { ...base, commenter: user("olga") });
    expect(v).toMatchObject({ allowed: false, why: expect.stringMatching(/names no override group/) });
  });

  it("reads team membership only when the login is not listed", () => {
    expect(overrideTeamsNeeded(GROUP, user("olga"), "x")).toEqual([]);
    expect(overrideTeamsNeeded(GROUP, user("sam"), "x")).toEqual(["@acme/sre"]);
    expect(overrideTeamsNeeded(GROUP, user("sam"), "")).toEqual([]);
  });

  it("the policy refuses malformed override entries with their line", () => {
    const parsed = parsePolicy(`override:\n  users: ["@olga"]\n  teams: ["sre"]\n`);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.map((e) => [e.path, e.line])).toEqual([["override.users[0]", 2], ["override.teams[0]", 3]]);
  });
});
