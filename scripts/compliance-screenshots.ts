/**
 * `npx tsx scripts/compliance-screenshots.ts`: rewrites docs/compliance-list.png and docs/compliance-trail.png,
 * the screenshots the README shows. The App server with an embedded database seeded with example agent PRs,
 * GitHub faked by the tests' local server, Debian's Chromium (as in test/web).
 */
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { launchBrowser, nativeTrace, seedPullRequest, startWebApp } from "../test/web/harness.js";

const DAY = 86_400_000;
const now = Date.now();
const sha = (c: string) => c.repeat(40).slice(0, 40);
const out = (name: string) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));

const web = await startWebApp([{ login: "compliance-lead", installations: { 1: ["acme/api", "acme/web", "acme/infra"] } }]);
try {
  const trace = nativeTrace();
  const repos = ["acme/api", "acme/web", "acme/infra"];
  const risks = ["low", "medium", "high", "critical"] as const;
  const titles = ["Add rate limiting to the API client", "Upgrade the date library", "Add an index on orders.created_at", "Rotate the deploy key", "Fix flaky login test", "Move the CDN config to Terraform", "Document the retry policy", "Split the payments service"];
  let n = 100;
  for (let week = 9; week >= 0; week--) {
    for (let i = 0; i < 1 + ((week * 7) % 4); i++) {
      n++;
      const risk = risks[(n * 3 + week) % 4] ?? "low";
      const conclusion = week < 1 && i === 0 ? "action_required" : risk === "critical" && n % 2 === 0 ? "failure" : "success";
      const opened = new Date(now - week * 7 * DAY - i * DAY - 3600_000 * (n % 20));
      await seedPullRequest(web.store, {
        repository: repos[n % 3] ?? "acme/api",
        number: n,
        title: titles[n % titles.length] ?? "Agent change",
        openedAt: opened,
        risk,
        conclusion,
        headSha: sha((n % 10).toString()),
        approvals: conclusion === "success" ? [{ reviewer: ["carol", "dmitri", "priya"][n % 3] ?? "carol", counted: true, reason: "counts as a code owner for r1 (services/payments/charge.ts)" }] : [],
        telemetry: { trace, accepted: n % 5 !== 0, reasons: n % 5 === 0 ? ["workflow .github/workflows/other.yml is not allowlisted"] : [] },
      });
    }
  }
  // Decided some hours after opening (the seed records every evaluation "now"), so the approval-time chart has a shape.
  await web.store.db.execute(
    sql`update evaluations e set created_at = p.opened_at + (e.pull_request % 9) * interval '7 hours' + interval '35 minutes' from pull_requests p where p.repository = e.repository and p.pull_request = e.pull_request and e.conclusion <> 'action_required'`,
  );
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
    await page.goto(`${web.base}/audit`);
    await page.waitForURL(`${web.base}/audit`);
    await page.screenshot({ path: out("compliance-list.png"), fullPage: false });
    await page.click("#prs tbody tr:nth-child(3) td:nth-child(2) a:first-child");
    await page.waitForURL(/\/audit\/pr\//);
    await page.screenshot({ path: out("compliance-trail.png"), fullPage: true });
  } finally {
    await browser.close();
  }
} finally {
  await web.stop();
}
