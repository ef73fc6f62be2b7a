/**
 * pg-boss on both drivers through the store's SqlRunner: a job enqueued inside our transaction exists only if
 * that transaction commits; workers take each job once; a job whose worker died is taken again after expiry.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openJobQueue } from "../../src/store/job-queue.js";
import type { JobQueue, WorkJob } from "../../src/store/job-queue.js";
import { TEST_DRIVERS, openTestStore } from "../helpers/db.js";
import type { TestStoreContext } from "../helpers/db.js";

const until = async (cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.each(TEST_DRIVERS)("job queue on %s", (driver) => {
  let ctx: TestStoreContext | undefined;
  const queues: JobQueue[] = [];
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.stop(1000);
    await ctx?.cleanup();
    ctx = undefined;
  });

  it("runs a job enqueued in a committed transaction, and none from a rolled-back one", async () => {
    ctx = await openTestStore(driver);
    const store = ctx.store;
    const queue = await openJobQueue(store, { databaseUrl: ctx.options.databaseUrl, pollingIntervalSeconds: 0.5 });
    queues.push(queue);
    await store.transaction(async (tx) => {
      await tx.pendingWork.offer({ key: "a#1", kind: "evaluate", installationId: 1, work: { n: 1 }, delivery: { guid: "d1", event: "pull_request.opened" } });
      await queue.enqueue(tx.sql, "a#1");
    });
    await expect(
      store.transaction(async (tx) => {
        await queue.enqueue(tx.sql, "rolled-back");
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    const seen: WorkJob[] = [];
    await queue.work(2, async (job) => {
      seen.push(job);
    });
    await until(() => seen.length >= 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen.map((j) => j.key)).toEqual(["a#1"]);
    expect(seen[0]!.retryCount).toBe(0);
  });

  it("retries a failed attempt with its retry count", async () => {
    ctx = await openTestStore(driver);
    const queue = await openJobQueue(ctx.store, { databaseUrl: ctx.options.databaseUrl, retryDelaySeconds: 1, retryLimit: 2 });
    queues.push(queue);
    await ctx.store.transaction((tx) => queue.enqueue(tx.sql, "b#2"));
    const attempts: number[] = [];
    await queue.work(1, async (job) => {
      attempts.push(job.retryCount);
      if (job.retryCount === 0) throw new Error("GitHub said 502");
    });
    await until(() => attempts.length >= 2);
    expect(attempts).toEqual([0, 1]);
  });

  it("a worker that finished a job takes the next one at once, not after its polling interval", async () => {
    ctx = await openTestStore(driver);
    // A 10-minute poll: the second and third jobs can only start within the test if finishing a job wakes the worker.
    const queue = await openJobQueue(ctx.store, { databaseUrl: ctx.options.databaseUrl, pollingIntervalSeconds: 600 });
    queues.push(queue);
    const done: string[] = [];
    await queue.work(1, async (job) => {
      done.push(job.key);
    });
    await ctx.store.transaction(async (tx) => {
      for (const key of ["c#1", "c#2", "c#3"]) await queue.enqueue(tx.sql, key);
    });
    queue.notify(3);
    await until(() => done.length >= 3, 15_000);
    expect([...done].sort()).toEqual(["c#1", "c#2", "c#3"]);
  });

  it("a new job wakes an idle worker, not one busy with a job (which would take it only when done)", async () => {
    ctx = await openTestStore(driver);
    const store = ctx.store;
    // A 10-minute poll: a job starts within the test only if notify wakes a worker that is free to take it.
    const queue = await openJobQueue(store, { databaseUrl: ctx.options.databaseUrl, pollingIntervalSeconds: 600 });
    queues.push(queue);
    const done: string[] = [];
    let release = () => {};
    const slowMayEnd = new Promise<void>((resolve) => (release = resolve));
    await queue.work(2, async (job) => {
      if (job.key === "slow") await slowMayEnd;
      done.push(job.key);
    });
    const enqueue = async (key: string) => {
      await store.transaction((tx) => queue.enqueue(tx.sql, key));
      queue.notify(1);
    };
    // The first worker takes the slow job; the second the filler, and goes back to sleep.
    await enqueue("slow");
    await new Promise((r) => setTimeout(r, 500));
    await enqueue("filler");
    await until(() => done.includes("filler"), 15_000);
    await new Promise((r) => setTimeout(r, 500));
    // The round robin is back at the first worker, which is busy: the idle one must be woken instead.
    await enqueue("next");
    await until(() => done.includes("next"), 15_000);
    expect(done).not.toContain("slow");
    release();
    await until(() => done.includes("slow"), 15_000);
  });
});
