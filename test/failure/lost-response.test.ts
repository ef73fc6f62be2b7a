/**
 * The answer to a check-run POST is lost after GitHub applied it (the fake GitHub creates the run, then destroys
 * the socket): the App must not create a second one (issue 12, invariant 9). Real server in a child process, real
 * Postgres, fake GitHub over HTTP.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FakeGitHub, FakePull } from "../../bench/fake-github.js";
import { fakeGitHub, newPull, pullRequestEvent } from "../../bench/requests.js";
import type { Store } from "../../src/store/index.js";
import { createPostgresDatabase } from "../helpers/db.js";
import type { PostgresTestDatabase } from "../helpers/db.js";
import { sendWebhook } from "../helpers/webhooks.js";
import { crashLines, describePulls, everyPullDecided, expectAuditedChecks, openDatabase, pollUntil, settled, startAppProcess } from "./harness.js";
import type { AppProcess } from "./harness.js";

let app: AppProcess | undefined;
let fake: FakeGitHub | undefined;
let database: PostgresTestDatabase | undefined;
let store: Store | undefined;

afterEach(async () => {
  await app?.kill("SIGKILL");
  await store?.close();
  await fake?.stop();
  await database?.drop();
  app = undefined;
  store = undefined;
  fake = undefined;
  database = undefined;
});

describe("a lost check-run response", () => {
  it("invariant 9: GitHub applied the POST and the answer was lost: still one check run per head, updated to the decision", { timeout: 300_000 }, async () => {
    fake = fakeGitHub();
    const host = await fake.start();
    database = await createPostgresDatabase();
    const pulls = Array.from({ length: 6 }, (_, i) => newPull(fake!, i + 1, 3, { migration: i % 2 === 1 }));
    // The first POST for every head is applied, then its connection is destroyed before any answer.
    const lost = new Set<string>();
    fake.loseResponse = (method, route) => {
      if (method !== "POST" || !route.endsWith("/check-runs")) return false;
      const run = fake!.checkRuns.at(-1)!;
      if (lost.has(run.headSha)) return false;
      lost.add(run.headSha);
      return true;
    };

    app = await startAppProcess({ name: "App", githubHost: host, databaseUrl: database.url });
    for (const p of pulls) {
      const e = pullRequestEvent(p, "opened");
      e.payload.installation.id = 1 + (p.number % 3);
      expect((await sendWebhook(app.webhookUrl, e)).status).toBe(202);
    }
    const expected = (p: FakePull) => (p.files[0]?.filename.startsWith("db/") ? "action_required" : "success");
    await pollUntil(`every PR decided (${describePulls(fake, pulls)})`, () => everyPullDecided(fake!, pulls, expected));
    store = await openDatabase(database.url);
    await pollUntil("the queue to settle", () => settled(store!));

    expect(lost.size).toBe(pulls.length);
    expect(fake.checkRuns).toHaveLength(pulls.length);
    // Each was found on GitHub (by name, external_id and our App id) and updated, not created again.
    expect(fake.checkRuns.every((r) => r.updates >= 1)).toBe(true);
    expect(fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/check-runs"))).toHaveLength(pulls.length);
    await expectAuditedChecks(store, fake);
    expect(crashLines(app)).toEqual([]);
  });
});
