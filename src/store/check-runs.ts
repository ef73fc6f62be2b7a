/** Which check run this App created for a head and check name (see `checkRuns` in schema.ts). */
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "./executor.js";
import { checkRuns } from "./schema.js";

export interface CheckRunsRepository {
  find(repository: string, headSha: string, name: string): Promise<number | null>;
  /** Remembers (or replaces) the check run of this head and name. */
  remember(repository: string, headSha: string, name: string, checkRunId: number): Promise<void>;
}

export function createCheckRuns(exec: Executor): CheckRunsRepository {
  return {
    async find(repository, headSha, name) {
      const rows = await exec
        .db()
        .select({ id: checkRuns.checkRunId })
        .from(checkRuns)
        .where(and(eq(checkRuns.repository, repository.toLowerCase()), eq(checkRuns.headSha, headSha), eq(checkRuns.name, name)))
        .limit(1);
      return rows[0]?.id ?? null;
    },
    async remember(repository, headSha, name, checkRunId) {
      await exec
        .db()
        .insert(checkRuns)
        .values({ repository: repository.toLowerCase(), headSha, name, checkRunId })
        .onConflictDoUpdate({ target: [checkRuns.repository, checkRuns.headSha, checkRuns.name], set: { checkRunId: sql`excluded.check_run_id` } });
    },
  };
}
