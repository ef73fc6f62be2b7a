/**
 * kill -9 while evaluations wait on GitHub, then a restart with no redelivery (issue 12, invariant 9): the real
 * server in a child process, a fake GitHub over HTTP, real Postgres and the embedded PGlite.
 *
 * While the App is killed, some evaluations wait on a read GitHub never answers, and some on a check-run POST
 * GitHub applied but never answered (the worst moment: the check exists on GitHub, the App has not heard of it).
 * After the restart every PR ends with exactly one check on its newest head, with the right conclusion, and every
 * check GitHub shows names its audit entry, which the chain holds.
 */
import { describe, expect, it } from "vitest";
import type { FakePull } from "../../bench/fake-github.js";
import { newPull, pullRequestEvent, push } from "../../bench/requests.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { crashLines, describePulls, drained, everyPullDecided, expectAuditedChecks, failureRun, pollUntil } from "./harness.js";

const run = failureRun();

/** A PR's events come from one of several installations, so the per-installation write limiter is not the bottleneck. */
function event(pull: FakePull, action: string) {
  const e = pullRequestEvent(pull, action);
  e.payload.installation.id = 1 + (pull.number % 4);
  return e;
}

const migration = (p: FakePull) => p.files[0]?.filename.startsWith("db/") ?? false;
const expected = (p: FakePull) => (migration(p) ? "action_required" : "success");

describe.each(["postgres", "pglite"] as const)("kill -9 on %s", (driver) => {
  it("invariant 9: kill -9 while evaluations wait on GitHub, restart without redelivery: one check on every newest head, each with its audit entry", { timeout: 600_000 }, async () => {
    const { fake, host } = await run.github();
    const storage = await run.storage(driver);
    const pulls = Array.from({ length: 12 }, (_, i) => newPull(fake, i + 1, 3, { migration: i >= 6 }));
    const [p1, p2, p3, p4, p5, , p7, p8, p9, p10, p11] = pulls as [FakePull, ...FakePull[]];
    const readsHang = new Set([p1, p2, p7, p8].map((p) => `/repos/acme/service/pulls/${p!.number}/files`));
    const postsHang = new Set([p3, p4, p9, p10].map((p) => p!.headSha));
    fake.hang = (method, route, body) => {
      if (method === "GET" && readsHang.has(route)) return "before";
      if (method === "POST" && route.endsWith("/check-runs") && postsHang.has((JSON.parse(body) as { head_sha: string }).head_sha)) return "after";
      return undefined;
    };

    const first = await run.app({ name: "App (to be killed)", githubHost: host, ...storage });
    for (const p of pulls) expect((await sendWebhook(first.webhookUrl, event(p, "opened"))).status).toBe(202);
    // Two PRs move on while their first evaluation is queued or running: only the newest head may end with a check.
    for (const p of [p5, p11]) {
      push(p!);
      expect((await sendWebhook(first.webhookUrl, event(p!, "synchronize"))).status).toBe(202);
    }
    await pollUntil("eight evaluations to wait on GitHub", () => fake.hung >= 8);
    expect(await first.kill("SIGKILL")).toBe("SIGKILL");
    // GitHub applied the hung POSTs: those check runs exist, and the App never heard their ids.
    expect(fake.checkRuns.filter((r) => postsHang.has(r.headSha))).toHaveLength(4);
    fake.hang = undefined;

    // No redelivery: the restart alone must finish the work.
    const second = await run.app({ name: "App (restarted)", githubHost: host, ...storage });
    // Decided, and the four check runs the killed App created without hearing back were found and updated by the
    // restarted one (until then their PRs only look decided: the runs show the killed App's decision).
    const replayed = () => fake.checkRuns.filter((r) => postsHang.has(r.headSha)).every((r) => r.updates >= 1);
    await pollUntil(`every PR decided on its newest head (${describePulls(fake, pulls)})`, () => everyPullDecided(fake, pulls, expected) && replayed(), 300_000);
    // PGlite: read once the App is gone; a job it was still finishing may stay pending (the next start resumes
    // it), but no delivery may be pending that no pending work covers (lost).
    const store = await drained(run, storage, second);

    expect(everyPullDecided(fake, pulls, expected), describePulls(fake, pulls)).toBe(true);
    // Exactly one check run per head GitHub has seen checked: the four whose POST was never answered were
    // found (by external_id and our App id) and updated, not created again.
    const heads = new Map<string, number>();
    for (const r of fake.checkRuns) heads.set(`${r.repo}@${r.headSha}`, (heads.get(`${r.repo}@${r.headSha}`) ?? 0) + 1);
    expect([...heads.values()].every((n) => n === 1), JSON.stringify([...heads])).toBe(true);
    expect(fake.checkRuns.filter((r) => postsHang.has(r.headSha)).every((r) => r.updates >= 1)).toBe(true);
    await expectAuditedChecks(store, fake);
    expect(crashLines(second)).toEqual([]);
  });
});
