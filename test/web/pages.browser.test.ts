/**
 * The compliance pages in a real browser: Debian's Chromium driven by playwright-core, against the App server as
 * `npm start` runs it, with GitHub's OAuth and user API faked by a local server.
 */
import { parse } from "csv-parse/sync";
import { sql } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_ID } from "./fake-github.js";
import { launchBrowser, nativeTrace, seedPullRequest, startWebApp, type WebApp } from "./harness.js";

const REPO_A = "acme/api";
const REPO_B = "acme/payroll";
const HEAD = (c: string) => c.repeat(40).slice(0, 40);
const DAY = 86_400_000;
const now = Date.now();

let web: WebApp;
let browser: Browser;

beforeAll(async () => {
  web = await startWebApp(
    [
      { login: "alice", installations: { 1: [REPO_A, REPO_B] } },
      { login: "bob", installations: { 1: [REPO_A] } },
    ],
    { AGENT_GATE_ACCESS_CACHE_SECONDS: "0", AGENT_GATE_CHAIN_CHECK_SECONDS: "0" },
  );
  const trace = nativeTrace();
  await seedPullRequest(web.store, {
    repository: REPO_A, number: 11, title: "Add rate limiting to the API client", openedAt: new Date(now - 9 * DAY), risk: "low", conclusion: "success", headSha: HEAD("a"),
    approvals: [{ reviewer: "carol", counted: true, reason: "counts as a code owner for r1 (services/payments/charge.ts)" }], telemetry: { trace, accepted: true },
  });
  await seedPullRequest(web.store, {
    repository: REPO_A, number: 12, title: "Charge cards in two steps", openedAt: new Date(now - 2 * DAY), risk: "high", conclusion: "action_required", headSha: HEAD("c"),
    approvals: [{ reviewer: "github-actions[bot]", counted: false, reason: "a bot never counts as an approver" }], telemetry: { trace, accepted: false, reasons: ["workflow .github/workflows/other.yml is not allowlisted"] },
  });
  await seedPullRequest(web.store, { repository: REPO_A, number: 13, title: "Rotate deploy keys", openedAt: new Date(now - 1 * DAY), risk: "critical", conclusion: "failure", headSha: HEAD("e") });
  await seedPullRequest(web.store, { repository: REPO_B, number: 7, title: "B-ONLY payroll export", openedAt: new Date(now - 3 * DAY), risk: "medium", conclusion: "success", headSha: HEAD("f"), approvals: [{ reviewer: "dave", counted: true, reason: "counts" }] });
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

async function rowsOf(page: Page): Promise<string[]> {
  return page.$$eval("#prs tbody tr[data-pr]", (trs) => trs.map((tr) => `${tr.getAttribute("data-repo")}#${tr.getAttribute("data-pr")}`));
}

async function download(page: Page, path: string): Promise<string> {
  // The browser's own request, with its session cookie, so the export is what this reader may see.
  const response = await page.request.get(`${web.base}${path}`);
  expect(response.status()).toBe(200);
  return response.text();
}

describe("compliance pages in Chromium", () => {
  it("sends an unauthenticated visit to /audit/login, then to GitHub's authorize page with the App's client id", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const before = web.github.authorizeQueries.length;
    web.github.signInAs("alice");
    const response = await page.goto(`${web.base}/audit/log?kind=check_published`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${web.base}/audit/log?kind=check_published`);
    const query = web.github.authorizeQueries[before];
    expect(query?.get("client_id")).toBe(CLIENT_ID);
    expect(query?.get("redirect_uri")).toBe(`${web.base}/audit/callback`);
    expect(query?.get("state")).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await context.close();
  });

  it("sign in, see the list, filter it, open a PR's trail, export CSV and JSONL", async () => {
    const page = await signIn("alice");
    expect(await page.textContent("header .who span")).toBe("alice");
    expect(await rowsOf(page)).toEqual([`${REPO_A}#13`, `${REPO_A}#12`, `${REPO_B}#7`, `${REPO_A}#11`]);
    const row11 = page.locator('#prs tr[data-pr="11"]');
    await expect.poll(() => row11.locator("td").nth(5).textContent()).toBe("approved");
    expect(await row11.locator("td").nth(6).textContent()).toContain("carol at aaaaaaa");
    expect(await row11.locator("td").nth(3).textContent()).toContain("codex");
    expect(await page.locator('#prs tr[data-pr="12"] td').nth(7).textContent()).toContain("not allowlisted");

    await page.selectOption('select[name="risk"]', "high");
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/risk=high/);
    expect(await rowsOf(page)).toEqual([`${REPO_A}#12`]);
    await page.goto(`${web.base}/audit?decision=approved&repository=${encodeURIComponent(REPO_A)}`);
    expect(await rowsOf(page)).toEqual([`${REPO_A}#11`]);
    await page.goto(`${web.base}/audit?from=${new Date(now - 2 * DAY).toISOString().slice(0, 10)}`);
    expect(await rowsOf(page)).toEqual([`${REPO_A}#13`, `${REPO_A}#12`]);

    await page.goto(`${web.base}/audit`);
    await page.click('#prs tr[data-pr="11"] td:nth-child(2) a:first-child');
    await page.waitForURL(`${web.base}/audit/pr/acme/api/11`);
    expect(await page.textContent("h1")).toContain("Add rate limiting to the API client");
    expect(await page.textContent("#evaluation-1")).toContain("carol");
    expect(await page.locator(".approvals .counted").count()).toBe(1);
    expect(await page.textContent("#rationale")).toContain("Use a token bucket in the client");
    expect(await page.textContent("#network")).toContain("evil.example.com");
    const entries = await page.$$eval("tr[data-entry]", (trs) => trs.map((tr) => tr.querySelector("code")?.textContent));
    expect(entries).toEqual(["evaluation_decided", "check_published", "approval_counted", "telemetry_accepted"]);

    const jsonl = (await download(page, `/audit/export.jsonl?repository=${encodeURIComponent(REPO_A)}&pr=11`)).trimEnd().split("\n").map((l) => JSON.parse(l) as { kind: string; repository: string; pullRequest: number; hash: string });
    expect(jsonl.map((e) => e.kind)).toEqual(["evaluation_decided", "check_published", "approval_counted", "telemetry_accepted"]);
    expect(jsonl.every((e) => e.repository === REPO_A && e.pullRequest === 11)).toBe(true);
    const csv = parse(await download(page, `/audit/export.csv?repository=${encodeURIComponent(REPO_A)}&pr=11`), { columns: true }) as Array<Record<string, string>>;
    expect(csv.map((r) => r.kind)).toEqual(jsonl.map((e) => e.kind));
    expect(csv.map((r) => r.hash)).toEqual(jsonl.map((e) => e.hash));
    expect(Object.keys(csv[0] ?? {})).toEqual(["id", "created_at", "kind", "repository", "pull_request", "delivery_id", "payload", "prev_hash", "hash"]);
    await page.context().close();
  });

  it("a user who can read repo A but not repo B never sees B: not in the list, not by URL, not in an export", async () => {
    const page = await signIn("bob");
    expect(await rowsOf(page)).toEqual([`${REPO_A}#13`, `${REPO_A}#12`, `${REPO_A}#11`]);
    expect(await page.content()).not.toContain("B-ONLY");
    expect(await page.$$eval('select[name="repository"] option', (os) => os.map((o) => o.getAttribute("value")))).toEqual(["", REPO_A]);
    // Filtering the list by B, or opening B's PR by URL, shows nothing of it.
    await page.goto(`${web.base}/audit?repository=${encodeURIComponent(REPO_B)}`);
    expect(await rowsOf(page)).toEqual([]);
    const byUrl = await page.goto(`${web.base}/audit/pr/acme/payroll/7`);
    expect(byUrl?.status()).toBe(404);
    expect(await page.content()).not.toContain("B-ONLY");
    // The same answer as a PR that does not exist: B's existence is not revealed either.
    const missing = await page.goto(`${web.base}/audit/pr/acme/api/999`);
    expect(missing?.status()).toBe(404);
    expect(await page.textContent("main")).toBe(await (async () => (await page.goto(`${web.base}/audit/pr/acme/payroll/7`), page.textContent("main")))());
    // Exports: everything bob may see has no entry of B; asking for B gives no rows.
    const all = (await download(page, "/audit/export.jsonl")).trimEnd().split("\n").map((l) => JSON.parse(l) as { repository: string });
    expect(all.length).toBeGreaterThan(5);
    expect(new Set(all.map((e) => e.repository))).toEqual(new Set([REPO_A]));
    expect(await download(page, `/audit/export.jsonl?repository=${encodeURIComponent(REPO_B)}`)).toBe("");
    const csv = parse(await download(page, `/audit/export.csv?repository=${encodeURIComponent(REPO_B)}`), { columns: true }) as unknown[];
    expect(csv).toEqual([]);
    await page.goto(`${web.base}/audit/log`);
    expect(await page.$$eval("tr[data-entry] td:nth-child(4)", (tds) => [...new Set(tds.map((td) => td.textContent?.split("#")[0]))])).toEqual([REPO_A]);
    // GitHub takes B away from alice too: her next request no longer shows it (access is checked on every request).
    const alice = await signIn("alice");
    expect(await rowsOf(alice)).toContain(`${REPO_B}#7`);
    web.github.setRepositories("alice", { 1: [REPO_A] });
    await alice.reload();
    expect(await rowsOf(alice)).not.toContain(`${REPO_B}#7`);
    web.github.setRepositories("alice", { 1: [REPO_A, REPO_B] });
    await alice.context().close();
    await page.context().close();
  });

  it("hostile agent text in a rationale renders inert: no dialog, no request leaves the page", async () => {
    const hostile = nativeTrace([
      {
        time: "2025-10-09T08:03:40Z",
        type: "decision",
        decision: "<script>alert('summary')</script><img src=x onerror=alert(1)>",
        rationale: "Close the tag </blockquote><script>alert(document.cookie)</script>\n<a href=\"javascript:alert(2)\">click</a> [md link](javascript:alert(3)) ![px](http://198.51.100.7/track.png) <svg onload=alert(4)>",
        alternatives: ["<iframe src=\"http://198.51.100.7/\"></iframe>", "\" onmouseover=\"alert(5)"],
        files: ["<b onclick=alert(6)>x</b>"],
      },
    ]);
    await seedPullRequest(web.store, { repository: REPO_A, number: 66, title: "<script>alert('title')</script>", openedAt: new Date(now - DAY / 2), risk: "medium", conclusion: "action_required", headSha: HEAD("6"), telemetry: { trace: hostile, accepted: true } });
    const page = await signIn("alice");
    const dialogs: string[] = [];
    const outside: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(`${web.base}/`)) outside.push(r.url());
    });
    await page.goto(`${web.base}/audit`);
    expect(await page.textContent('#prs tr[data-pr="66"] td:nth-child(3)')).toContain("<script>alert('title')</script>");
    await page.goto(`${web.base}/audit/pr/acme/api/66`);
    await page.hover("#rationale");
    expect(await page.textContent("#rationale")).toContain("<script>alert(document.cookie)</script>");
    expect(await page.$$eval("#rationale script, #rationale img, #rationale iframe, #rationale svg, #rationale [onerror], #rationale [onclick], #rationale [onload], #rationale [onmouseover]", (els) => els.length)).toBe(0);
    expect(await page.$$eval("a[href]", (as) => as.map((a) => a.getAttribute("href")).filter((h) => /^\s*javascript:/i.test(h ?? "")))).toEqual([]);
    expect(await page.$$eval("script", (s) => s.length)).toBe(0);
    const response = await page.request.get(`${web.base}/audit/pr/acme/api/66`);
    expect(response.headers()["content-security-policy"]).toContain("default-src 'none'");
    expect(response.headers()["content-security-policy"]).not.toContain("script-src");
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(outside).toEqual([]);
    await page.context().close();
  });

  it("signing out ends the session; a revoked GitHub token ends it too", async () => {
    const page = await signIn("bob");
    await page.click("header .who button");
    await page.waitForURL(`${web.base}/audit/logged-out`);
    const after = await page.request.get(`${web.base}/audit`, { maxRedirects: 0 });
    expect(after.status()).toBe(302);
    expect(after.headers().location).toBe("/audit/login?next=%2Faudit");
    await page.context().close();

    const again = await signIn("bob");
    expect(await rowsOf(again)).toContain(`${REPO_A}#11`);
    const bobSessions = async () => {
      const rows = await web.store.db.execute(sql`select login from web_sessions where login = 'bob'`);
      return (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows).length;
    };
    const before = await bobSessions();
    web.github.revoke("bob");
    const revoked = await again.request.get(`${web.base}/audit`, { maxRedirects: 0 });
    expect(revoked.status()).toBe(302);
    expect(revoked.headers().location).toMatch(/^\/audit\/login/);
    // The session row is gone, so the old cookie keeps failing even if the token worked again.
    expect(await bobSessions()).toBe(before - 1);
    await again.context().close();
  });

  it("a POST from another origin is refused (CSRF) and pages carry no inline script", async () => {
    const page = await signIn("alice");
    const forged = await page.request.post(`${web.base}/audit/logout`, { headers: { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" }, data: "", maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(await rowsOf(page)).not.toEqual([]);
    const response = await page.request.get(`${web.base}/audit`);
    const headers = response.headers();
    expect(headers["content-security-policy"]).toBe("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    const cookies = await page.context().cookies(web.base);
    const session = cookies.find((c) => c.name === "agent_gate_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false });
    expect(await page.$$eval("script, [onclick], [onload]", (els) => els.length)).toBe(0);
    await page.context().close();
  });

  it("invariant 8 (tamper-evident): a tampered audit entry shows the chain as broken, naming the entry", async () => {
    const page = await signIn("alice");
    await page.goto(`${web.base}/audit/log`);
    expect(await page.textContent("#chain-status")).toContain("Chain intact");
    const rows = await web.store.db.execute(sql`select id from audit_log where repository = ${REPO_A} and pull_request = 12 and kind = 'check_published'`);
    const target = Number(((Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows)[0] as { id: unknown }).id);
    await web.store.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
    await web.store.db.execute(sql`update audit_log set payload = '{"checkRunId":1,"conclusion":"success"}' where id = ${target}`);
    await web.store.db.execute(sql`alter table audit_log enable trigger audit_log_no_update_delete`);
    await page.reload();
    const status = await page.textContent("#chain-status");
    expect(status).toContain("Chain BROKEN");
    expect(status).toContain(`at entry ${target} (hash mismatch)`);
    expect(await page.getAttribute(`#entry-${target}`, "class")).toBe("broken");
    await page.goto(`${web.base}/audit/pr/acme/api/12`);
    expect(await page.textContent("#chain-status")).toContain(`at entry ${target}`);
    expect(await page.textContent(`#entry-${target}`)).toContain("broken");
    await page.context().close();
  });
});

