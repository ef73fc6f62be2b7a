import { MAX_LISTED_FILES } from "../shared/limits.js";
import { classifyPullRequest } from "./agents.js";
import { conditionsHold, describeThreshold } from "./conditions.js";
import type { ConditionFacts } from "./conditions.js";
import type { ResolvedPolicy, ResolvedRule } from "./config.js";
import { detectorById } from "./detectors/index.js";
import type { DetectorId, Hit } from "./detectors/index.js";
import { globMatcher } from "./globs.js";
import type { Matcher } from "./globs.js";
import { parsePatch } from "./patch.js";
import type { PatchLine } from "./patch.js";
import { EVALUATION_INCOMPLETE_ID } from "./preset.js";
import { symlinkTarget } from "./symlinks.js";
import { KNOWN_FILE_STATUSES, RISK_LEVELS } from "./types.js";
import type { ChangedFile, Finding, PullRequestFacts, RiskLevel } from "./types.js";

export { MAX_LISTED_FILES };

/** How many locations a finding's message names before "and N more" (all are kept in `locations`). */
const MESSAGE_LOCATIONS = 3;

export function levelRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

export function maxLevel(levels: Iterable<RiskLevel>): RiskLevel {
  let best: RiskLevel = "low";
  for (const l of levels) if (levelRank(l) > levelRank(best)) best = l;
  return best;
}

const BINARY_EXT_RE =
  /\.(?:png|jpe?g|gif|webp|ico|bmp|tiff?|pdf|zip|gz|tgz|bz2|xz|7z|rar|jar|war|ear|class|exe|dll|so|dylib|bin|o|a|wasm|pyc|woff2?|ttf|otf|eot|mp3|mp4|mov|avi|webm|ogg|wav|flac|psd|sqlite3?|db|dat)$/i;

/**
 * All paths a file is judged under (invariant 2): its new path; for renames and copies its old one; for a symbolic
 * link the repository path it points to, so a link at a harmless path to a protected file is judged as that file.
 */
export function pathsOf(file: ChangedFile): string[] {
  const names = file.previous_filename && file.previous_filename !== file.filename ? [file.previous_filename, file.filename] : [file.filename];
  const target = symlinkTarget(file)?.inRepo;
  if (target && !names.includes(target)) names.push(target);
  return names;
}

/**
 * Binary when the source says so (git numstat `-`). The API does not say: a file without a patch is taken as
 * binary when its extension says so, or when it was modified without a single changed line.
 */
export function isBinary(file: ChangedFile): boolean {
  if (file.binary !== undefined) return file.binary;
  if (file.patch !== undefined) return false;
  // Only the mode changed (chmod +x): the content is the same, whatever it is; the mode rules judge the change.
  if (file.mode?.old !== undefined && file.mode.new !== undefined && file.mode.old !== file.mode.new && file.changes === 0) return false;
  if (BINARY_EXT_RE.test(file.filename)) return true;
  return (file.status === "modified" || file.status === "changed") && file.additions === 0 && file.deletions === 0 && file.changes === 0;
}

const MISSING_PATCH_REASON = "a changed text file came without its diff, so its content could not be checked";

/** A text file whose diff we were not given although it changed lines: content rules cannot look at it. */
function lacksPatch(file: ChangedFile): boolean {
  if (file.patch !== undefined || isBinary(file) || file.status === "removed") return false;
  return file.changes > 0 || file.additions > 0 || file.deletions > 0;
}

interface FileView {
  file: ChangedFile;
  names: string[];
  /** `names` lowercased once for every rule's globs (they match case-insensitively). */
  lowerNames: string[];
  /** The parsed patch, once a content detector asks for it. */
  lines?: PatchLine[];
  /** Detector results, once asked for; several rules can use the same detector. */
  hits?: Map<DetectorId, readonly Hit[]>;
}

function linesOf(view: FileView): PatchLine[] {
  return (view.lines ??= view.file.patch ? parsePatch(view.file.patch) : []);
}

/** A detector's hits in one file; a content detector's are kept, since several rules can ask the same one. */
function runDetector(id: DetectorId, view: FileView): readonly Hit[] {
  const detector = detectorById(id);
  // Mode detectors decide from the file alone: cheaper to recompute than to cache.
  if (!detector.needsPatch) return detector.detect({ file: view.file, lines: () => linesOf(view) });
  const cached = view.hits?.get(id);
  if (cached) return cached;
  const hits = detector.detect({ file: view.file, lines: () => linesOf(view) });
  (view.hits ??= new Map()).set(id, hits);
  return hits;
}

/**
 * What pull-request conditions look at, once per evaluation: an agent pull request is one the policy's `agents`
 * match or whose head has accepted telemetry.
 */
export function conditionFacts(policy: ResolvedPolicy, pr: PullRequestFacts, files: readonly ChangedFile[]): ConditionFacts {
  let changedLines = 0;
  for (const f of files) changedLines += (f.additions || 0) + (f.deletions || 0);
  const changedFiles = Math.max(files.length, pr.changedFiles ?? 0);
  const isAgent = pr.telemetryAccepted === true || classifyPullRequest(policy, pr).isAgent;
  return { pr, isAgent, changedLines, changedFiles };
}

export interface RiskInput {
  policy: ResolvedPolicy;
  files: ChangedFile[];
  pr: PullRequestFacts;
  /** The file listing stopped early (the source hit a limit or an error). */
  truncated?: boolean | undefined;
}

export interface RiskResult {
  risk: RiskLevel;
  findings: Finding[];
}

/**
 * Findings for a pull request's changes and its overall level (the highest finding, `low` without any).
 * Pure and total: any input the engine cannot judge becomes a critical `evaluation-incomplete` finding.
 */
export function assessRisk(input: RiskInput): RiskResult {
  const { policy, files, pr } = input;
  const incomplete = { reasons: [] as string[], paths: new Set<string>() };
  const addIncomplete = (reason: string, paths: string[] = []) => {
    if (!incomplete.reasons.includes(reason)) incomplete.reasons.push(reason);
    for (const p of paths) incomplete.paths.add(p);
  };

  if (input.truncated) addIncomplete("the list of changed files is incomplete");
  if (files.length >= MAX_LISTED_FILES) {
    addIncomplete(`${files.length} files listed; GitHub lists at most ${MAX_LISTED_FILES.toLocaleString("en-US")}, so some changes may be unseen`);
  }
  if (pr.changedFiles !== undefined && pr.changedFiles > files.length) {
    addIncomplete(`the pull request changes ${pr.changedFiles} files but only ${files.length} were listed`);
  }

  const views: FileView[] = [];
  for (const file of files) {
    if (typeof file.filename !== "string" || file.filename.length === 0) {
      addIncomplete("a changed file has no name");
      continue;
    }
    if (!(KNOWN_FILE_STATUSES as readonly string[]).includes(file.status)) {
      addIncomplete(`unknown file status "${String(file.status).slice(0, 30)}"`, [file.filename]);
    }
    if ((file.status === "renamed" || file.status === "copied") && !file.previous_filename) {
      addIncomplete("a renamed or copied file has no previous path", [file.filename]);
    }
    // The engine's own check, not a content rule's: whatever the policy (even `extends: none` with no content
    // rules), a text file whose changed lines we were not shown is a change nobody judged (invariant 2).
    if (lacksPatch(file)) addIncomplete(MISSING_PATCH_REASON, [file.filename]);
    const names = pathsOf(file);
    views.push({ file, names, lowerNames: names.map((n) => n.toLowerCase()) });
  }

  const facts = conditionFacts(policy, pr, files);
  const findings: Finding[] = [];
  for (const rule of policy.risk.rules) {
    // The whole pull request's conditions first: a rule for another branch or author spares every file's globs.
    if (rule.when && !conditionsHold(rule.when, facts)) continue;
    const finding = applyRule(rule, views, facts);
    if (finding) findings.push(finding);
  }

  if (incomplete.reasons.length > 0) {
    findings.push({
      rule: EVALUATION_INCOMPLETE_ID,
      level: "critical",
      paths: [...incomplete.paths],
      message: `cannot be fully evaluated: ${incomplete.reasons.join("; ")}`,
    });
  }

  findings.sort((a, b) => levelRank(b.level) - levelRank(a.level));
  return { risk: maxLevel(findings.map((f) => f.level)), findings };
}

function applyRule(
  rule: ResolvedRule,
  views: FileView[],
  totals: { changedLines: number; changedFiles: number },
): Finding | null {
  const include = rule.paths ? globMatcher(rule.paths) : null;
  const exclude = rule.excludePaths ? globMatcher(rule.excludePaths) : null;
  // A Set keeps first-seen order, as the array did, without a linear search per file (a broad rule can match
  // all 3,000 files of a large pull request).
  const paths = new Set<string>();
  const locations: Array<{ path: string; line: number; what: string }> = [];
  let matchedFiles = 0;

  for (const view of views) {
    const { file } = view;
    // The cheap conditions first: a status or binary test spares the globs of most files.
    if (rule.when?.status && !rule.when.status.includes(file.status as never)) continue;
    if (rule.when?.binary !== undefined && isBinary(file) !== rule.when.binary) continue;
    if ((include || exclude) && !anyNameMatches(view, include, exclude)) continue;
    if (rule.detect) {
      // Already reported by the engine as incomplete (assessRisk); a content detector has nothing to read.
      if (detectorById(rule.detect).needsPatch && lacksPatch(file)) continue;
      const hits = runDetector(rule.detect, view);
      if (hits.length === 0) continue;
      for (const h of hits) locations.push({ path: file.filename, line: h.line, what: h.what });
    }
    matchedFiles++;
    // A renamed file is listed under both paths whichever one matched: its owners on both sides must see it.
    for (const n of view.names) paths.add(n);
  }
  if (matchedFiles === 0) return null;

  const finding: Finding = { rule: rule.id, level: rule.level, paths: [...paths], message: message(rule, matchedFiles, locations, totals) };
  const located = locations.filter((l) => l.line > 0);
  if (located.length > 0) finding.locations = located.map((l) => ({ path: l.path, line: l.line, what: l.what }));
  if (rule.detect) finding.detector = rule.detect;
  return finding;
}

/** Whether one of the file's paths is included by the rule's globs and not excluded. */
function anyNameMatches(view: FileView, include: Matcher | null, exclude: Matcher | null): boolean {
  for (let i = 0; i < view.names.length; i++) {
    const name = view.names[i]!;
    const lower = view.lowerNames[i]!;
    if ((!include || include(name, lower)) && !(exclude && exclude(name, lower))) return true;
  }
  return false;
}

function message(
  rule: ResolvedRule,
  matchedFiles: number,
  locations: Array<{ path: string; line: number; what: string }>,
  totals: { changedLines: number; changedFiles: number },
): string {
  const parts: string[] = [rule.reason];
  if (rule.when?.changedLines) parts.push(`${totals.changedLines} changed lines (${describeThreshold(rule.when.changedLines)})`);
  if (rule.when?.changedFiles) parts.push(`${totals.changedFiles} changed files (${describeThreshold(rule.when.changedFiles)})`);
  if (locations.length > 0) {
    // A file-level hit (line 0: a new symlink and its target, a submodule and its commits) is named with its path.
    const shown = locations.slice(0, MESSAGE_LOCATIONS).map((l) => (l.line > 0 ? `${l.what} at ${l.path}:${l.line}` : `${l.what} (${l.path})`));
    const more = locations.length - shown.length;
    parts.push(shown.join(", ") + (more > 0 ? ` and ${more} more` : ""));
  } else if (!rule.when?.changedLines && !rule.when?.changedFiles) {
    parts.push(`${matchedFiles} file${matchedFiles === 1 ? "" : "s"}`);
  }
  return parts.join(": ");
}
