/**
 * A deploy (SIGTERM) in the middle of a burst of 200 deliveries (issue 12): the real server in a child process,
 * a fake GitHub over HTTP, on real Postgres and on the embedded default (PGlite in a data directory, which the
 * new version opens once the old one has exited, as a deploy on one machine does). The App stops taking deliveries, lets running jobs finish within
 * SHUTDOWN_TIMEOUT_SECONDS and hands the rest back to the queue. Deliveries it refused while stopping are
 * redelivered (as GitHub shows them failed); nothing answered 202 is redelivered. After the restart every PR is
 * decided on its newest head, and nothing is decided or published twice.
 */
import { describe, expect, it } from "vitest";
import type { FakePull } from "../../bench/fake-github.js";
import { newPull, pullRequestEvent, push } from "../../bench/requests.js";
import type { Delivery } from "../../bench/requests.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { crashLines, describePulls, drained, everyPullDecided, expectAuditedChecks, failureRun, pollUntil } from "./harness.js";
import { rows } from "../helpers/db.js";

const run = failureRun();

const INSTALLATIONS = 10;

function event(pull: FakePull, action: string): Delivery {
  const e = pullRequestEvent(pull, action);
  e.payload.installation.id = 1 + (pull.number % INSTALLATIONS);
  return e;
}

/** Sends each delivery once, `concurrency` at a time; returns those not answered 2xx (refused or unanswered). */
async function burst(url: () => string, deliveries: Array<{ id: string; event: Delivery }>, concurrency: number, onSent: (n: number) => Promise<void>): Promise<Array<{ id: string; event: Delivery }>> {
  const refused: Array<{ id: string; event: Delivery }> = [];
  let next = 0;
  let sent = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const d = deliveries[next++]!;
      const status = await sendWebhook(url(), d.event, { id: d.id }).then((r) => r.status, () => 0);
      if (status < 200 || status > 299) refused.push(d);
      await onSent(++sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return refused;
}

describe.each(["postgres", "pglite"] as const)("SIGTERM during a burst on %s", (driver) => {
  it("invariant 9: SIGTERM during a burst of 200 deliveries: after the restart all are decided, none twice", { timeout: 600_000 }, async () => {
    const { fake, host } = await run.github();
    const storage = await run.storage(driver);
    const env = { SHUTDOWN_TIMEOUT_SECONDS: "10" };
    const pulls = Array.from({ length: 100 }, (_, i) => newPull(fake, i + 1, 3, { migration: i % 2 === 1 }));
    // 200 deliveries: every PR is opened, then pushed to (a new head) while its first evaluation is queued or running.
    const deliveries: Array<{ id: string; event: Delivery }> = [];
    for (const p of pulls) deliveries.push({ id: `open-${p.number}`, event: event(p, "opened") });
    for (const p of pulls) {
      push(p);
      deliveries.push({ id: `sync-${p.number}`, event: event(p, "synchronize") });
    }
    expect(deliveries).toHaveLength(200);
    // GitHub is a little slow, so evaluations are in flight when the signal comes.
    fake.delay = (method) => (method === "GET" ? 20 : 60);

    let current = await run.app({ name: "App (deployed over)", githubHost: host, ...storage, env });
    const first = current;
    let stopping: Promise<string> | undefined;
    const refused = await burst(() => current.webhookUrl, deliveries, 10, async (sent) => {
      if (sent !== 120 || stopping) return;
      // A deploy: SIGTERM while deliveries keep arriving and jobs run.
      await pollUntil("some checks to be published before the signal", () => fake.checkRuns.length >= 5, 120_000);
      stopping = first.kill("SIGTERM");
    });
    expect(await stopping).toBe("0");
    expect(crashLines(first)).toEqual([]);

    current = await run.app({ name: "App (new version)", githubHost: host, ...storage, env });
    // What GitHub would show as failed is redelivered with its GUID; nothing answered 2xx is.
    const again = await burst(() => current.webhookUrl, refused, 5, () => Promise.resolve());
    expect(again).toEqual([]);

    const expected = (p: FakePull) => (p.files[0]?.filename.startsWith("db/") ? "action_required" : "success");
    await pollUntil(`every PR decided on its newest head (${describePulls(fake, pulls)})`, () => everyPullDecided(fake, pulls, expected), 400_000);
    const store = await drained(run, storage, current);

    // All 200 deliveries are recorded and handled (coalesced ones too), none failed. Postgres: none still
    // pending. PGlite is read once the App is stopped: a job it was still finishing may leave its work pending
    // for the next start, never lost (drained checks that).
    const outcomes = await rows<{ outcome: string; n: number }>(store, "select outcome, count(*)::int as n from webhook_deliveries group by outcome");
    expect(outcomes.reduce((sum, o) => sum + Number(o.n), 0)).toBe(200);
    expect(outcomes.find((o) => o.outcome === "failed")).toBeUndefined();
    if (driver === "postgres") expect(outcomes.find((o) => o.outcome === "pending")).toBeUndefined();
    // None twice: one check run per head ever checked, and no delivery's decision published twice.
    const perHead = new Map<string, number>();
    for (const r of fake.checkRuns) perHead.set(r.headSha, (perHead.get(r.headSha) ?? 0) + 1);
    expect([...perHead].filter(([, n]) => n > 1)).toEqual([]);
    const twice = await rows<{ delivery_id: string; n: number }>(store, "select delivery_id, count(*)::int as n from audit_log where kind = 'check_published' group by delivery_id having count(*) > 1");
    expect(twice).toEqual([]);
    await expectAuditedChecks(store, fake);
    expect(crashLines(current)).toEqual([]);
  });
});
