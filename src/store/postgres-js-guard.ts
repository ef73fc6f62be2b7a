/**
 * postgres.js 3.4.9 (the latest release) can end the process when a connection closes under it: a write under
 * 1 KiB is deferred with `setImmediate(nextWrite)`, the connection closes (`socket = null`) before it runs, and
 * `socket.write` throws from the immediate, where no caller can catch it. Seen here in the Postgres outage test;
 * upstream: porsager/postgres#1154 and #1208, with the guard proposed in #1168 and #1209 (open, unreleased).
 *
 * On a pooled connection (we never `reserve()` one) the close has already rejected that connection's queries with
 * CONNECTION_CLOSED, so the buffered write is moot and the job that issued them is retried as for any database error.
 * This recognises exactly that throw and lets the process go on; every other uncaught error still ends it, as
 * Node would. Remove it once a postgres.js release guards `nextWrite`.
 */

/** The throw from postgres.js's deferred `nextWrite` on a connection that has already closed. */
export function isPostgresJsClosedSocketWrite(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  if (!/^Cannot read properties of null \(reading 'write'\)$/.test(error.message)) return false;
  const top = (error.stack ?? "").split("\n").find((line) => line.trimStart().startsWith("at "));
  return top !== undefined && /\bnextWrite\b/.test(top) && /[/\\]postgres[/\\](src|cjs[/\\]src)[/\\]connection\.js:/.test(top);
}

/**
 * Installs the guard on `proc`. Anything else uncaught is written to stderr and ends the process with code 1, as
 * Node does without a handler.
 */
export function guardPostgresJsClosedSocketWrite(proc: NodeJS.Process, warn: (error: Error) => void): void {
  proc.on("uncaughtException", (error) => {
    if (isPostgresJsClosedSocketWrite(error)) {
      warn(error);
      return;
    }
    proc.stderr.write(`${error instanceof Error ? (error.stack ?? String(error)) : String(error)}\n`);
    proc.exit(1);
  });
}
