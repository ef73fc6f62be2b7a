/**
 * Running commands: every command the action runs is recorded as a `command` event (secrets redacted),
 * and privileged commands go through `sudo -n` unless the action already runs as root.
 */
import { spawn } from "node:child_process";
import type { BundleEvent } from "../../src/telemetry/bundle.js";

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Leave this command out of the telemetry (e.g. probes that say nothing about the run). */
  quiet?: boolean;
}

export class CommandError extends Error {
  override name = "CommandError";
  constructor(
    message: string,
    readonly result: CommandResult,
  ) {
    super(message);
  }
}

const MAX_OUTPUT_IN_EVENT = 4_000;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Ordered telemetry events plus the redaction every recorded string goes through. */
export class EventLog {
  private readonly list: BundleEvent[] = [];
  private readonly secrets = new Set<string>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Values that must never appear in telemetry (tokens, the agent's API keys). */
  addSecret(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join("***");
    return out;
  }

  time(): string {
    return this.now().toISOString();
  }

  add(event: BundleEvent): void {
    this.list.push(redactEvent(event, (s) => this.redact(s)));
  }

  events(): BundleEvent[] {
    return this.list.map((e, i) => ({ e, i })).sort((a, b) => a.e.time.localeCompare(b.e.time) || a.i - b.i).map(({ e }) => e);
  }
}

function redactEvent(event: BundleEvent, redact: (s: string) => string): BundleEvent {
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return redact(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(event) as BundleEvent;
}

export function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quoteArg).join(" ");
}

/** Runs a command to completion, capturing its output; no shell. */
export function runCommand(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => {
      resolve({ exitCode: 127, signal: null, stdout: "", stderr: e.message, durationMs: performance.now() - started });
    });
    child.on("close", (code, signal) => {
      resolve({ exitCode: code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), durationMs: performance.now() - started });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

export type Runner = (cmd: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

/** The action's hands: ordinary and privileged commands, each recorded in the event log. */
export class Shell {
  readonly isRoot: boolean;

  constructor(
    readonly log: EventLog,
    options: { isRoot?: boolean; privilegedPrefix?: readonly string[] } = {},
  ) {
    this.isRoot = options.isRoot ?? process.getuid?.() === 0;
    this.privilegedPrefix = options.privilegedPrefix ?? [];
  }

  private readonly privilegedPrefix: readonly string[];

  run: Runner = async (cmd, args, options = {}) => {
    const time = this.log.time();
    const result = await runCommand(cmd, args, options);
    if (!options.quiet) {
      const output = `${result.stdout}${result.stderr}`.trim();
      this.log.add({
        time,
        type: "command",
        command: commandLine(cmd, args),
        by: "action",
        exitCode: result.exitCode,
        durationMs: Math.round(result.durationMs),
        ...(output ? { output: output.slice(-MAX_OUTPUT_IN_EVENT) } : {}),
      });
    }
    if (result.exitCode !== 0 && !options.allowFailure) {
      const detail = this.log.redact(result.stderr.trim() || result.stdout.trim()).slice(-1_000);
      throw new CommandError(`${commandLine(cmd, args)} exited with ${result.exitCode ?? result.signal}${detail ? `: ${detail}` : ""}`, result);
    }
    return result;
  };

  /** As root: directly when the action is root, otherwise through non-interactive sudo. */
  privileged: Runner = (cmd, args, options) => {
    const full = [...this.privilegedPrefix, ...(this.isRoot ? [] : ["sudo", "-n"]), cmd, ...args];
    const [head, ...rest] = full;
    return this.run(head ?? cmd, rest, options);
  };

  /** Whether privileged commands can run at all (root, or passwordless sudo). */
  async canRunPrivileged(): Promise<boolean> {
    if (this.isRoot) return true;
    const r = await runCommand("sudo", ["-n", "true"]);
    return r.exitCode === 0;
  }
}
