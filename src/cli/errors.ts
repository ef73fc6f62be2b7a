/** Exit codes of `agent-gate` (issue 2, section 6). */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
/** `evaluate`: the decision is not `success` (it waits for approval, or fails). The same code as invalid: not mergeable. */
export const EXIT_NOT_SUCCESS = 1;
export const EXIT_USAGE = 2;

/**
 * An error the CLI reports as one line on stderr and an exit code, never a stack trace.
 * Commands throw it; `runCli` turns it into the exit code.
 */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CliError";
  }
}
