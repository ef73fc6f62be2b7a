/**
 * The compliance pages' queries (src/store/compliance.ts) on Postgres and PGlite: only readable repositories ever
 * come back, the filters narrow as the URL says, and one PR's trail holds its evaluations, approvals, telemetry
 * and audit entries. Seeded through the store's own repositories, as the App writes them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createComplianceQueries, type ComplianceQueries } from "../../src/store/compliance.js";
import { nativeTrace, seedPullRequest } from "../web/harness.js";
import { openTestStore, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";

const DAY = 86_400_000;
const t0 = Date.parse("2026-03-02T10:00:00Z"); // a Monday

describe.each(TEST_DRIVERS)("compliance queries on %s", (driver) => {
  let ctx: TestStoreContext;
  let q: ComplianceQueries;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
    q = createComplianceQueries(ctx.store.db);
    const s = ctx.store;
    const trace = nativeTrace();
    await seedPullRequest(s, { repository: "Acme/API", number: 1, title: "low one", openedAt: new Date(t0), risk: "low", conclusion: "success", headSha: "a".repeat(40), approvals: [{ reviewer: "carol", counted: true, reason: "owner" }], telemetry: { trace, accepted: true } });
    await seedPullRequest(s, { repository: "acme/api", number: 2, title: "high one", openedAt: new Date(t0 + 8 * DAY), risk: "high", conclusion: "action_required", headSha: "b".repeat(40), telemetry: { trace, accepted: false, reasons: ["not allowlisted"] } });
    await seedPullRequest(s, { repository: "acme/payroll", number: 3, title: "secret", openedAt: new Date(t0 + DAY), risk: "critical", conclusion: "failure", headSha: "c".repeat(40) });
    // A second evaluation of PR 2: the list shows the latest one, the trail both.
    await seedPullRequest(s, { repository: "acme/api", number: 2, title: "high one (renamed)", openedAt: new Date(t0 + 9 * DAY), risk: "high", conclusion: "success", headSha: "d".repeat(40), approvals: [{ reviewer: "dave", counted: true, reason: "owner" }] });
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("lists one row per PR with its latest decision, only of readable repositories (case-insensitive)", async () => {
    const page = await q.agentPullRequests({ readable: ["ACME/api"] }, { limit: 50, offset: 0 });
    expect(page.total).toBe(2);
    expect(page.rows.map((r) => [r.repository, r.pullRequest, r.decision, r.title])).toEqual([
      ["acme/api", 2, "approved", "high one (renamed)"],
      ["Acme/API", 1, "approved", "low one"],
    ]);
    const two = page.rows[0]!;
    expect(two.evaluations).toBe(2);
    expect(two.approvedBy).toEqual([{ reviewer: "dave", commitId: "d".repeat(40) }]);
    // The opened time is kept from the first sight; a later title replaces the earlier one.
    expect(two.openedAt?.toISOString()).toBe(new Date(t0 + 8 * DAY).toISOString());
    expect(two.telemetry).toMatchObject({ accepted: false, reasons: ["not allowlisted"] });
    expect(page.rows[1]!.telemetry).toMatchObject({ accepted: true, agent: "codex", model: "gpt-5-codex" });
    expect(await q.agentPullRequests({ readable: [] }, { limit: 50, offset: 0 })).toEqual({ rows: [], total: 0 });
  });

  it("filters by repository, risk, decision, agent and opened date, and pages", async () => {
    const all = ["acme/api", "acme/payroll"];
    const numbers = async (f: Parameters<ComplianceQueries["agentPullRequests"]>[0], page = { limit: 50, offset: 0 }) => (await q.agentPullRequests(f, page)).rows.map((r) => r.pullRequest);
    expect(await numbers({ readable: all })).toEqual([2, 3, 1]);
    expect(await numbers({ readable: all, repository: "acme/payroll" })).toEqual([3]);
    expect(await numbers({ readable: ["acme/api"], repository: "acme/payroll" })).toEqual([]);
    expect(await numbers({ readable: all, risk: "critical" })).toEqual([3]);
    expect(await numbers({ readable: all, decision: "failed" })).toEqual([3]);
    expect(await numbers({ readable: all, agent: "CODEX" })).toEqual([2, 1]);
    expect(await numbers({ readable: all, agent: "%" })).toEqual([]);
    expect(await numbers({ readable: all, from: new Date(t0 + DAY), to: new Date(t0 + 2 * DAY) })).toEqual([3]);
    expect(await numbers({ readable: all }, { limit: 2, offset: 2 })).toEqual([1]);
    expect((await q.agentPullRequests({ readable: all }, { limit: 2, offset: 2 })).total).toBe(3);
  });

  it("charts count PRs per week by risk and the time from opened to approved", async () => {
    const charts = await q.charts({ readable: ["acme/api", "acme/payroll"] });
    expect(charts.perWeek.map((w) => [w.week.toISOString().slice(0, 10), w.risk, w.count])).toEqual([
      ["2026-03-02", "critical", 1],
      ["2026-03-02", "low", 1],
      ["2026-03-09", "high", 1],
    ]);
    expect(charts.approvalSeconds).toHaveLength(2);
    expect(charts.approvalSeconds.every((s) => s > 0)).toBe(true);
  });

  it("the trail of a readable PR holds every evaluation, approval, telemetry run and audit entry; an unreadable one is null", async () => {
    const trail = await q.trail(["acme/api"], "ACME/api", 2);
    expect(trail?.evaluations.map((e) => [e.headSha[0], e.conclusion])).toEqual([["b", "action_required"], ["d", "success"]]);
    expect(trail?.evaluations[1]?.approvals).toMatchObject([{ reviewer: "dave", counted: true, reason: "owner" }]);
    expect(trail?.telemetry.map((t) => t.accepted)).toEqual([false]);
    expect(trail?.audit.map((a) => a.kind)).toEqual(["evaluation_decided", "check_published", "telemetry_rejected", "evaluation_decided", "check_published", "approval_counted"]);
    expect(await q.trail(["acme/api"], "acme/payroll", 3)).toBeNull();
    expect(await q.trail(["acme/api"], "acme/api", 99)).toBeNull();
  });

  it("audit entries and the store's export keep to the readable repositories", async () => {
    const entries = await q.auditEntries({ readable: ["acme/api"], limit: 100 });
    expect(new Set(entries.map((e) => e.repository?.toLowerCase()))).toEqual(new Set(["acme/api"]));
    expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => b - a));
    const older = await q.auditEntries({ readable: ["acme/api"], beforeId: entries[2]!.id, limit: 2 });
    expect(older.map((e) => e.id)).toEqual([entries[3]!.id, entries[4]!.id]);
    expect(await q.auditEntries({ readable: ["acme/api"], kind: "approval_counted", limit: 100 })).toHaveLength(2);
    const exported = [];
    for await (const e of ctx.store.audit.export({ repositories: ["acme/API"], pullRequest: 2 })) exported.push(e.kind);
    expect(exported).toEqual(trailKinds());
    const none = [];
    for await (const e of ctx.store.audit.export({ repositories: [] })) none.push(e);
    expect(none).toEqual([]);
    expect(await q.recordedRepositories()).toEqual(["Acme/API", "acme/api", "acme/payroll"]);
  });
});

function trailKinds() {
  return ["evaluation_decided", "check_published", "telemetry_rejected", "evaluation_decided", "check_published", "approval_counted"];
}
