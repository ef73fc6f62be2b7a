/**
 * `agent-gate audit export|verify|checkpoint` and `agent-gate migrate`: the audit store from the command line.
 * Exit codes: 0 done (verify: chain intact and every witness in it), 1 verify found a broken chain or a missing
 * or different witness (checkpoint: none written), 2 environment or usage problem
 * (database unreachable, no audit log there, bad argument): one line on stderr, never a stack trace.
 */
import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { Option } from "commander";
import { exportAudit, type ExportFormat } from "../../services/audit-export.js";
import type { Command } from "commander";
import { sql } from "drizzle-orm";
import {
  DEFAULT_DATA_DIR,
  MEMORY_DATA_DIR,
  StoreUnavailableError,
  describeDatabaseUrl,
  migrate,
  openStore,
  type AuditBreak,
  type AuditWitness,
  type Store,
  type StoreOptions,
} from "../../store/index.js";
import { CHECKPOINT_FORMAT, checkpointJson, parseCheckpoint, parseHeadWitness } from "../checkpoint.js";
import type { AuditCheckpoint } from "../checkpoint.js";

export interface CliIo {
  stdout: Writable;
  stderr: Pick<Writable, "write">;
  setExitCode(code: number): void;
}

const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  setExitCode: (code) => {
    process.exitCode = code;
  },
});

/** An environment or usage problem: printed as one line, exit code 2. */
export class CliEnvironmentError extends Error {
  override readonly name = "CliEnvironmentError";
}

export { CSV_COLUMNS, entryToJsonLine, exportAudit } from "../../services/audit-export.js";
export type { ExportFormat, ExportOptions } from "../../services/audit-export.js";

interface DbFlags {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
}

function storeOptions(flags: DbFlags): StoreOptions {
  const databaseUrl = flags.databaseUrl?.trim() ? flags.databaseUrl.trim() : undefined;
  const dataDir = flags.dataDir?.trim() ? flags.dataDir.trim() : DEFAULT_DATA_DIR;
  return databaseUrl ? { databaseUrl } : { dataDir };
}

function addDbOptions(command: Command): Command {
  return command
    .addOption(new Option("--database-url <url>", "Postgres connection URL (embedded PGlite when unset)").env("DATABASE_URL"))
    .addOption(new Option("--data-dir <dir>", "PGlite data directory when no database URL is given").env("AGENT_GATE_DATA_DIR").default(DEFAULT_DATA_DIR));
}

/** Which database a command used, for its messages: host, port and database, never the user or password. */
function describeTarget(options: StoreOptions): string {
  return options.databaseUrl ? `Postgres at ${describeDatabaseUrl(options.databaseUrl)}` : `PGlite in ${options.dataDir ?? DEFAULT_DATA_DIR}`;
}

/** Opens an existing, migrated audit store (never creates one). */
async function openExistingStore(flags: DbFlags): Promise<Store> {
  const options = storeOptions(flags);
  if (!options.databaseUrl && options.dataDir !== MEMORY_DATA_DIR && !existsSync(options.dataDir ?? DEFAULT_DATA_DIR)) {
    throw new CliEnvironmentError(`no database: ${options.dataDir} does not exist (set DATABASE_URL or --data-dir, or run \`agent-gate migrate\`)`);
  }
  const store = await openStore({ ...options, migrate: false });
  try {
    const rows = await store.db.execute(sql`select to_regclass('public.audit_log')::text as t`);
    const list = (Array.isArray(rows) ? rows : (rows as { rows?: unknown[] }).rows ?? []) as Array<{ t: string | null }>;
    if (!list[0]?.t) throw new CliEnvironmentError("no audit log in this database: run `agent-gate migrate` first");
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function parseSince(value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new CliEnvironmentError(`invalid --since ${JSON.stringify(value)}: use a date like 2026-01-31 or 2026-01-31T12:00:00Z`);
  return date;
}

function parseRepo(value: string): string {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(value)) throw new CliEnvironmentError(`invalid --repo ${JSON.stringify(value)}: use OWNER/NAME`);
  return value;
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? "unknown error";
}

function isBrokenPipe(error: unknown): boolean {
  return typeof error === "object" && error !== null && ["EPIPE", "ERR_STREAM_DESTROYED"].includes(String((error as { code?: unknown }).code));
}

/** Runs an action: expected problems become one stderr line and exit 2, never a stack trace. */
async function run(io: CliIo, action: () => Promise<number>): Promise<void> {
  try {
    io.setExitCode(await action());
  } catch (error) {
    if (isBrokenPipe(error)) {
      // `agent-gate audit export | head`: the reader left; that is not a failure.
      io.setExitCode(0);
      return;
    }
    const prefix = error instanceof StoreUnavailableError || error instanceof CliEnvironmentError ? "" : "unexpected error: ";
    io.stderr.write(`agent-gate: ${prefix}${oneLine(error)}\n`);
    io.setExitCode(2);
  }
}

export function registerAuditCommands(program: Command, io: CliIo = processIo()): void {
  const audit = program.command("audit").description("Export and verify the hash-chained audit log");

  addDbOptions(
    audit
      .command("export")
      .description("Stream audit entries to stdout (oldest first), in constant memory")
      .option("--repo <owner/name>", "only entries of this repository")
      .option("--since <date>", "only entries created at or after this date (ISO 8601)")
      .addOption(new Option("--format <format>", "output format").choices(["jsonl", "csv"]).default("jsonl")),
  ).action((flags: ExportFlags) => run(io, () => exportCommand(io, flags)));

  addDbOptions(
    audit
      .command("verify")
      .description("Walk the whole chain; exit 1 naming the first broken entry, or a witness (check run, checkpoint) the chain no longer holds")
      .option("--head <seq:hash...>", "an entry the chain must still contain, as named in an approval check run (`Audit entry SEQ:HASH`)")
      .option("--checkpoint <file...>", "a checkpoint file written by `agent-gate audit checkpoint`"),
  ).action((flags: DbFlags & WitnessFlags) => run(io, () => verifyCommand(io, flags)));

  addDbOptions(
    audit
      .command("checkpoint")
      .description("Verify the chain, then write a checkpoint naming its newest entry (keep it outside the database; `audit verify --checkpoint` takes it)")
      .option("--out <file>", "where to write the checkpoint (default: stdout)")
      .option("--checkpoint <file...>", "earlier checkpoints the chain must still contain before a new one is written"),
  ).action((flags: CheckpointFlags) => run(io, () => checkpointCommand(io, flags)));
}

type ExportFlags = DbFlags & { repo?: string; since?: string; format: ExportFormat };
type CheckpointFlags = DbFlags & WitnessFlags & { out?: string };

async function exportCommand(io: CliIo, flags: ExportFlags): Promise<number> {
  const repository = flags.repo === undefined ? undefined : parseRepo(flags.repo);
  const since = flags.since === undefined ? undefined : parseSince(flags.since);
  const store = await openExistingStore(flags);
  const onError = (error: unknown) => {
    if (!isBrokenPipe(error)) io.stderr.write(`agent-gate: cannot write output: ${oneLine(error)}\n`);
  };
  io.stdout.on("error", onError);
  try {
    await exportAudit(store, { repository, since, format: flags.format, out: io.stdout });
    return 0;
  } finally {
    io.stdout.off("error", onError);
    await store.close();
  }
}

async function verifyCommand(io: CliIo, flags: DbFlags & WitnessFlags): Promise<number> {
  const witnesses = await readWitnesses(flags);
  const store = await openExistingStore(flags);
  io.stderr.write(`checking the audit log in ${describeTarget(storeOptions(flags))}\n`);
  try {
    const result = await store.audit.verify({ witnesses });
    if (result.ok) {
      const checked = witnesses.length > 0 ? `; ${witnesses.length} witness${witnesses.length === 1 ? "" : "es"} present` : "";
      io.stdout.write(`audit log intact: ${result.count} entries, head ${result.headHash}${checked}\n`);
      return 0;
    }
    io.stdout.write(`${describeBreak(result.brokenAt, result.count)}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

async function checkpointCommand(io: CliIo, flags: CheckpointFlags): Promise<number> {
  const witnesses = await readWitnesses(flags);
  const store = await openExistingStore(flags);
  let checkpoint: AuditCheckpoint;
  try {
    const result = await store.audit.verify({ witnesses });
    if (!result.ok) {
      io.stdout.write(`${describeBreak(result.brokenAt, result.count)}; no checkpoint written\n`);
      return 1;
    }
    if (result.headId === null) throw new CliEnvironmentError("the audit log is empty: nothing to checkpoint yet");
    checkpoint = { format: CHECKPOINT_FORMAT, seq: result.headId, hash: result.headHash, count: result.count, takenAt: new Date().toISOString() };
  } finally {
    await store.close();
  }
  if (flags.out === undefined) {
    io.stdout.write(checkpointJson(checkpoint));
  } else {
    // Written whole or not at all: a half-written checkpoint would fail every later verify.
    const temp = `${flags.out}.${process.pid}.tmp`;
    await writeFile(temp, checkpointJson(checkpoint), { flag: "wx" });
    await rename(temp, flags.out);
    io.stderr.write(`checkpoint: entry ${checkpoint.seq}:${checkpoint.hash} (${checkpoint.count} entries) written to ${flags.out}\n`);
  }
  return 0;
}

interface WitnessFlags {
  head?: string[] | undefined;
  checkpoint?: string[] | undefined;
}

async function readWitnesses(flags: WitnessFlags): Promise<AuditWitness[]> {
  const witnesses: AuditWitness[] = [];
  for (const value of flags.head ?? []) {
    const witness = parseHeadWitness(value);
    if (!witness) throw new CliEnvironmentError(`invalid --head ${JSON.stringify(value)}: use SEQ:HASH (the entry number and its 64-hex-digit hash, as in the check run)`);
    witnesses.push(witness);
  }
  for (const file of flags.checkpoint ?? []) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new CliEnvironmentError(`cannot read checkpoint ${file}: ${oneLine(error)}`);
    }
    const parsed = parseCheckpoint(text, file);
    if (!parsed.ok) throw new CliEnvironmentError(parsed.error);
    witnesses.push(parsed.witness);
  }
  return witnesses;
}

function describeBreak(brokenAt: { id: number; reason: AuditBreak }, count: number): string {
  if (brokenAt.reason === "witness entry missing") {
    return `audit log BROKEN: entry ${brokenAt.id}, named by a check run or checkpoint, is not in the chain (${count} ${count === 1 ? "entry" : "entries"} verified): the log was truncated or rewritten`;
  }
  if (brokenAt.reason === "witness hash differs") {
    return `audit log BROKEN at entry ${brokenAt.id}: its hash differs from the one a check run or checkpoint recorded: the log was rewritten (${count} ${count === 1 ? "entry" : "entries"} before it verified)`;
  }
  return `audit log BROKEN at entry ${brokenAt.id}: ${brokenAt.reason} (${count} ${count === 1 ? "entry" : "entries"} before it verified)`;
}

export function registerMigrateCommand(program: Command, io: CliIo = processIo()): void {
  addDbOptions(program.command("migrate").description("Apply pending database migrations and exit")).action(async (flags: DbFlags) => {
    await run(io, async () => {
      const options = storeOptions(flags);
      const result = await migrate(options);
      io.stdout.write(`${describeTarget(options)}: ${result.applied} migration(s) applied, schema up to date\n`);
      return 0;
    });
  });
}
