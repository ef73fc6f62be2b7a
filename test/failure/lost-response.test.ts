/**
 * The answer to a check-run POST is lost after GitHub applied it (the fake GitHub creates the run, then destroys
 * the socket): the App must not create a second one (issue 12, invariant 9). Real server in a child process, a
 * fake GitHub over HTTP, on real Postgres and on the embedded default (PGlite in a data directory).
 */
import { describe, expect, it } from "vitest";
import type { FakePull } from "../../bench/fake-github.js";
import { newPull, pullRequestEvent } from "../../bench/requests.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { crashLines, describePulls, drained, everyPullDecided, expectAuditedChecks, failureRun, pollUntil } from "./harness.js";

const run = failureRun();

describe.each(["postgres", "pglite"] as const)("a lost check-run response on %s", (driver) => {
  it("invariant 9: GitHub applied the POST and the answer was lost: still one check run per head, updated to the decision", { timeout: 300_000 }, async () => {
    const { fake, host } = await run.github();
    const storage = await run.storage(driver);
    const pulls = Array.from({ length: 6 }, (_, i) => newPull(fake, i + 1, 3, { migration: i % 2 === 1 }));
    // The first POST for every head is applied, then its connection is destroyed before any answer.
    const lost = new Set<string>();
    fake.loseResponse = (method, route) => {
      if (method !== "POST" || !route.endsWith("/check-runs")) return false;
      const created = fake.checkRuns.at(-1)!;
      if (lost.has(created.headSha)) return false;
      lost.add(created.headSha);
      return true;
    };

    const app = await run.app({ name: "App", githubHost: host, ...storage });
    for (const p of pulls) {
      const e = pullRequestEvent(p, "opened");
      e.payload.installation.id = 1 + (p.number % 3);
      expect((await sendWebhook(app.webhookUrl, e)).status).toBe(202);
    }
    const expected = (p: FakePull) => (p.files[0]?.filename.startsWith("db/") ? "action_required" : "success");
    await pollUntil(`every PR decided (${describePulls(fake, pulls)})`, () => everyPullDecided(fake, pulls, expected));
    const store = await drained(run, storage, app);

    expect(lost.size).toBe(pulls.length);
    expect(fake.checkRuns).toHaveLength(pulls.length);
    // Each was found on GitHub (by name, external_id and our App id) and updated, not created again.
    expect(fake.checkRuns.every((r) => r.updates >= 1)).toBe(true);
    expect(fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/check-runs"))).toHaveLength(pulls.length);
    await expectAuditedChecks(store, fake);
    expect(crashLines(app)).toEqual([]);
  });
});
