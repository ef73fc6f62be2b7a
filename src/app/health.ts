/**
 * `GET /healthz`: 200 with the version while every probe is fine, 503 otherwise. Probes are the seam for the
 * database status (`databaseProbe`, added by the server); each answers within its own timeout so a stuck database cannot hang
 * the load balancer's check.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { packageVersion } from "../version.js";

export interface HealthProbe {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

/** The `database` probe: the store's `ping()` (which never throws), with the driver in the detail. */
export function databaseProbe(store: { ping(): Promise<{ ok: boolean; driver: string; error?: string | undefined }> }): HealthProbe {
  return {
    name: "database",
    async check() {
      const result = await store.ping();
      return result.ok ? { ok: true, detail: result.driver } : { ok: false, detail: `${result.driver}: ${result.error ?? "unavailable"}` };
    },
  };
}

const PROBE_TIMEOUT_MS = 2_000;

async function runProbe(probe: HealthProbe): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: boolean; detail: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe.check(), timeout]);
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function healthHandler(probes: HealthProbe[]): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/healthz" || (req.method !== "GET" && req.method !== "HEAD")) return false;
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    for (const probe of probes) checks[probe.name] = await runProbe(probe);
    const ok = Object.values(checks).every((c) => c.ok);
    const body = JSON.stringify({ status: ok ? "ok" : "degraded", version: packageVersion(), checks });
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}
