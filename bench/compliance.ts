/**
 * The compliance pages' queries (src/store/compliance.ts) over growing numbers of agent PRs (two evaluations each,
 * 50 repositories, the reader may read half of them), on PGlite and Postgres: the list's first page, a filtered
 * list, the charts' aggregates and one PR's trail. The list and the charts read every readable PR's latest
 * evaluation, so they should grow linearly; the trail should stay flat (an index on lower(repository)).
 */
import { sql } from "drizzle-orm";
import { openStore, type Store } from "../src/store/index.js";
import { createComplianceQueries } from "../src/store/compliance.js";
import { createPostgresDatabase } from "../test/helpers/db.js";
import { ms, quantile, table } from "./util.js";

export interface ComplianceRow {
  driver: string;
  prs: number;
  listMs: number;
  filteredMs: number;
  chartsMs: number;
  trailMs: number;
}

async function seed(store: Store, prs: number): Promise<void> {
  await store.db.execute(sql`insert into evaluations (repository, pull_request, head_sha, base_ref, base_sha, policy_source, inputs_digest, risk, findings, requirements, decision, conclusion, created_at)
    select 'org/repo' || (i % 50), i, md5(i::text) || 'abcdefgh', 'main', md5(i::text), 'default', md5(i::text) || md5(i::text),
      (array['low','medium','high','critical'])[1 + i % 4], '[]', '[]', 'decided', (array['success','action_required','failure'])[1 + (i + k) % 3],
      now() - (i || ' minutes')::interval + (k || ' seconds')::interval
    from generate_series(1, ${prs}) i, generate_series(1, 2) k`);
  await store.db.execute(sql`insert into pull_requests (repository, pull_request, title, opened_at) select 'org/repo' || (i % 50), i, 'title ' || i, now() - (i || ' hours')::interval from generate_series(1, ${prs}) i`);
  await store.db.execute(sql`analyze`);
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return quantile(xs, 0.5);
}

async function measure(driver: string, store: Store, prs: number, runs: number): Promise<ComplianceRow> {
  await seed(store, prs);
  const q = createComplianceQueries(store.db);
  const readable = Array.from({ length: 25 }, (_, i) => `org/repo${i}`);
  return {
    driver,
    prs,
    listMs: await time(runs, () => q.agentPullRequests({ readable }, { limit: 50, offset: 0 })),
    filteredMs: await time(runs, () => q.agentPullRequests({ readable, risk: "high", decision: "waiting" }, { limit: 50, offset: 0 })),
    chartsMs: await time(runs, () => q.charts({ readable })),
    trailMs: await time(runs, () => q.trail(readable, "org/repo3", 3)),
  };
}

export async function benchCompliance(sizes: number[], runs: number): Promise<{ markdown: string; rows: ComplianceRow[] }> {
  const rows: ComplianceRow[] = [];
  for (const prs of sizes) {
    const lite = await openStore({ dataDir: "memory://", migrate: true });
    try {
      rows.push(await measure("PGlite", lite, prs, runs));
    } finally {
      await lite.close();
    }
    const database = await createPostgresDatabase();
    const pg = await openStore({ databaseUrl: database.url, migrate: true });
    try {
      rows.push(await measure("Postgres", pg, prs, runs));
    } finally {
      await pg.close();
      await database.drop();
    }
  }
  const markdown = [
    "## Compliance pages' queries",
    "",
    `Median of ${runs} runs after one warm-up; PRs have two evaluations each over 50 repositories, the reader may read 25. ` +
      "The list (first page of 50) and the charts read every readable PR's latest evaluation; the trail reads one PR through the lower(repository) indexes.",
    "",
    table(
      ["Driver", "Agent PRs", "List, page 1 (ms)", "List, risk+decision filter (ms)", "Charts (ms)", "One PR's trail (ms)", "List µs per PR"],
      ["l", "r", "r", "r", "r", "r", "r"],
      rows.map((r) => [r.driver, r.prs.toLocaleString("en"), ms(r.listMs), ms(r.filteredMs), ms(r.chartsMs), ms(r.trailMs), ((r.listMs * 1000) / r.prs).toFixed(1)]),
    ),
  ].join("\n");
  return { markdown, rows };
}
