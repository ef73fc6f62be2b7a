/**
 * Two replicas on one Postgres (issue 12, invariant 9): two real servers in child processes share the work of
 * 100 pull requests whose opened, synchronize and review events are sent to either replica at random, as a load
 * balancer would. No stale decision may end on any newest head, and no head gets two check runs.
 *
 * Postgres only by nature: PGlite is the database of the one process that opened it, so two replicas cannot share it.
 */
import { describe, expect, it } from "vitest";
import type { FakePull } from "../../bench/fake-github.js";
import { newPull, pullRequestEvent, push, review, reviewEvent } from "../../bench/requests.js";
import type { Delivery } from "../../bench/requests.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { crashLines, describePulls, drained, everyPullDecided, expectAuditedChecks, failureRun, pollUntil } from "./harness.js";
import { rows } from "../helpers/db.js";
import type { AppProcess } from "./harness.js";

const run = failureRun();

function withInstallation(pull: FakePull, e: Delivery): Delivery {
  e.payload.installation.id = 1 + (pull.number % 10);
  return e;
}

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe("two replicas on one Postgres", () => {
  it("invariant 9: two replicas racing opened, synchronize and review events for 100 PRs: no stale decision on a newest head, no duplicate check run", { timeout: 600_000 }, async () => {
    const { fake, host } = await run.github();
    const storage = await run.storage("postgres");
    // Slow enough that both replicas have evaluations of the same PRs in flight.
    fake.delay = (method) => (method === "GET" ? 15 : 40);
    const pulls = Array.from({ length: 100 }, (_, i) => newPull(fake, i + 1, 3, { migration: i % 2 === 1 }));
    // Started together (as a deploy does), each one registered at once so a failure of the other cannot orphan it.
    const started = (name: string) => run.app({ name, githubHost: host, ...storage });
    const [a, b] = await Promise.all([started("replica A"), started("replica B")]);
    const next = random(12);
    const pick = () => (next() < 0.5 ? a : b);
    const send = async (e: Delivery) => expect((await sendWebhook(pick().webhookUrl, e)).status).toBe(202);

    // Each PR, in GitHub's order: opened; a push (new head); for the high-risk half, the db team's approval of the
    // new head. Ten lanes send them, so the events of different PRs interleave.
    const lanes = pulls.map((p) => async () => {
      await send(withInstallation(p, pullRequestEvent(p, "opened")));
      push(p);
      await send(withInstallation(p, pullRequestEvent(p, "synchronize")));
      if (p.number % 2 === 0) {
        review(p, "dba-alice");
        await send(withInstallation(p, reviewEvent(p, "dba-alice")));
      }
    });
    await Promise.all(
      Array.from({ length: 10 }, async (_, lane) => {
        for (let i = lane; i < lanes.length; i += 10) await lanes[i]!();
      }),
    );

    // The newest head of a high-risk PR is approved by a member of the owning team: success; the rest stays low.
    const expected = () => "success";
    await pollUntil(`every PR decided on its newest head (${describePulls(fake, pulls)})`, () => everyPullDecided(fake, pulls, expected), 400_000);
    const store = await drained(run, storage, a);
    // Settled and still right: no late stale decision overwrote a newest head after the last look.
    expect(everyPullDecided(fake, pulls, expected), describePulls(fake, pulls)).toBe(true);

    const perHead = new Map<string, number>();
    for (const r of fake.checkRuns) perHead.set(r.headSha, (perHead.get(r.headSha) ?? 0) + 1);
    expect([...perHead].filter(([, n]) => n > 1)).toEqual([]);
    // Both replicas did work.
    const published = (app: AppProcess) => app.lines.filter((l) => l.includes('"msg":"published the approval check"')).length;
    expect(published(a)).toBeGreaterThan(0);
    expect(published(b)).toBeGreaterThan(0);
    const failed = await rows(store, "select guid from webhook_deliveries where outcome in ('pending', 'failed')");
    expect(failed).toEqual([]);
    await expectAuditedChecks(store, fake);
    expect([...crashLines(a), ...crashLines(b)]).toEqual([]);
  });
});
