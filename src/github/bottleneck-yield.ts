/**
 * Octokit's throttling and retry plugins (on in every Probot Octokit) run each request through Bottleneck, whose
 * in-memory datastore yields to the event loop with `setTimeout(resolve, 0)` several times a request, to behave
 * like its Redis datastore. Node clamps a 0 ms timer to 1 ms, so a lone request waited ~15 ms in those yields, and
 * each timer is one more wake-up of the process. `setImmediate` yields to the event loop just the same (after
 * pending I/O) without the clamp. Measured on the App's server (warm, 1,000 deliveries at 50/s): 23.8 → 21.4 ms of
 * CPU per decided delivery, mean of three and two runs.
 *
 * The datastore class is internal to `bottleneck/light.js` (the build both plugins import), so it is reached
 * through a limiter's `_store`. If a Bottleneck release changes that shape nothing is patched, and
 * test/github/bottleneck-yield.test.ts fails.
 */
import { createRequire } from "node:module";

interface Datastore {
  yieldLoop?: (t?: number) => Promise<void>;
}

const require = createRequire(import.meta.url);
const Bottleneck = require("bottleneck/light.js") as new () => { _store?: object; disconnect(flush?: boolean): Promise<void> };

function immediateYield(t = 0): Promise<void> {
  return new Promise((resolve) => (t === 0 ? setImmediate(resolve) : setTimeout(resolve, t)));
}

/** Patches Bottleneck's local datastore (idempotent); answers whether the patch is in place. */
export function yieldBottleneckWithSetImmediate(): boolean {
  const limiter = new Bottleneck();
  const datastore = limiter._store ? (Object.getPrototypeOf(limiter._store) as Datastore) : undefined;
  void limiter.disconnect(false);
  if (!datastore || typeof datastore.yieldLoop !== "function") return false;
  datastore.yieldLoop = immediateYield;
  return true;
}
