import { resolve } from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { CODEOWNERS_LOCATIONS, CODEOWNERS_MAX_BYTES, parseCodeowners } from "../../policy/codeowners.js";
import type { Codeowners } from "../../policy/codeowners.js";
import { MAX_POLICY_BYTES, POLICY_PATH, defaultPolicy, formatPolicyError, parsePolicy } from "../../policy/config.js";
import type { ResolvedPolicy } from "../../policy/config.js";
import { policyErrorDecision, prepareEvaluation } from "../../policy/decision.js";
import { renderDecisionMarkdown, renderDecisionText } from "../../policy/render.js";
import type { Decision, Review, TeamMembership } from "../../policy/types.js";
import { CliError, EXIT_INVALID, EXIT_NOT_SUCCESS, EXIT_OK, EXIT_USAGE } from "../errors.js";
import { branchName, changedFiles, commitLogins, defaultBaseRef, mergeBase, openRepository, readBlob, resolveCommit } from "../git.js";
import type { CliIO } from "../io.js";

export interface EvaluateOptions {
  repo?: string;
  base?: string;
  head?: string;
  author?: string;
  label?: string[];
  title?: string;
  /** Simulated approvals: `login` (on the head) or `login@<commit>`. */
  approve?: string[];
  /** Simulated "changes requested" reviews, same forms as `approve`. */
  requestChanges?: string[];
  /** Simulated team membership: `org/team=alice,carol`. */
  team?: string[];
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
  const simulated = await simulatedReviews(repo, headSha, opts);
  const teams = parseTeams(opts.team ?? []);
  const prepared = prepareEvaluation({
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
      title: opts.title,
    },
    reviews: simulated,
  });
  const commits = { logins: await commitLogins(repo, from, headSha), truncated: false };
  const decision = prepared.decide(teams, { commits });
  io.stdout(format(decision, opts.format));
  // The App would read these teams' members; without --team the simulation counts nobody in them.
  const known = new Set(Object.keys(teams).map((t) => t.toLowerCase()));
  const missing = prepared.needs.teams.filter((t) => !known.has(t.toLowerCase()));
  if (missing.length > 0) io.stderr(`note: team membership not given, counted as nobody: ${missing.join(", ")} (add --team ${missing[0]!.slice(1)}=login,login)`);
  // A CI job can gate on the command: anything but `success` (waiting for approval, failure) is non-zero.
  return decision.conclusion === "success" || opts.exitZero ? EXIT_OK : EXIT_NOT_SUCCESS;
}

/**
 * `--approve alice`, `--approve bob@<sha>`, `--request-changes vic`: reviews as GitHub would list them, in the
 * order given (later ones are newer). A commit may be abbreviated or any ref git resolves; default the head.
 * @throws {CliError} for a malformed login.
 */
async function simulatedReviews(repo: string, headSha: string, opts: EvaluateOptions): Promise<Review[]> {
  const given: Array<{ spec: string; state: Review["state"] }> = [
    ...(opts.approve ?? []).map((spec) => ({ spec, state: "APPROVED" as const })),
    ...(opts.requestChanges ?? []).map((spec) => ({ spec, state: "CHANGES_REQUESTED" as const })),
  ];
  const reviews: Review[] = [];
  for (const [i, { spec, state }] of given.entries()) {
    const at = spec.indexOf("@", 1);
    const login = (at > 0 ? spec.slice(0, at) : spec).replace(/^@/, "");
    if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:\[bot\])?$/.test(login)) throw new CliError(EXIT_USAGE, `not a GitHub login: "${spec}" (expected login or login@commit)`);
    const commitId = at > 0 ? await resolveCommit(repo, spec.slice(at + 1)) : headSha;
    reviews.push({ id: i + 1, reviewer: login, reviewerType: /\[bot\]$/.test(login) ? "Bot" : "User", state, commitId, submittedAt: new Date(Date.UTC(2000, 0, 1, 0, 0, i)).toISOString() });
  }
  return reviews;
}

/**
 * `--team acme/dba=alice,carol` (a leading @ allowed) as the engine's membership map.
 * @throws {CliError} for anything else.
 */
export function parseTeams(specs: readonly string[]): TeamMembership {
  const teams: TeamMembership = {};
  for (const spec of specs) {
    const match = /^@?([A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._-]*)=(.*)$/.exec(spec);
    if (!match) throw new CliError(EXIT_USAGE, `--team expects org/team=login,login, got "${spec}"`);
    const members = match[2]!.split(",").map((m) => m.trim().replace(/^@/, "")).filter((m) => m.length > 0);
    const key = `@${match[1]!}`;
    teams[key] = [...(teams[key] ?? []), ...members];
  }
  return teams;
}

function format(decision: Decision, fmt: EvaluateOptions["format"]): string {
  if (fmt === "json") return JSON.stringify(decision, null, 2);
  if (fmt === "markdown") return renderDecisionMarkdown(decision);
  return renderDecisionText(decision).replace(/\n$/, "");
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
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
    .option("--label <name...>", "labels the pull request would carry (agent detection, conditions)")
    .option("--title <text>", "the pull request title (title conditions)")
    .option("--approve <login[@commit]>", "simulate an approval by login, on the head or on the given commit (repeatable)", collect, [])
    .option("--request-changes <login[@commit]>", "simulate a \"changes requested\" review (repeatable)", collect, [])
    .option("--team <org/team=logins>", "simulate a team's members, e.g. acme/dba=alice,carol (repeatable)", collect, [])
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "markdown"]).default("text"))
    .option("--exit-zero", "exit 0 whatever the decision, once it is printed (the old behaviour; invalid policy still exits 1)")
    .action(async (opts: EvaluateOptions) => {
      setExit(await runEvaluate(opts, io));
    });
}

