/**
 * Break-glass on the compliance pages, in Chromium: a pull request whose check was overridden shows the state
 * "overridden" (never "approved"), its trail names who overrode it and why, and the export carries the
 * `override_applied` entry with the reason and the decision it overrode. The override is written through the
 * App's own store path (`DatabaseGateStore`: recordOverride, then recordPublished), as the App does.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { launchBrowser, seedPullRequest, startWebApp, type WebApp } from "./harness.js";

const REPO = "acme/api";
const HEAD = (c: string) => c.repeat(40).slice(0, 40);
const DAY = 86_400_000;
const now = Date.now();
const REASON = "payments outage INC-4711 <b>hotfix</b> agreed on the call";

let web: WebApp;
let browser: Browser;

beforeAll(async () => {
  web = await startWebApp([{ login: "alice", installations: { 1: [REPO] } }], { AGENT_GATE_ACCESS_CACHE_SECONDS: "0", AGENT_GATE_CHAIN_CHECK_SECONDS: "0" });
  await seedPullRequest(web.store, { repository: REPO, number: 21, title: "Charge cards in two steps", openedAt: new Date(now - 2 * DAY), risk: "high", conclusion: "action_required", headSha: HEAD("c") });
  await seedPullRequest(web.store, { repository: REPO, number: 22, title: "Docs typo", openedAt: new Date(now - DAY), risk: "low", conclusion: "success", headSha: HEAD("d") });
  const gate = new DatabaseGateStore(web.store);
  const key = { owner: "acme", repo: "api", number: 21, installationId: 1 };
  await gate.withPullRequestLock(key, async (scope) => {
    const overridden = await gate.latestDecision(key);
    if (!overridden) throw new Error("seeded decision missing");
    const comment = { id: 7001, url: "https://github.com/acme/api/pull/21#issuecomment-7001", createdAt: new Date(now).toISOString(), by: "oncall-olga", reason: REASON };
    const decided = await scope.recordOverride({ key, deliveryId: "d-override", event: "issue_comment.created", headSha: HEAD("c"), baseRef: "main", checkName: "Agent Gate: approval (main)", comment, via: "override.users", overridden, evaluatedAt: new Date(now) });
    await scope.recordPublished({ decided, deliveryId: "d-override", headSha: HEAD("c"), checkName: "Agent Gate: approval (main)", checkRunId: 6021, conclusion: "success", title: "Overridden by @oncall-olga" });
  });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
});

async function signIn(login: string): Promise<Page> {
  web.github.signInAs(login);
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(`${web.base}/audit`);
  await page.waitForURL(`${web.base}/audit`);
  return page;
}

describe("an overridden pull request on the compliance pages", () => {
  it("the list shows 'overridden' (not 'approved'), the filter finds it, the trail names who and why, the export marks it", async () => {
    const page = await signIn("alice");
    const decisionOf = (pr: number) => page.locator(`#prs tr[data-pr="${pr}"] td .decision`).textContent();
    await expect.poll(() => decisionOf(21)).toBe("overridden");
    expect(await decisionOf(22)).toBe("approved");

    await page.goto(`${web.base}/audit?decision=overridden`);
    expect(await page.$$eval("#prs tbody tr[data-pr]", (trs) => trs.map((tr) => tr.getAttribute("data-pr")))).toEqual(["21"]);
    await page.goto(`${web.base}/audit?decision=approved`);
    expect(await page.$$eval("#prs tbody tr[data-pr]", (trs) => trs.map((tr) => tr.getAttribute("data-pr")))).toEqual(["22"]);

    await page.goto(`${web.base}/audit/pr/acme/api/21`);
    const override = page.locator(".evaluation .override");
    expect(await override.count()).toBe(1);
    expect(await override.textContent()).toBe(`overridden by @oncall-olga (break-glass): ${REASON}`);
    // The reason is the commenter's text: shown as text, never as markup.
    expect(await page.locator(".evaluation .override b").count()).toBe(0);

    const response = await page.request.get(`${web.base}/audit/export.jsonl?repository=${encodeURIComponent(REPO)}&pr=21`);
    const entries = (await response.text()).trimEnd().split("\n").map((l) => JSON.parse(l) as { kind: string; payload: Record<string, unknown> });
    const applied = entries.find((e) => e.kind === "override_applied");
    expect(applied?.payload).toMatchObject({ by: "oncall-olga", reason: REASON, overrode: { conclusion: "action_required", title: "Waiting for a code owner" } });
    expect(entries.map((e) => e.kind).slice(-2)).toEqual(["override_applied", "check_published"]);
  });
});
