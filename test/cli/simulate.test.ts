/**
 * `agent-gate evaluate --approve / --request-changes / --team`: try a policy change before landing it (issue 14).
 * Real git repositories; the engine decides exactly as the App would with those reviews and memberships.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/types.js";
import { cli, tempRepo } from "./git-repo.js";
import type { TempRepo } from "./git-repo.js";

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

const POLICY = `risk:
  extends: none
approvals:
  rules:
    - name: dba
      if: { paths: ["db/**"] }
      requires: { count: 2, from: { teams: [acme/dba] } }
  disapproval:
    from: { users: [vic] }
`;

/** main with the policy, then agent/run-1 changing a file under db/. Returns the repo and the first head commit. */
function setup(): { r: TempRepo; first: string } {
  const r = tempRepo();
  repos.push(r);
  r.write(".github/agent-gate.yml", POLICY);
  r.write("db/schema.sql", "create table a (id int);\n");
  r.commit("base");
  r.git("checkout", "-q", "-b", "agent/run-1");
  r.write("db/schema.sql", "create table a (id int, b int);\n");
  r.commit("agent: add column");
  return { r, first: r.git("rev-parse", "HEAD").trim() };
}

async function run(r: TempRepo, ...args: string[]) {
  const res = await cli(["evaluate", "--repo", r.dir, "--base", "main", "--format", "json", "--author", "codex-bot", ...args]);
  return { ...res, decision: res.stdout ? (JSON.parse(res.stdout) as Decision) : null };
}

describe("agent-gate evaluate simulates reviews and teams", () => {
  it("without reviews the rule waits (exit 1); two members' approvals pass it (exit 0)", async () => {
    const { r } = setup();
    const waiting = await run(r);
    expect(waiting.code).toBe(1);
    expect(waiting.decision?.title).toBe("Low risk: waiting on @acme/dba");
    const passed = await run(r, "--approve", "alice", "--approve", "carol", "--team", "acme/dba=alice,carol");
    expect(passed.decision?.conclusion).toBe("success");
    expect(passed.code).toBe(0);
    expect(passed.decision?.approval.requirements[0]?.approvedBy).toEqual(["alice", "carol"]);
  });

  it("login@commit binds the approval to that commit: an approval of an older head does not count (invariant 3)", async () => {
    const { r, first } = setup();
    r.write("db/schema.sql", "create table a (id int, b int, c int);\n");
    r.commit("agent: another column");
    const d = await run(r, "--approve", `bob@${first.slice(0, 10)}`, "--approve", "alice", "--team", "acme/dba=alice,bob");
    expect(d.decision?.conclusion).toBe("action_required");
    expect(d.decision?.ignoredReviews.map((i) => i.reviewer)).toEqual(["bob"]);
    const both = await run(r, "--approve", "bob@HEAD", "--approve", "alice", "--team", "@acme/dba=alice", "--team", "acme/dba=bob");
    expect(both.decision?.conclusion).toBe("success");
  });

  it("invariant 4: a reviewer whose GitHub noreply address authored a commit in the range cannot approve, even simulated", async () => {
    const { r } = setup();
    r.write("db/schema.sql", "create table a (id int, b int, d int);\n");
    r.git("add", "-A");
    r.git("commit", "-q", "--no-verify", "-m", "alice's fix", "--author", "Alice <1234+Alice@users.noreply.github.com>");
    const d = await run(r, "--approve", "alice", "--approve", "carol", "--team", "acme/dba=alice,carol");
    expect(d.decision?.conclusion).toBe("action_required");
    expect(d.decision?.ignoredReviews).toEqual([expect.objectContaining({ reviewer: "alice", reason: expect.stringContaining("has commits in the pull request") })]);
  });

  it("a team the decision needs but --team did not give is named on stderr, and counts as nobody", async () => {
    const { r } = setup();
    const d = await run(r, "--approve", "alice");
    expect(d.decision?.conclusion).toBe("action_required");
    expect(d.stderr).toBe("note: team membership not given, counted as nobody: @acme/dba (add --team acme/dba=login,login)");
  });

  it("--request-changes by the disapproval group blocks until the same person approves later", async () => {
    const { r } = setup();
    const team = ["--approve", "alice", "--approve", "carol", "--team", "acme/dba=alice,carol"];
    const blocked = await run(r, ...team, "--request-changes", "vic");
    expect(blocked.decision?.title).toBe("Low risk: changes requested by @vic");
    expect(blocked.code).toBe(1);
  });

  it("the author cannot approve their own pull request, even simulated (invariant 4)", async () => {
    const { r } = setup();
    const d = await run(r, "--approve", "codex-bot", "--approve", "alice", "--team", "acme/dba=alice,codex-bot,dave");
    expect(d.decision?.conclusion).toBe("action_required");
    expect(d.decision?.ignoredReviews[0]?.reason).toMatch(/author/);
  });

  it("malformed --approve and --team are usage errors (exit 2)", async () => {
    const { r } = setup();
    expect((await run(r, "--approve", "not a login")).code).toBe(2);
    const bad = await run(r, "--team", "acme-dba:alice");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--team expects org/team=login,login, got "acme-dba:alice"');
  });
});
