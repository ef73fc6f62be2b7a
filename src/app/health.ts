/**
 * `GET /healthz`: 200 with the version while every probe is fine, 503 otherwise. Probes are the seam for the
 * database status (`databaseProbe`, added by the server); each answers within its own timeout so a stuck database cannot hang
 * the load balancer's check.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

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

let cachedVersion: string | undefined;

/** The package version, found by walking up from this file (works from src/ under tsx and from dist/). */
export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = new URL(".", import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "agent-gate" && typeof pkg.version === "string") return (cachedVersion = pkg.version);
    } catch {
      // not here; go up
    }
    dir = new URL("..", dir);
  }
  return (cachedVersion = "unknown");
}

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
