/** The vitest hooks around openTestStore (kept apart from db.ts, which the benchmarks import outside vitest). */
import { afterEach, beforeEach } from "vitest";
import type { Store, StoreOptions } from "../../src/store/index.js";
import { openTestStore, type TestDriver, type TestStoreContext } from "./db.js";

/**
 * A fresh migrated store for each test of the calling `describe` (opened before, cleaned up after): read
 * `ctx.store` inside the tests, where it is the current test's.
 */
export function useTestStore(driver: TestDriver): { readonly store: Store; readonly options: StoreOptions; openAnother(): Promise<Store> } {
  let current: TestStoreContext | undefined;
  beforeEach(async () => {
    current = await openTestStore(driver);
  });
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });
  const now = (): TestStoreContext => {
    if (!current) throw new Error("useTestStore: the store exists only inside a test");
    return current;
  };
  return {
    get store() {
      return now().store;
    },
    get options() {
      return now().options;
    },
    openAnother: () => now().openAnother(),
  };
}
