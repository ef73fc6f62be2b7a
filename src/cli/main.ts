import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { Command, CommanderError } from "commander";
import { registerAuditCommands, registerMigrateCommand } from "./commands/audit.js";
import type { CliIo as StreamingIo } from "./commands/audit.js";
import { registerEvaluateCommand } from "./commands/evaluate.js";
import { registerTelemetryCommands } from "./commands/telemetry.js";
import { registerValidateCommand } from "./commands/validate.js";
import { CliError, EXIT_USAGE } from "./errors.js";
import { processIO } from "./io.js";
import type { CliIO } from "./io.js";
import { packageVersion } from "../version.js";

export { CliError, EXIT_INVALID, EXIT_NOT_SUCCESS, EXIT_OK, EXIT_USAGE } from "./errors.js";
export type { CliIO } from "./io.js";
export { processIO } from "./io.js";

/** Exit code set by the last command action; commander itself knows nothing of exit codes. */
let exitCode = 0;
const setExit = (code: number) => {
  exitCode = code;
};

/**
 * The `agent-gate` program with its commands. Other command groups register themselves on it
 * (`registerXCommands(program)` from src/cli/commands/*.ts); the lead wires them here.
 * Usage errors throw CommanderError (exitOverride) so `runCli` can map them to exit code 2.
 */
export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command("agent-gate")
    .description("Agent Gate: risk labels and code-owner approvals for coding-agent pull requests.")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s.replace(/\n$/, "")),
      writeErr: (s) => io.stderr(s.replace(/\n$/, "")),
    })
    .showHelpAfterError(false)
    .version(packageVersion(), "-V, --version", "print the version (from package.json) and exit")
    .addHelpText("after", HELP_FOOTER);
  registerEvaluateCommand(program, io, setExit);
  registerValidateCommand(program, io, setExit);
  registerTelemetryCommands(program);
  const streaming = streamingIo(io);
  registerAuditCommands(program, streaming);
  registerMigrateCommand(program, streaming);
  return program;
}

/** Shown after `agent-gate --help`: what people run most, and what the exit codes mean to a script or CI job. */
const HELP_FOOTER = `
Examples:
  agent-gate validate .github/agent-gate.yml --codeowners .github/CODEOWNERS
  agent-gate evaluate --base main --head agent/123
  agent-gate telemetry render run.jsonl --format markdown
  agent-gate migrate                                    # DATABASE_URL=postgres://... or PGlite in .data/
  agent-gate audit export --repo octo/repo --since 2026-01-01 --format csv > audit.csv
  agent-gate audit verify

Exit codes:
  0  done: the policy is valid, the decision was printed, the audit chain is intact
  1  invalid: policy errors (file:line: message), a broken audit chain
  2  usage or environment problem: unknown option, missing file, unreachable database (one line on stderr)

Run \`agent-gate <command> --help\` for a command's options. Set AGENT_GATE_DEBUG=1 for stack traces.`;

/**
 * The audit commands stream (millions of rows), so they write to a stream rather than line by line: the real
 * stdout when running for real, an adapter over the test's `CliIO` otherwise. Their exit code goes through
 * `setExit` like every other command's.
 */
function streamingIo(io: CliIO): StreamingIo {
  const forward = (write: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        write(chunk.toString());
        done();
      },
    });
  return {
    stdout: io === processIO ? process.stdout : forward((text) => io.stdout(text.replace(/\n$/, ""))),
    stderr: io === processIO ? process.stderr : { write: (text: string | Uint8Array) => (io.stderr(String(text).replace(/\n$/, "")), true) },
    setExitCode: setExit,
  };
}

/**
 * Run the CLI: 0 evaluated or valid, 1 validation errors, 2 usage or environment errors (one line on stderr,
 * no stack trace; set AGENT_GATE_DEBUG=1 for one).
 */
export async function runCli(argv: string[], io: CliIO = processIO, program: Command = buildProgram(io)): Promise<number> {
  exitCode = 0;
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (e instanceof CliError) {
      io.stderr(`agent-gate: ${e.message}`);
      return e.exitCode;
    }
    io.stderr(`agent-gate: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    if (process.env.AGENT_GATE_DEBUG && e instanceof Error && e.stack) io.stderr(e.stack);
    return EXIT_USAGE;
  }
}

/** True when this module is the program being run (bin/agent-gate.js, `tsx src/cli/main.ts`), not an import. */
function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  let entry: string;
  try {
    entry = realpathSync(argv1);
  } catch {
    return false;
  }
  const self = fileURLToPath(import.meta.url);
  return entry === self || entry.replace(/\.ts$/, ".js") === self.replace(/\.ts$/, ".js") || basename(entry) === "agent-gate.js";
}

if (isEntryPoint()) {
  process.exitCode = await runCli(process.argv.slice(2));
}
