/**
 * The merged and closed states on the agent PR list, in Chromium (issue 15): a PR recorded as merged (what
 * pull_request.closed with merged=true records; test/app/closed.test.ts covers the webhook) shows "merged", a closed
 * one "closed", and the decision filter finds each; each trail page says so too.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, seedPullRequest, startWebApp, type WebApp } from "./harness.js";

const REPO = "acme/api";
let web: WebApp;
let browser: Browser;
let closedAt: Date;

beforeAll(async () => {
  web = await startWebApp([{ login: "alice", installations: { 1: [REPO] } }], { AGENT_GATE_ACCESS_CACHE_SECONDS: "0" });
  const openedAt = new Date(Date.now() - 86_400_000);
  await seedPullRequest(web.store, { repository: REPO, number: 21, title: "Merged change", openedAt, risk: "high", conclusion: "success", headSha: "1".repeat(40) });
  await seedPullRequest(web.store, { repository: REPO, number: 22, title: "Abandoned change", openedAt, risk: "low", conclusion: "action_required", headSha: "2".repeat(40) });
  await seedPullRequest(web.store, { repository: REPO, number: 23, title: "Still open", openedAt, risk: "low", conclusion: "success", headSha: "3".repeat(40) });
  closedAt = new Date();
  await web.store.pullRequests.markClosed({ repository: REPO, pullRequest: 21, title: "Merged change", closedAt, mergedAt: closedAt, mergedBy: "carol" });
  await web.store.pullRequests.markClosed({ repository: REPO, pullRequest: 22, title: "Abandoned change", closedAt, mergedAt: null, mergedBy: null });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
});

async function signIn(): Promise<Page> {
  web.github.signInAs("alice");
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(`${web.base}/audit`);
  await page.waitForURL(`${web.base}/audit`);
  return page;
}

const decisions = (page: Page) => page.$$eval("#prs tbody tr[data-pr]", (trs) => trs.map((tr) => `#${tr.getAttribute("data-pr")} ${tr.querySelector(".decision")?.textContent ?? ""}`));

describe("merged and closed agent PRs in Chromium", () => {
  it("the list shows merged and closed PRs as such, and the decision filter (a choice in the form) selects them", async () => {
    const page = await signIn();
    expect((await decisions(page)).sort()).toEqual(["#21 merged", "#22 closed", "#23 approved"]);
    const options = await page.$$eval('select[name="decision"] option', (os) => os.map((o) => o.getAttribute("value")));
    expect(options).toEqual(expect.arrayContaining(["merged", "closed"]));
    await page.selectOption('select[name="decision"]', "merged");
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/decision=merged/);
    expect(await decisions(page)).toEqual(["#21 merged"]);
    await page.goto(`${web.base}/audit?decision=closed`);
    expect(await decisions(page)).toEqual(["#22 closed"]);
    await page.goto(`${web.base}/audit?decision=approved`);
    expect(await decisions(page)).toEqual(["#23 approved"]);
  });

  it("each PR's trail page says merged (by whom, when) or closed without merging; an open PR's says neither", async () => {
    const page = await signIn();
    const state = async (n: number) => {
      await page.goto(`${web.base}/audit/pr/${REPO}/${n}`);
      await page.waitForSelector("h1");
      return page.$$eval("#state", (els) => els.map((e) => e.textContent?.replace(/\s+/g, " ").trim() ?? ""));
    };
    const minute = closedAt.toISOString().slice(0, 16).replace("T", " ");
    expect(await state(21)).toEqual([`merged by carol · ${minute} UTC`]);
    expect(await page.$eval("#state .decision", (e) => e.className)).toBe("decision decision-merged");
    expect(await state(22)).toEqual([`closed without merging · ${minute} UTC`]);
    expect(await state(23)).toEqual([]);
  });
});
