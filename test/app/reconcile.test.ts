/**
 * The reconciliation pass (src/app/reconcile.ts): GitHub's delivery log read through the real adapter (GitHub's
 * documented example page, test/fixtures/github/SOURCES.md), and the pass in the real server (`start()`) on
 * Postgres and PGlite against the fake GitHub over HTTP, whose delivery log and redelivery behave as GitHub's do.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { pino } from "pino";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { reconcileOnce } from "../../src/app/reconcile.js";
import { routeEvent } from "../../src/app/routes.js";
import type { KeyedWork } from "../../src/app/routes.js";
import { start } from "../../src/app/server.js";
import type { RunningServer } from "../../src/app/server.js";
import { nextCursor, OctokitGitHub } from "../../src/github/octokit-github.js";
import type { Octokit } from "../../src/github/index.js";
import { openJobQueue } from "../../src/store/job-queue.js";
import type { JobQueue } from "../../src/store/job-queue.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/index.js";
import type { FakeGitHub, FakePull } from "../../bench/fake-github.js";
import { APP_ID, fakeGitHub, newPull, privateKey, pullRequestEvent, push } from "../../bench/requests.js";
import { TEST_DRIVERS, createPostgresDatabase, rows } from "../helpers/db.js";
import type { PostgresTestDatabase, TestDriver } from "../helpers/db.js";
import { TestOctokit } from "../helpers/github.js";
import { WEBHOOK_SECRET, sendWebhook, waitFor } from "../helpers/webhooks.js";

const silent = pino({ level: "silent" });

let running: RunningServer | undefined;
let fake: FakeGitHub | undefined;
let database: PostgresTestDatabase | undefined;
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await running?.stop();
  await fake?.stop();
  await database?.drop();
  running = undefined;
  fake = undefined;
  database = undefined;
  nock.cleanAll();
});

function appOctokit(baseUrl: string): Octokit {
  return new TestOctokit({ auth: { token: "app-jwt" }, baseUrl }) as Octokit;
}

describe("GitHub's delivery log, read through the adapter", () => {
  it("parses GitHub's documented page and picks only the delivery that failed on GitHub's side", async () => {
    const page = JSON.parse(readFileSync("test/fixtures/github/app-hook-deliveries.json", "utf8")) as unknown[];
    nock("https://api.github.com")
      .get("/app/hook/deliveries")
      .query({ per_page: "100" })
      .reply(200, page, { link: '<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_41>; rel="next"' });
    const listed = await new OctokitGitHub(appOctokit("https://api.github.com")).listHookDeliveries(null, 100);
    expect(listed.next).toBe("v1_41");
    expect(listed.deliveries.map((d) => [d.id, d.statusCode, d.redelivery])).toEqual([
      [123456789, 200, true],
      [12345678, 200, false],
      [42, 502, false],
    ]);
    const { failedGuids } = await import("../../src/app/reconcile.js");
    expect(failedGuids(listed.deliveries).map((d) => d.guid)).toEqual(["58474f00-b361-11eb-836d-0e4f3503ccbe"]);
    expect(nextCursor('<https://api.github.com/app/hook/deliveries?cursor=abc>; rel="prev", <https://api.github.com/app/hook/deliveries?cursor=def>; rel="next"')).toBe("def");
    expect(nextCursor(undefined)).toBeNull();
  });
});

async function startApp(driver: TestDriver, prepare?: (fake: FakeGitHub) => void) {
  fake = fakeGitHub();
  prepare?.(fake);
  const host = await fake.start();
  if (driver === "postgres") database = await createPostgresDatabase();
  running = await start({
    env: { APP_ID: String(APP_ID), PRIVATE_KEY: privateKey(), WEBHOOK_SECRET, GHE_HOST: host, GHE_PROTOCOL: "http", JOB_CONCURRENCY: "4", RECONCILE_INTERVAL_SECONDS: "1" },
    port: 0,
    host: "127.0.0.1",
    log: silent,
    storage: driver === "postgres" ? { databaseUrl: database!.url } : { dataDir: "memory://" },
  });
  const url = `http://127.0.0.1:${running.port}/api/github/webhooks`;
  // Redeliveries (GitHub's side of POST .../attempts) go to the App's webhook URL, signed with its secret.
  fake.webhookTarget = url;
  fake.webhookSecret = WEBHOOK_SECRET;
  return { url, fake, store: running.store! };
}

const attempts = (f: FakeGitHub) => f.requests.filter((r) => r.method === "POST" && r.path.includes("/attempts"));
const listings = (f: FakeGitHub) => f.requests.filter((r) => r.method === "GET" && r.path.startsWith("/app/hook/deliveries"));

describe.each(TEST_DRIVERS)("the reconciliation pass on %s", (driver) => {
  it("a failed delivery on GitHub's side (never received by us) is redelivered by the reconciliation pass", async () => {
    // The log before the App starts: one delivery GitHub could not hand over, one we refused on purpose (a bad
    // signature: redelivering it would be refused again).
    let lost!: FakePull, refused!: FakePull, taken!: FakePull, lostGuid!: string;
    const { url, store } = await startApp(driver, (f) => {
      lost = newPull(f, 1, 3);
      refused = newPull(f, 2, 3);
      taken = newPull(f, 3, 3);
      lostGuid = f.failDelivery(pullRequestEvent(lost, "opened"));
      f.failDelivery(pullRequestEvent(refused, "opened"), { statusCode: 400, status: "Invalid HTTP Response: 400" });
    });
    // And one we took: it must not come twice.
    const sent = await sendWebhook(url, pullRequestEvent(taken, "opened"));
    fake!.logDelivery(pullRequestEvent(taken, "opened"), { guid: sent.id, statusCode: sent.status, status: "OK" });
    expect(sent.status).toBe(202);

    await waitFor("the lost delivery's check run", () => fake!.checkRuns.some((r) => r.headSha === lost.headSha));
    await waitFor("the redelivery to be processed", async () => (await rows<{ outcome: string }>(store, `select outcome from webhook_deliveries where guid = '${lostGuid}'`))[0]?.outcome === "processed");
    // Two more passes: the cursor keeps them from asking again.
    const seen = listings(fake!).length;
    await waitFor("two more passes", () => listings(fake!).length >= seen + 2, 20_000);
    expect(attempts(fake!)).toHaveLength(1);
    expect(fake!.checkRuns.filter((r) => r.headSha === lost.headSha)).toHaveLength(1);
    expect(fake!.checkRuns.filter((r) => r.headSha === taken.headSha)).toHaveLength(1);
    expect(fake!.checkRuns.some((r) => r.headSha === refused.headSha)).toBe(false);
    // A quiet pass costs one request, made with the App's JWT (no installation's limit).
    const quiet = fake!.requests.filter((r) => r.path.startsWith("/app/hook/"));
    expect(quiet.every((r) => r.installation === undefined)).toBe(true);
  });

  it("a PR whose newest head has no recorded decision is evaluated by the pass, once per head", async () => {
    const { store, fake } = await startApp(driver);
    const pull = newPull(fake, 5, 3);
    push(pull);
    // What an evaluation of an older head leaves when it saw the newer one and stood down, and the newer head's
    // own event never came: the head observed an hour ago, no evaluation of it.
    await store.db.execute(sql`insert into pull_request_heads (repository, pull_request, head_sha, head_updated_at, observed_at)
      values ('acme/service', 5, ${pull.headSha}, now() - interval '1 hour', now() - interval '1 hour')`);
    await waitFor("the check run on the newest head", () => fake.checkRuns.some((r) => r.headSha === pull.headSha));
    await waitFor("the evaluation to be recorded", async () => (await rows(store, `select 1 from evaluations where head_sha = '${pull.headSha}'`)).length === 1);
    const seen = listings(fake).length;
    await waitFor("two more passes", () => listings(fake).length >= seen + 2, 20_000);
    expect(fake.checkRuns.filter((r) => r.headSha === pull.headSha)).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === "/repos/acme/service/installation")).toHaveLength(1);
  });

  it("work whose job gave up (no live job, untouched for long) is run again by the pass", async () => {
    const { store, fake } = await startApp(driver);
    const pull = newPull(fake, 6, 3);
    const route = routeEvent({ id: "given-up-1", name: "pull_request", payload: pullRequestEvent(pull, "opened").payload }, { appId: APP_ID });
    const [work] = (route as { works: KeyedWork[] }).works;
    // The job's retries ran out: its row stays in pending_work and no job will ever take it.
    await store.pendingWork.offer({ key: work!.key, kind: "evaluate", installationId: work!.installationId, work: work!.work, delivery: { guid: "given-up-1", event: "pull_request.opened" } });
    await store.db.execute(sql`update pending_work set updated_at = now() - interval '1 hour' where key = ${work!.key}`);
    await waitFor("the check run", () => fake.checkRuns.some((r) => r.headSha === pull.headSha));
    await waitFor("the work to be settled", async () => (await rows(store, "select 1 from pending_work")).length === 0);
    expect(fake.checkRuns.filter((r) => r.headSha === pull.headSha)).toHaveLength(1);
  });
});

describe("two replicas on one Postgres", () => {
  it("running the pass at once do not double the work: one pass redelivers, the other stands aside", async () => {
    fake = fakeGitHub();
    const host = await fake.start();
    database = await createPostgresDatabase();
    const replicas: Array<{ store: Store; queue: JobQueue }> = [];
    for (let i = 0; i < 2; i++) {
      const store = await openStore({ databaseUrl: database.url, migrate: true });
      const queue = await openJobQueue(store, { databaseUrl: database.url, maxConnections: 2 });
      closers.push(async () => {
        await queue.stop(1000);
        await store.close();
      });
      replicas.push({ store, queue });
    }
    // Where GitHub's redeliveries land in this test: an endpoint that takes them (no App runs here).
    const target = createServer((req, res) => req.resume().on("end", () => res.writeHead(202).end()));
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise<void>((resolve) => target.close(() => resolve())));
    fake.webhookTarget = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
    for (let n = 1; n <= 3; n++) fake.failDelivery(pullRequestEvent(newPull(fake, n, 1), "opened"));
    const github = () => Promise.resolve(new OctokitGitHub(appOctokit(`http://${host}/api/v3`)));
    const pass = (i: number) => reconcileOnce({ ...replicas[i]!, github, log: silent, holder: `replica-${i}` }, { spacingSeconds: 0 });
    const reports = await Promise.all([pass(0), pass(1)]);
    expect(reports.map((r) => r.ran).sort()).toEqual([false, true]);
    expect(attempts(fake)).toHaveLength(3);
    const ran = reports.find((r) => r.ran)!;
    expect(ran.redelivered).toHaveLength(3);
    // Listing (1) + three redeliveries: counted, all with the App's JWT.
    expect(ran.requests).toBe(4);
    // The next pass, on the other replica: the cursor says all of it was seen; nothing is asked twice.
    await waitFor("the redeliveries to be logged", () => fake!.hookDeliveries.filter((d) => d.redelivery).length === 3);
    const next = await pass(reports.findIndex((r) => !r.ran));
    expect(next).toMatchObject({ ran: true, requests: 1, redelivered: [] });
    expect(attempts(fake)).toHaveLength(3);
  });
});
