import { z } from "zod";
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";
import type { Node as YamlNode } from "yaml";
import { MAX_POLICY_ALIASES, MAX_POLICY_BYTES, MAX_POLICY_DEPTH, MAX_POLICY_ERRORS } from "../shared/limits.js";
import { prConditionFields } from "./conditions.js";
import { approvalRuleSchema, disapprovalSchema, noDuplicateNames, requestsSchema } from "./rules-schema.js";
import { glob, level, owner } from "./schema-common.js";
import { DETECTORS, DETECTOR_REGISTRY } from "./detectors/index.js";
import type { DetectorId } from "./detectors/index.js";
import { GATE_CONTROL_RULE, RECOMMENDED_RULES, RESERVED_RULE_IDS } from "./preset.js";
import { KNOWN_FILE_STATUSES } from "./types.js";

/** Where the App and the CLI read the policy, always from the base branch (invariant 1). */
export const POLICY_PATH = ".github/agent-gate.yml";

export { MAX_POLICY_BYTES, MAX_POLICY_DEPTH, MAX_POLICY_ERRORS };

// ---------------------------------------------------------------------------------------------------------
// Schema: the one source of truth for the file's shape, its validation and the generated JSON Schema.
//
// Every refinement zod checks in code also goes into the JSON Schema (`.meta`) where JSON Schema draft-07 can say
// it, so an editor rejects what `agent-gate validate` rejects (test/policy/schema-parity.test.ts feeds both the
// same files). What it cannot say: a glob picomatch cannot compile, and duplicate rule ids (JSON Schema has no
// uniqueness by property); only the CLI and the App catch those.

const githubLogin = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "expected a GitHub login without @, e.g. alice")
  .describe("A GitHub user login, without @.");

const teamRef = z
  .string()
  .regex(/^@[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, "expected a team as @org/team-slug")
  .describe("A team as @org/team-slug.");

export { DETECTORS };
/** A detector's id, as a rule's `detect:` names it. */
export type Detector = DetectorId;

const ruleSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "expected lowercase letters, digits, '.', '_' or '-' (at most 64)")
      .meta({ not: { enum: [...RESERVED_RULE_IDS] } })
      .describe(
        "The rule's name, shown in findings. Reusing the id of a recommended rule replaces that rule. `gate-control` and `evaluation-incomplete` are reserved.",
      ),
    level: level.describe("The risk level of a pull request this rule fires on."),
    reason: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("One line a maintainer understands: why this is risky. Shown next to every finding."),
    paths: z
      .array(glob)
      .min(1)
      .optional()
      .describe(
        "Files the rule applies to. A renamed or copied file matches when its old or its new path does. Omitted: every file.",
      ),
    excludePaths: z.array(glob).optional().describe("Files the rule never applies to, even when `paths` matches."),
    detect: z
      .enum(DETECTORS)
      .optional()
      .describe(
        `A built-in content or mode check the file must also trip: ${DETECTOR_REGISTRY.map((d) => `\`${d.id}\` (${d.description})`).join(", ")}.`,
      ),
    when: z
      .strictObject({
        status: z
          .array(z.enum(KNOWN_FILE_STATUSES))
          .min(1)
          .optional()
          .describe("The file's status must be one of these (GitHub's: added, removed, modified, renamed, copied, changed, unchanged)."),
        binary: z.boolean().optional().describe("true: only binary files; false: only text files."),
        ...prConditionFields,
      })
      .optional()
      .describe(
        "Further conditions; all given must hold. `status` and `binary` select files; the others are about the whole pull request (base branch, author, agent, labels, title, size).",
      ),
  })
  .superRefine((rule, ctx) => {
    if (RESERVED_RULE_IDS.includes(rule.id)) {
      ctx.addIssue({ code: "custom", path: ["id"], message: `"${rule.id}" is built in and always on; it cannot be redefined` });
    }
    if (!rule.paths && !rule.detect && !rule.when) {
      ctx.addIssue({ code: "custom", message: "a rule needs at least one of paths, detect or when" });
    }
  })
  .meta({ anyOf: [{ required: ["paths"] }, { required: ["detect"] }, { required: ["when"] }] })
  .describe("A risk rule: the files it applies to, what they must show, and the level it sets.");

export type RiskRule = z.infer<typeof ruleSchema>;

/** Two rules with one id: the second would silently replace the first (as a policy rule replaces a preset one). */
function noDuplicateRuleIds(rules: ReadonlyArray<{ id: string }>, ctx: z.core.$RefinementCtx<ReadonlyArray<{ id: string }>>): void {
  const first = new Map<string, number>();
  rules.forEach((rule, index) => {
    const earlier = first.get(rule.id);
    if (earlier === undefined) first.set(rule.id, index);
    else ctx.addIssue({ code: "custom", path: [index, "id"], message: `duplicate rule id "${rule.id}" (risk.rules[${earlier}] has it too)` });
  });
}

/**
 * A workflow as GitHub names a run's workflow: a file directly in .github/workflows/ (optionally `./`, the
 * `owner/repo/` prefix and an `@ref`, as in `github.workflow_ref`). Anything else never matches a run.
 */
const WORKFLOW_FILE = /^(?:[\w.-]+\/[\w.-]+\/)?(?:\.\/)?\.github\/workflows\/[^/@]+\.ya?ml(?:@.+)?$/;

const workflowFile = z
  .string()
  .min(1)
  .max(300)
  .regex(WORKFLOW_FILE, "expected a workflow file in .github/workflows/, e.g. .github/workflows/agent.yml: the App matches a run's workflow by that path")
  .describe("A workflow file of this repository, e.g. .github/workflows/agent.yml.");

const approvalCount = z.number().int().min(1).default(1);

const countSchema = z
  .strictObject({
    low: approvalCount.describe("Approvals needed for a low-risk sensitive file (only with codeowners.from: low)."),
    medium: approvalCount.describe("Approvals needed for a medium-risk sensitive file."),
    high: approvalCount.describe("Approvals needed for a high-risk sensitive file."),
    critical: approvalCount.describe("Approvals needed for a critical-risk sensitive file."),
  })
  .prefault({})
  .describe("Distinct code-owner approvals needed per level. Unset levels need 1.");

const DEFAULT_AGENT_AUTHORS = [
  "github-actions[bot]",
  "Copilot",
  "copilot-swe-agent[bot]",
  "chatgpt-codex-connector[bot]",
  "claude[bot]",
  "devin-ai-integration[bot]",
  "cursor[bot]",
];
const DEFAULT_AGENT_BRANCHES = ["agent/**", "codex/**", "copilot/**", "claude/**", "cursor/**", "devin/**"];
const DEFAULT_AGENT_LABELS = ["agent"];

export const policySchema = z
  .strictObject({
    version: z.literal(1).optional().describe("The policy format version. Only 1 exists."),
    agents: z
      .strictObject({
        authors: z
          .array(z.string().min(1).max(100))
          .default(() => [...DEFAULT_AGENT_AUTHORS])
          .describe(
            `Logins whose pull requests are agent pull requests. They never count as approvers. Default: ${DEFAULT_AGENT_AUTHORS.join(", ")}.`,
          ),
        branches: z
          .array(glob)
          .default(() => [...DEFAULT_AGENT_BRANCHES])
          .describe(`Head branch globs that mark an agent pull request. Default: ${DEFAULT_AGENT_BRANCHES.join(", ")}.`),
        labels: z
          .array(z.string().min(1).max(50))
          .default(() => [...DEFAULT_AGENT_LABELS])
          .describe(`Labels that mark an agent pull request (case-insensitive). Default: ${DEFAULT_AGENT_LABELS.join(", ")}.`),
      })
      .prefault({})
      .describe("Which pull requests are agent pull requests: any match of author, head branch or label."),
    scope: z
      .enum(["agents", "all"])
      .default("agents")
      .describe("Which pull requests the gate evaluates: `agents` (default) or `all`."),
    risk: z
      .strictObject({
        extends: z
          .enum(["recommended", "none"])
          .default("recommended")
          .describe(
            "`recommended` (default) starts from the built-in preset; `none` starts empty. `gate-control` and `evaluation-incomplete` are always on.",
          ),
        rules: z
          .array(ruleSchema)
          .superRefine(noDuplicateRuleIds)
          .default(() => [])
          .describe("Your own rules, added to (or replacing by id) the preset's. Each id at most once."),
        disable: z
          .array(z.string().min(1))
          .default(() => [])
          .describe("Ids of preset rules to turn off. `gate-control` and `evaluation-incomplete` cannot be turned off."),
      })
      .prefault({})
      .describe("How changed files become findings and a risk level."),
    approvals: z
      .strictObject({
        codeowners: z
          .strictObject({
            from: level
              .default("high")
              .describe("Files with a finding at or above this level need their code owners' approval. Default: high."),
            requests: requestsSchema.default("all"),
          })
          .prefault({})
          .describe("Which files need code-owner approval."),
        count: countSchema,
        fallback: z
          .array(owner)
          .default(() => [])
          .describe(
            "Owners for sensitive files that CODEOWNERS does not cover. Empty (default): such files cannot be approved and the check fails.",
          ),
        invalidateOnPush: z
          .boolean()
          .default(true)
          .describe(
            "Count only reviews given on the pull request's current head commit and for its current diff: a new push, a retarget to another base or any other change of the diff under the same head invalidates earlier approvals (default true). false: an approval counts whatever changed since.",
          ),
        pushersCannotApprove: z
          .boolean()
          .default(true)
          .describe(
            "Whoever pushed to the pull request's branch (a `synchronize` sender) or has commits in it (author or committer) cannot approve it, as GitHub's \"require approval of the most recent reviewable push\" (default true).",
          ),
        rules: z
          .array(approvalRuleSchema)
          .max(50)
          .superRefine(noDuplicateNames)
          .default(() => [])
          .describe(
            "Named approval rules, on top of the code-owner rule above (the recommended preset's). Every rule that applies must pass.",
          ),
        disapproval: disapprovalSchema.optional(),
      })
      .prefault({})
      .describe("Who must approve what."),
    labels: z
      .strictObject({
        prefix: z
          .string()
          .min(1)
          .max(40)
          .regex(/^[^,\s][^,]*$/, "a label prefix cannot start with a space or contain a comma")
          .default("agent-risk:")
          .describe('Risk labels are this prefix plus the level. Default: "agent-risk:".'),
      })
      .prefault({})
      .describe("Risk labels on the pull request."),
    telemetry: z
      .strictObject({
        workflows: z
          .array(workflowFile)
          .default(() => [])
          .describe("Workflow files (e.g. .github/workflows/agent.yml) whose telemetry bundles are accepted."),
        required: z.boolean().default(false).describe("When true, a pull request without accepted telemetry cannot pass. Default false."),
      })
      .prefault({})
      .describe("Where agent telemetry may come from."),
    override: z
      .strictObject({
        users: z
          .array(githubLogin)
          .default(() => [])
          .describe("GitHub logins (without @) who may override the approval check. Default: none."),
        teams: z
          .array(teamRef)
          .default(() => [])
          .describe("Teams (@org/team) whose members may override the approval check; membership is read from GitHub. Default: none."),
      })
      .prefault({})
      .describe(
        "Break-glass: who may comment `/agent-gate override <reason>` on a pull request to make its approval check pass for the current head. The reason and the decision it overrode go into the audit log; the next push ends the override. The pull request's author and the human who triggered its agent cannot override it. Empty (default): nobody can.",
      ),
  })
  .describe("Agent Gate policy (.github/agent-gate.yml), read from the pull request's base branch.");

/** The policy file as written (every key optional). */
export type PolicyConfig = z.input<typeof policySchema>;
/** The policy file validated, every default filled in by the schema. */
export type PolicySettings = z.output<typeof policySchema>;

// ---------------------------------------------------------------------------------------------------------
// Resolved policy: the settings with the preset merged into the rules, so the engine never looks at `undefined`.

export interface ResolvedRule extends RiskRule {
  reason: string;
  /** Where the rule came from. */
  origin: "builtin" | "recommended" | "policy";
}

export type ResolvedPolicy = Omit<PolicySettings, "version" | "risk"> & {
  risk: { extends: PolicySettings["risk"]["extends"]; rules: ResolvedRule[] };
};

export interface PolicyError {
  file: string;
  /** 1-based; null when the error has no position (e.g. the file is too large). */
  line: number | null;
  /** The YAML path, e.g. `approvals.count.high` or `risk.rules[2].paths[0]`; "" for the whole file. */
  path: string;
  message: string;
}

export function formatPolicyError(e: PolicyError): string {
  const where = e.line === null ? e.file : `${e.file}:${e.line}`;
  return e.path ? `${where}: ${e.path}: ${e.message}` : `${where}: ${e.message}`;
}

/** Validate a policy (as written, e.g. `{}`) and merge it with the preset. Throws on an invalid one. */
export function resolvePolicy(config: PolicyConfig): ResolvedPolicy {
  return resolveSettings(policySchema.parse(config));
}

/** Merge validated settings with the preset: built-in rules first, then the preset's, then the policy's own. */
function resolveSettings(settings: PolicySettings): ResolvedPolicy {
  const { risk } = settings;
  const disabled = new Set(risk.disable);
  const ownIds = new Set(risk.rules.map((r) => r.id));
  const rules: ResolvedRule[] = [{ ...GATE_CONTROL_RULE, reason: GATE_CONTROL_RULE.reason ?? "", origin: "builtin" }];
  if (risk.extends === "recommended") {
    for (const r of RECOMMENDED_RULES) {
      if (disabled.has(r.id) || ownIds.has(r.id)) continue;
      rules.push({ ...r, reason: r.reason ?? r.id, origin: "recommended" });
    }
  }
  for (const r of risk.rules) {
    if (disabled.has(r.id)) continue;
    rules.push({ ...r, reason: r.reason ?? `matches policy rule "${r.id}"`, origin: "policy" });
  }
  const { agents, scope, approvals, labels, telemetry, override } = settings;
  return { agents, scope, risk: { extends: risk.extends, rules }, approvals, labels, telemetry, override };
}

/** The recommended preset with every default: what applies when a repository has no policy file. */
export function defaultPolicy(): ResolvedPolicy {
  return resolvePolicy({});
}

// ---------------------------------------------------------------------------------------------------------
// Parsing with positions

export type ParsePolicyResult = { ok: true; policy: ResolvedPolicy; config: PolicySettings } | { ok: false; errors: PolicyError[] };

/**
 * Parse and validate a policy file. Never throws; every error names the file, the YAML path and the line.
 * The file may come from a pull request's head (shown in the check when a PR proposes a policy), so it is the
 * attacker's: every step is linear in its size (duplicate keys are found with a set, not the `yaml` package's
 * pairwise `uniqueKeys`, which took 16 s on a 256 KB file), nesting and aliases are bounded, and errors are capped.
 */
export function parsePolicy(text: string, file: string = POLICY_PATH): ParsePolicyResult {
  if (text.length > MAX_POLICY_BYTES) {
    return { ok: false, errors: [{ file, line: null, path: "", message: `the policy file is larger than ${MAX_POLICY_BYTES} bytes` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: true });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line ?? lineOf(lineCounter, e.pos[0]), path: "", message: `invalid YAML: ${firstLine(e.message)}` }));
    return { ok: false, errors: capErrors(errors, file) };
  }
  const shape = checkShape(doc.contents, lineCounter, file);
  if (shape.length > 0) return { ok: false, errors: capErrors(shape, file) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_POLICY_ALIASES });
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, path: "", message: `invalid YAML: ${firstLine(e instanceof Error ? e.message : String(e))}` }] };
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== "object" || Array.isArray(data)) {
    return { ok: false, errors: [{ file, line: lineOf(lineCounter, doc.contents?.range?.[0] ?? 0), path: "", message: "expected a mapping of settings at the top level" }] };
  }
  const parsed = policySchema.safeParse(data);
  if (!parsed.success) return { ok: false, errors: schemaErrors(parsed.error.issues, doc.contents, lineCounter, file) };
  return { ok: true, policy: resolveSettings(parsed.data), config: parsed.data };
}

/** The first MAX_POLICY_ERRORS errors by line, and one more saying how many were left out. */
function capErrors(errors: PolicyError[], file: string): PolicyError[] {
  const sorted = errors.length > 1 ? [...errors].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) : errors;
  if (sorted.length <= MAX_POLICY_ERRORS) return sorted;
  const more = sorted.length - MAX_POLICY_ERRORS;
  return [...sorted.slice(0, MAX_POLICY_ERRORS), { file, line: null, path: "", message: `…and ${more} more error${more === 1 ? "" : "s"}` }];
}

/**
 * Duplicate keys and nesting depth, in one walk over the YAML tree (iterative: a hostile depth cannot overflow
 * the stack). Stops collecting after MAX_POLICY_ERRORS + 1 errors.
 */
function checkShape(root: unknown, lc: LineCounter, file: string): PolicyError[] {
  const errors: PolicyError[] = [];
  const pending: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 1 }];
  for (let item = pending.pop(); item !== undefined && errors.length <= MAX_POLICY_ERRORS; item = pending.pop()) {
    const { node, depth } = item;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_POLICY_DEPTH) {
      errors.push({ file, line: nodeLine(node, lc) ?? 1, path: "", message: `nested deeper than ${MAX_POLICY_DEPTH} levels` });
      continue;
    }
    if (isSeq(node)) {
      for (const child of node.items) pending.push({ node: child, depth: depth + 1 });
      continue;
    }
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (pair.key !== null && !isScalar(pair.key)) {
        // `{ [a]: 1 }`: converting it would stringify the key (and warn on the process); no setting looks like that.
        errors.push({ file, line: nodeLine(pair.key, lc) ?? 1, path: "", message: "invalid YAML: a key must be a plain value, not a list or mapping" });
        continue;
      }
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key !== null && seen.has(key)) errors.push({ file, line: nodeLine(pair.key, lc) ?? 1, path: "", message: `invalid YAML: map keys must be unique ("${clipKey(key)}" is repeated)` });
      if (key !== null) seen.add(key);
      pending.push({ node: pair.value, depth: depth + 1 });
    }
  }
  return errors;
}

function clipKey(key: string): string {
  return key.length > 60 ? `${key.slice(0, 60)}…` : key;
}

/** zod's issues as file:line errors; only the first MAX_POLICY_ERRORS are located (each lookup walks the tree). */
function schemaErrors(issues: readonly z.core.$ZodIssue[], root: unknown, lc: LineCounter, file: string): PolicyError[] {
  const errors: PolicyError[] = [];
  let total = 0;
  for (const issue of issues) {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [null];
    for (const key of keys) {
      total++;
      if (errors.length >= MAX_POLICY_ERRORS) continue;
      if (key === null) {
        errors.push({ file, line: locate(root, issue.path, lc), path: formatPath(issue.path), message: describeIssue(issue) });
      } else {
        const path = [...issue.path, key];
        errors.push({ file, line: locate(root, path, lc), path: formatPath(path), message: `unknown key "${clipKey(key)}"${suggest(key)}` });
      }
    }
  }
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const more = total - errors.length;
  if (more > 0) errors.push({ file, line: null, path: "", message: `…and ${more} more error${more === 1 ? "" : "s"}` });
  return errors;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

function lineOf(lc: LineCounter, offset: number): number {
  return lc.linePos(offset).line;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/** The line of the deepest node on `path` that exists (a map entry's key line, so errors point at the key). */
function locate(root: unknown, path: readonly PropertyKey[], lc: LineCounter): number {
  let node: unknown = root;
  let line = nodeLine(root, lc) ?? 1;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      line = nodeLine(pair.key, lc) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item: unknown = node.items[seg];
      if (item === undefined) break;
      line = nodeLine(item, lc) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function nodeLine(node: unknown, lc: LineCounter): number | null {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? lineOf(lc, range[0]) : null;
}

/** Every key the schema knows, at any depth, for "did you mean". */
const KNOWN_KEYS: readonly string[] = [...keysOf(policySchema, new Set<string>())];

function keysOf(schema: z.core.$ZodType, into: Set<string>): Set<string> {
  if (schema instanceof z.ZodObject) {
    for (const [key, value] of Object.entries(schema.shape)) {
      into.add(key);
      keysOf(value, into);
    }
  } else if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
    keysOf(schema.unwrap(), into);
  } else if (schema instanceof z.ZodArray) {
    keysOf(schema.element, into);
  }
  return into;
}

function suggest(key: string): string {
  const lower = key.toLowerCase().replace(/[_-]/g, "");
  const hit = KNOWN_KEYS.find((k) => k.toLowerCase() === lower) ?? KNOWN_KEYS.find((k) => key.length > 3 && distance(k.toLowerCase(), lower) <= 2);
  return hit && hit !== key ? ` (did you mean "${hit}"?)` : "";
}

/** Levenshtein distance, for "did you mean" on short keys only. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 40 || b.length > 40) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      const names: Record<string, string> = { array: "a list", object: "a mapping", int: "a whole number", number: "a number", string: "a string", boolean: "true or false" };
      const expected = names[issue.expected] ?? issue.expected;
      return `expected ${expected}`;
    }
    case "too_small": {
      if (issue.origin === "number") return `expected a number >= ${String(issue.minimum)}`;
      if (issue.origin === "array") return `expected at least ${String(issue.minimum)} item${Number(issue.minimum) === 1 ? "" : "s"}`;
      if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "cannot be empty" : `expected at least ${String(issue.minimum)} characters`;
      return issue.message;
    }
    case "too_big": {
      if (issue.origin === "number") return `expected a number <= ${String(issue.maximum)}`;
      if (issue.origin === "string") return `expected at most ${String(issue.maximum)} characters`;
      return issue.message;
    }
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "invalid_format":
      return issue.message;
    default:
      return issue.message;
  }
}

/**
 * The schema's `$id`: a name, not a download address, so it holds for every copy of the file (a `$schema` line
 * may point at a local path or at the file in your fork; see the README).
 */
export const POLICY_SCHEMA_ID = "urn:agent-gate:policy:v1";

/** The JSON Schema for editors, generated from `policySchema` (committed as schema/agent-gate.schema.json). */
export function policyJsonSchema(): Record<string, unknown> {
  // draft-07: what editors (yaml-language-server, VS Code) support fully; 2020-12 made them warn.
  const generated = z.toJSONSchema(policySchema, { io: "input", target: "draft-07" }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: POLICY_SCHEMA_ID, title: "Agent Gate policy (.github/agent-gate.yml)", ...rest };
}

/** The committed schema file's exact text (stable key order, trailing newline). */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
