/** Where a command writes and which folder it starts from; tests pass their own to run commands in-process. */
export interface CliIO {
  /** One chunk of output; a newline is added. */
  stdout(text: string): void;
  stderr(text: string): void;
  cwd(): string;
}

export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  cwd: () => process.cwd(),
};
