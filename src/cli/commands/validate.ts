import { readFile, stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import type { Command } from "commander";
import { CODEOWNERS_MAX_BYTES, parseCodeowners } from "../../policy/codeowners.js";
import { MAX_POLICY_BYTES, POLICY_PATH, formatPolicyError, parsePolicy } from "../../policy/config.js";
import { CliError, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "../errors.js";
import type { CliIO } from "../io.js";

export interface ValidateOptions {
  codeowners?: string;
}

async function readText(path: string, label: string, maxBytes: number): Promise<{ text: string | undefined; size: number }> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error("not a file");
    size = s.size;
  } catch {
    throw new CliError(EXIT_USAGE, `cannot read ${label}: no such file`);
  }
  if (size >= maxBytes) return { text: undefined, size };
  try {
    return { text: await readFile(path, "utf8"), size };
  } catch (e) {
    throw new CliError(EXIT_USAGE, `cannot read ${label}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Validate a policy file and/or a CODEOWNERS file; prints `file:line: message` per problem. */
export async function runValidate(file: string | undefined, opts: ValidateOptions, io: CliIO): Promise<number> {
  const cwd = io.cwd();
  let policyFile = file;
  if (policyFile === undefined && !opts.codeowners) policyFile = POLICY_PATH;
  if (policyFile === undefined && opts.codeowners) {
    // With only --codeowners, the policy is checked too when it sits in its usual place.
    const found = await stat(resolve(cwd, POLICY_PATH)).then((s) => s.isFile(), () => false);
    if (found) policyFile = POLICY_PATH;
  }

  let problems = 0;
  if (policyFile !== undefined) {
    const label = displayPath(cwd, policyFile);
    const { text } = await readText(resolve(cwd, policyFile), label, MAX_POLICY_BYTES + 1);
    const parsed = parsePolicy(text ?? " ".repeat(MAX_POLICY_BYTES + 1), label);
    if (parsed.ok) {
      const own = parsed.policy.risk.rules.filter((r) => r.origin === "policy").length;
      io.stdout(`${label}: valid (${parsed.policy.risk.extends === "recommended" ? "recommended preset" : "no preset"} + ${own} rule${own === 1 ? "" : "s"} of its own)`);
    } else {
      for (const e of parsed.errors) io.stdout(formatPolicyError(e));
      problems += parsed.errors.length;
    }
  }

  if (opts.codeowners) {
    const label = displayPath(cwd, opts.codeowners);
    const { text, size } = await readText(resolve(cwd, opts.codeowners), label, CODEOWNERS_MAX_BYTES);
    const co = parseCodeowners(text ?? "", { path: label, byteLength: size });
    if (co.tooLarge) {
      io.stdout(`${label}: the file is 3 MB or larger; GitHub ignores it entirely`);
      problems++;
    }
    for (const e of co.errors) io.stdout(`${label}:${e.line}: ${e.message}`);
    problems += co.errors.length;
    if (!co.tooLarge && co.errors.length === 0) io.stdout(`${label}: valid (${co.ruleCount} rule${co.ruleCount === 1 ? "" : "s"})`);
  }
  return problems > 0 ? EXIT_INVALID : EXIT_OK;
}

function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, resolve(cwd, path));
  return rel && !rel.startsWith("..") ? rel.split("\\").join("/") : path;
}

export function registerValidateCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("validate")
    .description(`Validate a policy file (default ${POLICY_PATH}) and, with --codeowners, a CODEOWNERS file. Prints file:line: message per error; exit 1 on errors.`)
    .argument("[file]", `the policy file (default ${POLICY_PATH})`)
    .option("--codeowners <file>", "also validate this CODEOWNERS file")
    .action(async (file: string | undefined, opts: ValidateOptions) => {
      setExit(await runValidate(file, opts, io));
    });
}
