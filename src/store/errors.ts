/**
 * Raised when the configured database cannot be reached or used (wrong host, refused, bad credentials,
 * missing database). Its message is one line meant for an operator; callers print `message`, never the stack.
 */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  constructor(
    message: string,
    /** Where we tried, e.g. `127.0.0.1:5432` or `pglite:.data/`. Never contains a password. */
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A caller used the store in a way that would deadlock or break atomicity (see `Store.transaction`). */
export class StoreUsageError extends Error {
  override readonly name = "StoreUsageError";
}

const POSTGRES_SCHEMES = new Set(["postgres:", "postgresql:"]);

/**
 * Checks what postgres.js would silently accept: a URL of another database (`mysql://…` was treated as Postgres)
 * or with no host (`postgres://` connected to the local socket and migrated the `root` database). A Unix socket
 * stays possible the libpq way, with `?host=/var/run/postgresql`.
 * @throws {StoreUnavailableError} with one line that never contains the password.
 */
export function checkDatabaseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreUnavailableError("DATABASE_URL is not a valid Postgres URL", "(unparseable DATABASE_URL)");
  }
  if (!POSTGRES_SCHEMES.has(parsed.protocol)) {
    throw new StoreUnavailableError(`DATABASE_URL must be a Postgres URL (postgres:// or postgresql://), not ${parsed.protocol}//`, "(not a Postgres URL)");
  }
  if (!parsed.hostname && !parsed.searchParams.get("host")) {
    throw new StoreUnavailableError("DATABASE_URL has no host: use postgres://USER:PASSWORD@HOST:5432/DATABASE (or ?host=/path/to/socket)", "(no host in DATABASE_URL)");
  }
  if (!parsed.pathname.replace(/^\//, "")) {
    throw new StoreUnavailableError("DATABASE_URL names no database: add it after the host, as in postgres://USER@HOST:5432/agent_gate", describeDatabaseUrl(url));
  }
}

/** host:port (and database) of a Postgres URL, without user or password, for messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || "localhost";
    const port = parsed.port || "5432";
    const db = parsed.pathname.replace(/^\//, "");
    return db ? `${host}:${port}/${db}` : `${host}:${port}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/** One short reason for a connection failure, from postgres.js / Node / server errors. */
export function describeConnectionError(error: unknown): string {
  if (error && typeof error === "object") {
    const e = error as { code?: unknown; message?: unknown; errors?: unknown };
    const code = typeof e.code === "string" ? e.code : undefined;
    const known: Record<string, string> = {
      ECONNREFUSED: "connection refused",
      ENOTFOUND: "host not found",
      EAI_AGAIN: "host name lookup failed",
      ETIMEDOUT: "connection timed out",
      CONNECT_TIMEOUT: "connection timed out",
      EHOSTUNREACH: "host unreachable",
      ENETUNREACH: "network unreachable",
      ECONNRESET: "connection reset",
      "28P01": "password authentication failed",
      "28000": "authentication rejected",
      "3D000": "database does not exist",
      "57P03": "server is starting up or shutting down",
    };
    if (code && known[code]) return `${known[code]} (${code})`;
    // AggregateError (e.g. IPv4 and IPv6 both refused) carries the real errors inside.
    if (Array.isArray(e.errors) && e.errors.length > 0) return describeConnectionError(e.errors[0]);
    const message = typeof e.message === "string" ? e.message.split("\n")[0] : undefined;
    if (message) return code ? `${message} (${code})` : message;
  }
  return String(error).split("\n")[0] ?? "unknown error";
}
