/**
 * Postgres stopped for 10 s during a burst (issue 12, invariant 9): a private cluster (initdb in a temporary
 * directory, another port) so only the test's own database goes down; the real server in a child process; a fake
 * GitHub over HTTP.
 *
 * - No delivery answered 2xx is lost: each one's PR ends decided on its newest head. Deliveries answered 5xx
 *   during the outage are the ones GitHub lists as failed; they are redelivered (as an operator or the
 *   reconciliation pass would) once the database is back.
 * - None is published as a GitHub failure: a database error is retried, never a "could not evaluate" check.
 * - The App survives it (no unhandled rejection from pg-boss, no postgres.js CONNECTION_CLOSED crash).
 *
 * Postgres only by nature: the embedded PGlite runs inside the App's own process, so it cannot go down while
 * the App stays up (a crash of the process is kill.test.ts, on both).
 */
import { describe, expect, it } from "vitest";
import type { FakePull } from "../../bench/fake-github.js";
import { newPull, pullRequestEvent } from "../../bench/requests.js";
import type { Delivery } from "../../bench/requests.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { crashLines, describePulls, drained, everyPullDecided, expectAuditedChecks, failureRun, pollUntil } from "./harness.js";
import { rows } from "../helpers/db.js";

const run = failureRun();

function event(pull: FakePull): Delivery {
  const e = pullRequestEvent(pull, "opened");
  e.payload.installation.id = 1 + (pull.number % 8);
  return e;
}

describe("a Postgres outage during a burst", () => {
  it("invariant 9: Postgres stopped for 10 s during a burst: nothing answered 2xx is lost, nothing is published as a GitHub failure", { timeout: 600_000 }, async () => {
    const cluster = await run.cluster();
    const { fake, host } = await run.github();
    // GitHub a little slow, so evaluations are in flight (between their reads and their writes) when it goes down.
    fake.delay = (method) => (method === "GET" ? 30 : 80);
    const pulls = Array.from({ length: 60 }, (_, i) => newPull(fake, i + 1, 3, { migration: i % 3 === 0 }));
    const storage = { driver: "postgres" as const, databaseUrl: cluster.url };
    const app = await run.app({ name: "App", githubHost: host, ...storage });

    const accepted: string[] = [];
    const refused: Array<{ id: string; event: Delivery }> = [];
    let outage: Promise<void> | undefined;
    let down = false;
    for (const [i, p] of pulls.entries()) {
      if (i === 20) {
        await pollUntil("some checks before the outage", () => fake.checkRuns.length >= 3, 120_000);
        down = true;
        await cluster.stop();
        // Ten seconds down, measured from the moment it is down; deliveries keep coming meanwhile.
        outage = new Promise<void>((resolve) => setTimeout(resolve, 10_000)).then(async () => {
          await cluster.start();
          down = false;
        });
      }
      const id = `d-${p.number}`;
      const status = await sendWebhook(app.webhookUrl, event(p), { id }).then((r) => r.status, () => 0);
      if (status >= 200 && status < 300) accepted.push(id);
      else refused.push({ id, event: event(p) });
      // Spread the burst over the outage: a delivery every 150 ms while it lasts.
      if (down) await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await outage;
    expect(app.alive(), app.lines.slice(-20).join("\n")).toBe(true);
    // Some deliveries came while it was down (answered 5xx: nothing recorded, GitHub shows them failed).
    expect(refused.length).toBeGreaterThan(0);
    for (const d of refused) expect((await sendWebhook(app.webhookUrl, d.event, { id: d.id })).status).toBe(202);

    const expected = (p: FakePull) => (p.files[0]?.filename.startsWith("db/") ? "action_required" : "success");
    await pollUntil(`every PR decided (${describePulls(fake, pulls)})`, () => everyPullDecided(fake, pulls, expected), 400_000);
    const store = await drained(run, storage, app);

    // Not one "could not evaluate" (let alone one naming GitHub) reached a pull request.
    expect(fake.checkRuns.filter((r) => r.conclusion === "failure" || /could not evaluate|GitHub answered/i.test(r.summary))).toEqual([]);
    const outcomes = await rows<{ guid: string; outcome: string }>(store, "select guid, outcome from webhook_deliveries");
    expect(outcomes).toHaveLength(pulls.length);
    expect(outcomes.filter((o) => o.outcome !== "processed")).toEqual([]);
    await expectAuditedChecks(store, fake);
    expect(app.alive()).toBe(true);
    expect(crashLines(app)).toEqual([]);
  });
});
