import { resolve } from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { CODEOWNERS_LOCATIONS, CODEOWNERS_MAX_BYTES, parseCodeowners } from "../../policy/codeowners.js";
import type { Codeowners } from "../../policy/codeowners.js";
import { MAX_POLICY_BYTES, POLICY_PATH, defaultPolicy, formatPolicyError, parsePolicy } from "../../policy/config.js";
import type { ResolvedPolicy } from "../../policy/config.js";
import { evaluate, policyErrorDecision } from "../../policy/decision.js";
import { renderDecisionMarkdown, renderDecisionText } from "../../policy/render.js";
import type { Decision } from "../../policy/types.js";
import { EXIT_INVALID, EXIT_NOT_SUCCESS, EXIT_OK } from "../errors.js";
import { branchName, changedFiles, defaultBaseRef, mergeBase, openRepository, readBlob, resolveCommit } from "../git.js";
import type { CliIO } from "../io.js";

export interface EvaluateOptions {
  repo?: string;
  base?: string;
  head?: string;
  author?: string;
  label?: string[];
  format: "text" | "json" | "markdown";
  /** The old behaviour: exit 0 whatever the decision (an invalid policy still exits 1). */
  exitZero?: boolean;
}

/** Policy and CODEOWNERS as they are on the base commit (invariant 1): never the working tree, never the head. */
export async function loadBasePolicy(
  repo: string,
  baseSha: string,
  baseName: string,
): Promise<{ ok: true; policy: ResolvedPolicy; source: string } | { ok: false; errors: string[]; decisionErrors: Parameters<typeof policyErrorDecision>[0]["errors"] }> {
  const blob = await readBlob(repo, baseSha, POLICY_PATH, MAX_POLICY_BYTES + 1);
  if (!blob) {
    return { ok: true, policy: defaultPolicy(), source: `recommended preset (no ${POLICY_PATH} on ${baseName})` };
  }
  // Too large to read: parsePolicy refuses it with a clear error rather than the CLI falling back to the preset.
  const parsed = parsePolicy(blob.text ?? " ".repeat(MAX_POLICY_BYTES + 1), POLICY_PATH);
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map(formatPolicyError), decisionErrors: parsed.errors };
  return { ok: true, policy: parsed.policy, source: `${POLICY_PATH} on ${baseName}` };
}

export async function loadBaseCodeowners(repo: string, baseSha: string): Promise<Codeowners> {
  for (const location of CODEOWNERS_LOCATIONS) {
    const blob = await readBlob(repo, baseSha, location, CODEOWNERS_MAX_BYTES);
    if (!blob) continue;
    return parseCodeowners(blob.text ?? "", { path: location, byteLength: blob.size });
  }
  return parseCodeowners("", { path: null });
}

export async function runEvaluate(opts: EvaluateOptions, io: CliIO): Promise<number> {
  const repo = await openRepository(resolve(io.cwd(), opts.repo ?? "."));
  const baseName = opts.base ?? (await defaultBaseRef(repo));
  const headName = opts.head ?? "HEAD";
  const baseSha = await resolveCommit(repo, baseName);
  const headSha = await resolveCommit(repo, headName);
  const from = await mergeBase(repo, baseSha, headSha);

  const loaded = await loadBasePolicy(repo, baseSha, baseName);
  if (!loaded.ok) {
    for (const line of loaded.errors) io.stderr(line);
    if (opts.format !== "text") {
      const decision = policyErrorDecision({ errors: loaded.decisionErrors, policySource: { source: `${POLICY_PATH} on ${baseName}`, ref: baseSha }, headSha });
      io.stdout(format(decision, opts.format));
    }
    return EXIT_INVALID;
  }

  const codeowners = await loadBaseCodeowners(repo, baseSha);
  const files = await changedFiles(repo, from, headSha);
  const decision = evaluate({
    policy: loaded.policy,
    policySource: { source: loaded.source, ref: baseSha },
    codeowners,
    files,
    pr: {
      author: opts.author ?? "unknown",
      baseRef: baseName,
      headRef: await branchName(repo, headName),
      headSha,
      labels: opts.label ?? [],
    },
    reviews: [],
    teams: {},
  });
  io.stdout(format(decision, opts.format));
  // A CI job can gate on the command: anything but `success` (waiting for approval, failure) is non-zero.
  return decision.conclusion === "success" || opts.exitZero ? EXIT_OK : EXIT_NOT_SUCCESS;
}

function format(decision: Decision, fmt: EvaluateOptions["format"]): string {
  if (fmt === "json") return JSON.stringify(decision, null, 2);
  if (fmt === "markdown") return renderDecisionMarkdown(decision);
  return renderDecisionText(decision).replace(/\n$/, "");
}

export function registerEvaluateCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("evaluate")
    .description(
      "Evaluate the changes between merge-base(BASE, HEAD) and HEAD of a local repository with the policy and CODEOWNERS of the BASE ref (never the working tree), and print the decision. Exit 0 when the decision is success, 1 when it is not (approval needed, failure, invalid policy), 2 on usage errors.",
    )
    .option("--repo <dir>", "the repository", ".")
    .option("--base <ref>", "the base ref whose policy and CODEOWNERS apply (default: origin's default branch, else main)")
    .option("--head <ref>", "the head ref to evaluate", "HEAD")
    .option("--author <login>", "the pull request author's login (agent detection, self-approval)")
    .option("--label <name...>", "labels the pull request would carry (agent detection)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "markdown"]).default("text"))
    .option("--exit-zero", "exit 0 whatever the decision, once it is printed (the old behaviour; invalid policy still exits 1)")
    .action(async (opts: EvaluateOptions) => {
      setExit(await runEvaluate(opts, io));
    });
}

