/**
 * Pending work, the durable copy of what webhooks asked for (one row per coalescing key), and the edge's one
 * statement that records a delivery with its work: on both drivers, with the fold the App uses in spirit (the
 * newer work wins, the pushers of both are kept) so a lost fold would show.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore, rows, TEST_DRIVERS, type TestStoreContext } from "../helpers/db.js";

type Work = { n: number; pushers: string[] };
const fold = (older: unknown, newer: unknown): Work => {
  const a = older as Work;
  const b = newer as Work;
  return { n: b.n, pushers: [...new Set([...a.pushers, ...b.pushers])] };
};
const offerOf = (key: string, guid: string, work: Work) => ({ key, kind: "evaluate", installationId: 7, work, delivery: { guid, event: "pull_request.synchronize" } });
const deliveryOf = (guid: string) => ({ guid, installationId: 7, event: "pull_request", action: "synchronize" });

describe.each(TEST_DRIVERS)("pending work on %s", (driver) => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore(driver);
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("beginAndOffer: a new delivery of a new key creates the row; of a pending key it locks and reads it, and the offer folds into it", async () => {
    const { store } = ctx;
    const first = await store.transaction((tx) => tx.deliveries.beginAndOffer(deliveryOf("g-1"), offerOf("o/r#1", "g-1", { n: 1, pushers: ["alice"] })));
    expect(first).toEqual({ outcome: "created" });
    const second = await store.transaction(async (tx) => {
      const offer = offerOf("o/r#1", "g-2", { n: 2, pushers: ["bob"] });
      const begun = await tx.deliveries.beginAndOffer(deliveryOf("g-2"), offer);
      expect(begun).toEqual({ outcome: "pending", locked: { work: { n: 1, pushers: ["alice"] } } });
      return begun.outcome === "pending" ? tx.pendingWork.offer(offer, fold, begun.locked) : null;
    });
    expect(second).toBe("folded");
    const row = await store.pendingWork.take<Work>("o/r#1");
    expect(row).toMatchObject({ work: { n: 2, pushers: ["alice", "bob"] }, version: 2, installationId: 7 });
    expect(row?.deliveries.map((d) => d.guid)).toEqual(["g-1", "g-2"]);
    expect((await store.deliveries.get("g-2", 7))?.outcome).toBe("pending");
  });

  it("beginAndOffer: a duplicate delivery offers nothing; a failed one is taken again and offers its work", async () => {
    const { store } = ctx;
    await store.transaction((tx) => tx.deliveries.beginAndOffer(deliveryOf("g-3"), offerOf("o/r#3", "g-3", { n: 3, pushers: [] })));
    const again = await store.transaction((tx) => tx.deliveries.beginAndOffer(deliveryOf("g-3"), offerOf("o/r#3", "g-3", { n: 99, pushers: ["mallory"] })));
    expect(again).toEqual({ outcome: "duplicate" });
    expect(await store.pendingWork.take<Work>("o/r#3")).toMatchObject({ work: { n: 3, pushers: [] }, version: 1 });

    // Settled, then the delivery failed: its redelivery is new again and, the key being free, creates a row.
    expect(await store.pendingWork.settle("o/r#3", 1)).toBe(true);
    await store.deliveries.finish("g-3", 7, "failed", "GitHub answered 502");
    const retried = await store.transaction((tx) => tx.deliveries.beginAndOffer(deliveryOf("g-3"), offerOf("o/r#3", "g-3", { n: 4, pushers: [] })));
    expect(retried).toEqual({ outcome: "created" });
    expect(await store.deliveries.get("g-3", 7)).toMatchObject({ outcome: "pending", attempts: 2 });
  });

  it("beginAndOffer in a transaction that rolls back leaves neither the delivery nor the work", async () => {
    const { store } = ctx;
    await expect(
      store.transaction(async (tx) => {
        await tx.deliveries.beginAndOffer(deliveryOf("g-5"), offerOf("o/r#5", "g-5", { n: 5, pushers: [] }));
        throw new Error("the enqueue failed");
      }),
    ).rejects.toThrow("the enqueue failed");
    expect(await store.deliveries.get("g-5", 7)).toBeNull();
    expect(await store.pendingWork.take("o/r#5")).toBeNull();
  });

  it("an offer told of a locked row that is gone creates a new one instead of folding into nothing", async () => {
    const { store } = ctx;
    const outcome = await store.transaction((tx) => tx.pendingWork.offer(offerOf("o/r#6", "g-6", { n: 6, pushers: [] }), fold, undefined));
    expect(outcome).toBe("created");
    expect(await store.pendingWork.take<Work>("o/r#6")).toMatchObject({ work: { n: 6 }, version: 1 });
  });

  it("take marks the row touched; settle deletes only the version taken", async () => {
    const { store } = ctx;
    await store.transaction((tx) => tx.deliveries.beginAndOffer(deliveryOf("g-7"), offerOf("o/r#7", "g-7", { n: 7, pushers: [] })));
    await rows(store, "update pending_work set updated_at = now() - interval '1 hour' where key = 'o/r#7'");
    expect((await store.pendingWork.stale(new Date(Date.now() - 60_000), 10)).map((w) => w.key)).toContain("o/r#7");
    const taken = await store.pendingWork.take("o/r#7");
    expect(Date.now() - taken!.updatedAt.getTime()).toBeLessThan(60_000);
    expect((await store.pendingWork.stale(new Date(Date.now() - 60_000), 10)).map((w) => w.key)).not.toContain("o/r#7");
    expect(await store.pendingWork.settle("o/r#7", 2)).toBe(false);
    expect(await store.pendingWork.settle("o/r#7", 1)).toBe(true);
    expect(await store.pendingWork.take("o/r#7")).toBeNull();
  });

  it("finishPending finishes only the deliveries still pending, and says which", async () => {
    const { store } = ctx;
    for (const guid of ["h-1", "h-2", "h-3"]) await store.deliveries.begin(deliveryOf(guid));
    await store.deliveries.finish("h-2", 7, "failed", "boom");
    const finished = await store.deliveries.finishPending(["h-1", "h-2", "h-3", "h-unknown"], 7, "processed");
    expect(finished.sort()).toEqual(["h-1", "h-3"]);
    expect((await store.deliveries.get("h-2", 7))?.outcome).toBe("failed");
    expect((await store.deliveries.get("h-3", 7))?.outcome).toBe("processed");
    expect(await store.deliveries.finishPending([], 7, "processed")).toEqual([]);
  });
});

describe("pending work on postgres: racing edges", () => {
  let ctx: TestStoreContext;
  beforeAll(async () => {
    ctx = await openTestStore("postgres");
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it("twenty deliveries of one key at once: one row, one creator, every delivery and pusher folded in", async () => {
    const { store } = ctx;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.transaction(async (tx) => {
          const offer = offerOf("o/r#race", `r-${i}`, { n: i, pushers: [`p${i}`] });
          const begun = await tx.deliveries.beginAndOffer(deliveryOf(`r-${i}`), offer);
          if (begun.outcome !== "pending") return begun.outcome;
          return tx.pendingWork.offer(offer, fold, begun.locked);
        }),
      ),
    );
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "folded")).toHaveLength(19);
    const row = await store.pendingWork.take<Work>("o/r#race");
    expect(row?.version).toBe(20);
    expect(row?.deliveries.map((d) => d.guid).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `r-${i}`).sort());
    expect(row?.work.pushers.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`).sort());
  });
});
