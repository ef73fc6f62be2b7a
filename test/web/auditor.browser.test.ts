/** Read-only auditor tokens in Chromium: sign in without a GitHub account, see only the configured repositories. */
import { createHash } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, seedPullRequest, startWebApp, type WebApp } from "./harness.js";

const TOKEN = "aud_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
let web: WebApp;
let browser: Browser;

beforeAll(async () => {
  const hash = createHash("sha256").update(TOKEN).digest("hex");
  web = await startWebApp([{ login: "alice", installations: { 1: ["acme/api"] } }], { AGENT_GATE_AUDITOR_TOKENS: `external-audit:${hash}:acme/api` });
  await seedPullRequest(web.store, { repository: "acme/api", number: 1, title: "visible", openedAt: new Date(), risk: "low", conclusion: "success", headSha: "1".repeat(40) });
  await seedPullRequest(web.store, { repository: "acme/hidden", number: 2, title: "HIDDEN-TITLE", openedAt: new Date(), risk: "high", conclusion: "failure", headSha: "2".repeat(40) });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
});

describe("auditor tokens", () => {
  it("a configured token signs in read-only to its repositories; a wrong one is refused", async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(`${web.base}/audit/pr/acme/api/1`);
    expect(new URL(page.url()).pathname).toBe("/audit/login");
    expect(await page.getAttribute("#github-login", "href")).toContain("via=github");
    await page.fill('input[name="token"]', "wrong-token");
    await page.click('form[action="/audit/login/token"] button');
    expect(await page.textContent('[role="alert"]')).toContain("not valid");
    await page.fill('input[name="token"]', TOKEN);
    await page.click('form[action="/audit/login/token"] button');
    await page.waitForURL(`${web.base}/audit/pr/acme/api/1`);
    expect(await page.textContent("header .who span")).toBe("external-audit (auditor token)");
    await page.goto(`${web.base}/audit`);
    expect(await page.$$eval("#prs tbody tr[data-pr]", (trs) => trs.map((tr) => tr.getAttribute("data-repo")))).toEqual(["acme/api"]);
    expect(await page.content()).not.toContain("HIDDEN-TITLE");
    expect((await page.goto(`${web.base}/audit/pr/acme/hidden/2`))?.status()).toBe(404);
    // Read-only: the pages offer no action on GitHub, and the session cannot post anything but sign-out.
    expect(await page.$$eval("form[method=post]", (fs) => fs.map((f) => f.getAttribute("action")))).toEqual(["/audit/logout"]);
    await context.close();
  });
});
