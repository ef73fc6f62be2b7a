/**
 * Durable processing in the real server (`start()`, as `npm start` runs it) on Postgres and PGlite, against the
 * fake GitHub API over HTTP: the edge answers 202 before any GitHub call, a job evaluates, events that arrive
 * while a PR's evaluation is pending fold into it, and the edge's size cap and redelivery dedup.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { start } from "../../src/app/server.js";
import type { RunningServer } from "../../src/app/server.js";
import type { FakeGitHub } from "../../bench/fake-github.js";
import { APP_ID, fakeGitHub, newPull, privateKey, pullRequestEvent, review, reviewEvent } from "../../bench/requests.js";
import { TEST_DRIVERS, createPostgresDatabase, rows } from "../helpers/db.js";
import type { PostgresTestDatabase, TestDriver } from "../helpers/db.js";
import { WEBHOOK_SECRET, sendWebhook, waitFor } from "../helpers/webhooks.js";

let running: RunningServer | undefined;
let fake: FakeGitHub | undefined;
let database: PostgresTestDatabase | undefined;

afterEach(async () => {
  await running?.stop();
  await fake?.stop();
  await database?.drop();
  running = undefined;
  fake = undefined;
  database = undefined;
});

async function startApp(driver: TestDriver) {
  fake = fakeGitHub();
  const host = await fake.start();
  if (driver === "postgres") database = await createPostgresDatabase();
  running = await start({
    env: { APP_ID: String(APP_ID), PRIVATE_KEY: privateKey(), WEBHOOK_SECRET, GHE_HOST: host, GHE_PROTOCOL: "http", JOB_CONCURRENCY: "4" },
    port: 0,
    host: "127.0.0.1",
    log: pino({ level: "silent" }),
    storage: driver === "postgres" ? { databaseUrl: database!.url } : { dataDir: "memory://" },
  });
  return { url: `http://127.0.0.1:${running.port}/api/github/webhooks`, fake, store: running.store! };
}

describe.each(TEST_DRIVERS)("durable processing on %s", (driver) => {
  it("answers 202 before evaluating, then a job publishes one check and records it", async () => {
    const { url, fake, store } = await startApp(driver);
    // GitHub answers slowly, and publishing takes 3 s: the webhook's answer must not wait for it.
    fake.delay = (method, path) => (method === "POST" && path.endsWith("/check-runs") ? 3000 : 300);
    const pull = newPull(fake, 1, 3);
    const sent = await sendWebhook(url, pullRequestEvent(pull, "opened"));
    expect(sent.status).toBe(202);
    expect(fake.requests).toHaveLength(0);
    // While the evaluation waits on GitHub, /healthz still answers (no database transaction is held).
    await waitFor("the evaluation to call GitHub", () => fake.requests.length > 0);
    const health = await fetch(`http://127.0.0.1:${running!.port}/healthz`);
    expect(health.status).toBe(200);
    expect(fake.checkRuns).toHaveLength(0);
    await waitFor("the check run", () => fake.checkRuns.length === 1);
    await waitFor("the delivery to be processed", async () => (await rows<{ outcome: string }>(store, `select outcome from webhook_deliveries where guid = '${sent.id}'`))[0]?.outcome === "processed");
    expect(fake.checkRuns[0]).toMatchObject({ headSha: pull.headSha });
    const audit = await rows<{ kind: string }>(store, `select kind from audit_log where delivery_id = '${sent.id}' order by id`);
    expect(audit.map((a) => a.kind)).toContain("check_published");
    // The job settles its pending work right after the evaluation's own commit marked the delivery.
    await waitFor("the pending work to be settled", async () => (await rows(store, "select * from pending_work")).length === 0);
  });

  it("events that arrive while a PR's evaluation is pending fold into it; each delivery is still recorded and audited", async () => {
    const { url, fake, store } = await startApp(driver);
    fake.delay = (method, path) => (method === "GET" && path.endsWith("/files") ? 1500 : 0);
    const pull = newPull(fake, 2, 3, { migration: true });
    const first = await sendWebhook(url, pullRequestEvent(pull, "opened"));
    const later = [];
    for (const login of ["dba-alice", "dba-bob", "dba-alice", "dba-bob"]) {
      review(pull, login);
      later.push(await sendWebhook(url, reviewEvent(pull, login)));
    }
    expect([first, ...later].map((d) => d.status)).toEqual([202, 202, 202, 202, 202]);
    const ids = [first, ...later].map((d) => `'${d.id}'`).join(",");
    await waitFor("all deliveries processed", async () => (await rows<{ n: number }>(store, `select count(*)::int as n from webhook_deliveries where guid in (${ids}) and outcome = 'processed'`))[0]?.n === 5, 90_000);
    const evaluations = await rows<{ delivery_id: string }>(store, "select delivery_id from evaluations order by id");
    // Five events, at most two evaluations: the first, and one after the reviews that folded in while it ran.
    expect(evaluations.length).toBeLessThanOrEqual(2);
    // One check run on the head, updated by the later evaluation (never a second one).
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.checkRuns[0]!.updates).toBe(evaluations.length - 1);
    const coalesced = await rows<{ delivery_id: string }>(store, "select delivery_id from audit_log where kind = 'delivery_coalesced'");
    expect(coalesced.length).toBe(5 - evaluations.length);
    // The last evaluation saw the last event: the approvals are all there.
    expect(evaluations.at(-1)?.delivery_id).toBe(later.at(-1)!.id);
  });

  it("GitHub failing is retried with backoff and never published as a failing check", async () => {
    const { url, fake, store } = await startApp(driver);
    let failures = 0;
    fake.fault = (method, path) => (method === "GET" && path.endsWith("/files") && failures++ < 3 ? { status: 502 } : undefined);
    const pull = newPull(fake, 4, 3);
    const sent = await sendWebhook(url, pullRequestEvent(pull, "opened"));
    await waitFor("the delivery to be processed", async () => (await rows<{ outcome: string }>(store, `select outcome from webhook_deliveries where guid = '${sent.id}'`))[0]?.outcome === "processed", 90_000);
    // Octokit retries a 502 twice itself: the job's first attempt fails, its retry succeeds.
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.checkRuns[0]!.conclusion).not.toBe("failure");
  });

  it("a rate limit with Retry-After waits as long as GitHub asked, then evaluates", async () => {
    const { url, fake, store } = await startApp(driver);
    let limited = 0;
    fake.fault = (method, path) => {
      // The file listing: a PR's first evaluation of its opening reads no reviews (issue 12).
      if (!(method === "GET" && path.endsWith("/files")) || limited >= 2) return undefined;
      limited++;
      return { status: 429, headers: { "retry-after": "3" }, message: "You have exceeded a secondary rate limit" };
    };
    const pull = newPull(fake, 5, 3);
    const sent = await sendWebhook(url, pullRequestEvent(pull, "opened"));
    await waitFor("the delivery to be processed", async () => (await rows<{ outcome: string }>(store, `select outcome from webhook_deliveries where guid = '${sent.id}'`))[0]?.outcome === "processed", 90_000);
    const filesAfter = fake.requests.filter((r) => /\/pulls\/\d+\/files/.test(r.path) && r.status === 200);
    expect(filesAfter.length).toBeGreaterThanOrEqual(1);
    // Octokit waited 3 s once; the job then waited GitHub's 3 s again: at least 6 s after the first refusal.
    expect(filesAfter[0]!.at - (fake.requests.find((r) => r.status === 429)?.at ?? 0)).toBeGreaterThanOrEqual(5_500);
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.checkRuns[0]!.conclusion).not.toBe("failure");
  });

  it("a redelivery of an accepted delivery adds no work; a body over 25 MB is refused before it is read", async () => {
    const { url, fake, store } = await startApp(driver);
    const pull = newPull(fake, 3, 3);
    const event = pullRequestEvent(pull, "opened");
    const sent = await sendWebhook(url, event);
    const again = await sendWebhook(url, event, { id: sent.id });
    expect([sent.status, again.status]).toEqual([202, 202]);
    await waitFor("the check run", () => fake.checkRuns.length === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.checkRuns).toHaveLength(1);
    // Announces 26 MB and sends 1 KB of it: the answer comes from the header alone, nothing is buffered.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": "big", "x-hub-signature-256": "sha256=00", "content-length": String(26 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write("x".repeat(1024));
    });
    expect(status).toBe(413);
    expect(await rows(store, "select * from webhook_deliveries where guid = 'big'")).toHaveLength(0);
  });
});
