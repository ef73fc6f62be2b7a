/**
 * The policy engine's vocabulary. Everything here is plain data so the engine stays pure:
 * the App, the CLI and the benchmarks build these values from GitHub or git and hand them in.
 */

export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** The statuses GitHub's pull-request files API documents. Anything else fails closed. */
export const KNOWN_FILE_STATUSES = ["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"] as const;
export type KnownFileStatus = (typeof KNOWN_FILE_STATUSES)[number];

/** One entry of `GET /repos/{owner}/{repo}/pulls/{number}/files`, plus what the CLI can add from git. */
export interface ChangedFile {
  filename: string;
  /** Kept as a string: an unknown status must reach the engine so it can fail closed. */
  status: string;
  previous_filename?: string | undefined;
  additions: number;
  deletions: number;
  changes: number;
  /** Missing for binary files and for diffs GitHub considers too large. */
  patch?: string | undefined;
  /** Set when the source knows for certain (git numstat "-"); the API leaves it undefined. */
  binary?: boolean | undefined;
  /** Git file modes when the source knows them (CLI), e.g. { old: "100644", new: "100755" }. */
  mode?: { old?: string | undefined; new?: string | undefined } | undefined;
}

/** Facts about the pull request that rules and approvals need. */
export interface PullRequestFacts {
  number?: number | undefined;
  author: string;
  authorType?: "User" | "Bot" | "Organization" | undefined;
  baseRef: string;
  headRef: string;
  headSha: string;
  labels: string[];
  /** The PR's own count of changed files (`changed_files`), used to detect a truncated listing. */
  changedFiles?: number | undefined;
  /** The human who started the agent run, when known (workflow actor, issue commenter). */
  triggeredBy?: string | undefined;
  /** The title, for `title:` conditions (attacker-written: matched with a linear glob matcher only). */
  title?: string | undefined;
  /** Telemetry naming this PR and its head was accepted (read only when an `agent:` condition needs it). */
  telemetryAccepted?: boolean | undefined;
  /** Humans who pushed to the PR's branch (recorded `synchronize` senders): they cannot approve it (invariant 4). */
  pushers?: readonly string[] | undefined;
  /** The diff the PR shows now; approvals given for another (`Review.givenFor`) do not count (invariant 3). */
  diff?: DiffIdentity | undefined;
}

/** Who made the PR's commits (`GET /pulls/{n}/commits`: author and committer logins), read only when needed. */
export interface PullRequestCommits {
  logins: string[];
  /** GitHub lists at most 250 commits: true when the listing stopped there, so someone may be missing. */
  truncated: boolean;
}

export interface Finding {
  /** Rule id, e.g. `gate-control` or a policy's own `payments`. */
  rule: string;
  level: RiskLevel;
  paths: string[];
  /** One line a maintainer understands. Never contains a secret. */
  message: string;
  /** Where a line-level rule fired (secret, external host), for annotations; `what` is safe to print (a secret's kind, never its text). */
  locations?: Array<{ path: string; line: number; what?: string | undefined }> | undefined;
  /** The detector the rule runs (`detect:`), when it runs one: its file-level hits (a new executable) have no line. */
  detector?: string | undefined;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface Review {
  id?: number | undefined;
  reviewer: string;
  reviewerType?: "User" | "Bot" | "Organization" | undefined;
  state: ReviewState;
  /** The commit the review was submitted on. */
  commitId: string;
  submittedAt: string;
  /** The diff it was given for, as first observed (the App records it; invariant 3). Absent: head-only binding. */
  givenFor?: DiffIdentity | undefined;
}

/** Which diff a PR shows: its base branch and a fingerprint of the changed files (see the App's `diffIdentity`). */
export interface DiffIdentity {
  baseRef: string;
  fingerprint: string;
}

/** Team slug as `@org/team` -> member logins. Only the teams that matter need to be present. */
export type TeamMembership = Record<string, string[]>;

// ---------------------------------------------------------------------------------------------------------
// Engine outputs

/**
 * Where a requirement's owners came from. `unowned`: no CODEOWNERS entry and no fallback (unsatisfiable); `rule`:
 * the users and teams a named approval rule lists.
 */
export type OwnerSource = "codeowners" | "fallback" | "unowned" | "rule";

/** One group of sensitive paths that share the same owners and the same level. */
export interface Requirement {
  /** Stable within one decision, e.g. `r1`. */
  id: string;
  paths: string[];
  /** The highest finding level among these paths. */
  level: RiskLevel;
  /** Ids of the rules that made these paths sensitive. */
  rules: string[];
  /** `@user`, `@org/team` or email addresses, as written in CODEOWNERS or the fallback. */
  owners: string[];
  /** Distinct approvals from `owners` needed. */
  count: number;
  source: OwnerSource;
  /** The CODEOWNERS line that assigned the owners, when `source` is `codeowners`. */
  codeownersLine?: number | undefined;
  /** false when no review can ever meet it; `reason` says why. */
  satisfiable: boolean;
  reason?: string | undefined;
  /** The named approval rule (`approvals.rules[].name`, or the disapproval group's name) it belongs to. */
  name?: string | undefined;
  /** For a rule with `anyOf`: which alternative this is (1-based) of how many. */
  alternative?: { index: number; of: number } | undefined;
  /** Whom to ask for a review while it waits: all owners (default), one, only the teams, or nobody. */
  requests?: "all" | "one" | "team" | "none" | undefined;
  /** The disapproval group: met while none of its members' latest review requests changes. */
  disapproval?: boolean | undefined;
}

export interface RequirementStatus extends Requirement {
  /** Logins whose approval on the head commit counted towards this requirement. */
  approvedBy: string[];
  /** Owners (as written) who could still approve while the requirement is unmet; [] when met. */
  waitingOn: string[];
  /** Logins of owners whose latest review requests changes; any entry blocks the requirement. */
  blockedBy: string[];
  met: boolean;
  /** Met because another alternative of the same `anyOf` rule is (its 1-based index). */
  metByAlternative?: number | undefined;
}

export interface IgnoredReview {
  reviewer: string;
  reason: string;
}

/** One reviewer's latest approval and what the decision made of it: the audit trail's "counted" or "refused". */
export interface ApprovalVerdict {
  reviewer: string;
  state: "APPROVED";
  commitId: string | null;
  counted: boolean;
  /** Towards which requirement it counted, or why it did not. */
  reason: string;
}

export interface ApprovalResult {
  required: boolean;
  satisfied: boolean;
  requirements: RequirementStatus[];
  ignoredReviews: IgnoredReview[];
}

export interface Classification {
  inScope: boolean;
  isAgent: boolean;
  reason: string;
}

export type Conclusion = "success" | "action_required" | "failure";

export interface Decision {
  risk: RiskLevel;
  /** e.g. `["agent-risk:high"]`. */
  labels: string[];
  findings: Finding[];
  approval: { required: boolean; satisfied: boolean; requirements: RequirementStatus[] };
  conclusion: Conclusion;
  /** One line for the check run title. */
  title: string;
  /** Where the policy came from: `source` names the file (or the built-in preset), `ref` the commit it was read at. */
  policy: { source: string; ref: string };
  ignoredReviews: IgnoredReview[];
  /** Every latest approval, counted or refused and why (what the audit log records). */
  approvals: ApprovalVerdict[];
  /** Whether the policy considers this an agent pull request; the App decides what to do when it is out of scope. */
  scope: Classification;
  headSha: string;
  codeowners: { path: string | null; tooLarge: boolean; errors: Array<{ line: number; message: string }> };
  /** Set only for decisions that could not evaluate at all (invalid policy). */
  policyErrors?: string[] | undefined;
}
