/** Which check run this App created for a head and check name (see `checkRuns` in schema.ts). */
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "./executor.js";
import { placeholders, reusableStatement } from "./reusable-statement.js";
import { checkRuns } from "./schema.js";

export interface CheckRunsRepository {
  find(repository: string, headSha: string, name: string): Promise<number | null>;
  /** Remembers (or replaces) the check run of this head and name. */
  remember(repository: string, headSha: string, name: string, checkRunId: number): Promise<void>;
}

// Built once (reusableStatement): every publication looks its check run up, and a new one remembers it.
const findStatement = reusableStatement<{ repository: string; headSha: string; name: string }, Array<{ id: number }>>("checkRuns.find", (db) => {
  const p = placeholders("repository", "headSha", "name");
  return db
    .select({ id: checkRuns.checkRunId })
    .from(checkRuns)
    .where(and(eq(checkRuns.repository, p.repository), eq(checkRuns.headSha, p.headSha), eq(checkRuns.name, p.name)))
    .limit(1);
});

const rememberStatement = reusableStatement<{ repository: string; headSha: string; name: string; checkRunId: number }, unknown>("checkRuns.remember", (db) =>
  db
    .insert(checkRuns)
    .values(placeholders("repository", "headSha", "name", "checkRunId"))
    .onConflictDoUpdate({ target: [checkRuns.repository, checkRuns.headSha, checkRuns.name], set: { checkRunId: sql`excluded.check_run_id` } }),
);

export function createCheckRuns(exec: Executor): CheckRunsRepository {
  return {
    async find(repository, headSha, name) {
      const rows = await findStatement(exec.db(), { repository: repository.toLowerCase(), headSha, name });
      return rows[0]?.id ?? null;
    },
    async remember(repository, headSha, name, checkRunId) {
      await rememberStatement(exec.db(), { repository: repository.toLowerCase(), headSha, name, checkRunId });
    },
  };
}
