/**
 * kill -9 while evaluations wait on GitHub, then a restart with no redelivery (issue 12, invariant 9): the real
 * server in a child process, a fake GitHub over HTTP, real Postgres and the embedded PGlite.
 *
 * While the App is killed, some evaluations wait on a read GitHub never answers, and some on a check-run POST
 * GitHub applied but never answered (the worst moment: the check exists on GitHub, the App has not heard of it).
 * After the restart every PR ends with exactly one check on its newest head, with the right conclusion, and every
 * check GitHub shows names its audit entry, which the chain holds.
 */
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FakeGitHub, FakePull } from "../../bench/fake-github.js";
import { fakeGitHub, newPull, pullRequestEvent, push } from "../../bench/requests.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/index.js";
import { createPostgresDatabase } from "../helpers/db.js";
import type { PostgresTestDatabase } from "../helpers/db.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { crashLines, describePulls, everyPullDecided, expectAuditedChecks, openDatabase, pollUntil, rows, settled, startAppProcess } from "./harness.js";
import type { AppProcess } from "./harness.js";

const apps: AppProcess[] = [];
let fake: FakeGitHub | undefined;
let database: PostgresTestDatabase | undefined;
let store: Store | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  for (const app of apps.splice(0)) await app.kill("SIGKILL");
  await store?.close();
  await fake?.stop();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  store = undefined;
  fake = undefined;
  database = undefined;
  dataDir = undefined;
});

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
    fake = fakeGitHub();
    const host = await fake.start();
    if (driver === "postgres") database = await createPostgresDatabase();
    else dataDir = mkdtempSync(path.join(tmpdir(), "agent-gate-kill-"));
    const storage = { databaseUrl: database?.url, dataDir };
    const pulls = Array.from({ length: 12 }, (_, i) => newPull(fake!, i + 1, 3, { migration: i >= 6 }));
    const [p1, p2, p3, p4, p5, , p7, p8, p9, p10, p11] = pulls as [FakePull, ...FakePull[]];
    const readsHang = new Set([p1, p2, p7, p8].map((p) => `/repos/acme/service/pulls/${p!.number}/files`));
    const postsHang = new Set([p3, p4, p9, p10].map((p) => p!.headSha));
    fake.hang = (method, route, body) => {
      if (method === "GET" && readsHang.has(route)) return "before";
      if (method === "POST" && route.endsWith("/check-runs") && postsHang.has((JSON.parse(body) as { head_sha: string }).head_sha)) return "after";
      return undefined;
    };

    const first = await startAppProcess({ name: "App (to be killed)", githubHost: host, ...storage });
    apps.push(first);
    for (const p of pulls) expect((await sendWebhook(first.webhookUrl, event(p, "opened"))).status).toBe(202);
    // Two PRs move on while their first evaluation is queued or running: only the newest head may end with a check.
    for (const p of [p5, p11]) {
      push(p!);
      expect((await sendWebhook(first.webhookUrl, event(p!, "synchronize"))).status).toBe(202);
    }
    await pollUntil("eight evaluations to wait on GitHub", () => fake!.hung >= 8);
    expect(await first.kill("SIGKILL")).toBe("SIGKILL");
    // GitHub applied the hung POSTs: those check runs exist, and the App never heard their ids.
    expect(fake.checkRuns.filter((r) => postsHang.has(r.headSha))).toHaveLength(4);
    fake.hang = undefined;

    // No redelivery: the restart alone must finish the work.
    const second = await startAppProcess({ name: "App (restarted)", githubHost: host, ...storage });
    apps.push(second);
    // Decided, and the four check runs the killed App created without hearing back were found and updated by the
    // restarted one (until then their PRs only look decided: the runs show the killed App's decision).
    const replayed = () => fake!.checkRuns.filter((r) => postsHang.has(r.headSha)).every((r) => r.updates >= 1);
    await pollUntil(`every PR decided on its newest head (${describePulls(fake, pulls)})`, () => everyPullDecided(fake!, pulls, expected) && replayed(), 300_000);
    if (driver === "postgres") {
      store = await openDatabase(database!.url);
      await pollUntil("the queue to settle", () => settled(store!), 120_000);
    } else {
      // PGlite is one process: read its database once the App is gone (SIGTERM lets running jobs finish).
      expect(await second.kill("SIGTERM")).toBe("0");
      store = await openStore({ dataDir });
      // Work a job was still finishing when the signal came may stay pending (the next start resumes it); what
      // must never be is a delivery still pending that no pending work covers (lost).
      const lost = await rows(store, "select guid from webhook_deliveries d where outcome = 'pending' and not exists (select 1 from pending_work w where w.deliveries @> jsonb_build_array(jsonb_build_object('guid', d.guid)))");
      const left = JSON.stringify({ work: await rows(store, "select key, version, deliveries from pending_work"), jobs: await rows(store, "select state, retry_count, data from pgboss.job where state <> 'completed'") });
      expect(lost, left).toEqual([]);
    }

    expect(everyPullDecided(fake, pulls, expected), describePulls(fake, pulls)).toBe(true);
    // Exactly one check run per head GitHub has seen checked: the four whose POST was never answered were
    // found (by external_id and our App id) and updated, not created again.
    const heads = new Map<string, number>();
    for (const run of fake.checkRuns) heads.set(`${run.repo}@${run.headSha}`, (heads.get(`${run.repo}@${run.headSha}`) ?? 0) + 1);
    expect([...heads.values()].every((n) => n === 1), JSON.stringify([...heads])).toBe(true);
    expect(fake.checkRuns.filter((r) => postsHang.has(r.headSha)).every((r) => r.updates >= 1)).toBe(true);
    await expectAuditedChecks(store, fake);
    expect(crashLines(second)).toEqual([]);
  });
});
