/**
 * The data that flows between the evaluation's stages (src/services/evaluate-pull-request.ts):
 * load → `Snapshot` → decide → `Decided` → load current state → `CurrentState` → plan → `PublicationPlan` →
 * publish → `Published` → record.
 */
import type { CheckRunInput, PullRequestInfo, RepoRef } from "../../github/port.js";
import type { Codeowners } from "../../policy/codeowners.js";
import type { PolicyError, ResolvedPolicy } from "../../policy/config.js";
import type { ChangedFile, Decision, PullRequestCommits, PullRequestFacts, Review, RiskLevel, TeamMembership } from "../../policy/types.js";
import type { ActiveOverride, Enforcement, PullRequestKey, PullRequestScope, ServiceDeps } from "../types.js";

/** A risk label someone other than this App added or removed (src/services/evaluation/restore-labels.ts). */
export interface RestoreLabels {
  label: string;
  sender: string;
  /**
   * The edge could not tell: the label is not the default prefix's but ends in a level, so it is a risk label only
   * if it carries the policy's `labels.prefix`. Otherwise the event is what `onlyIfAgentLabel` says.
   */
  ifPolicyPrefix?: true | undefined;
}

export interface EvaluationTarget {
  repo: RepoRef;
  installationId?: number | undefined;
  number: number;
  /** The pull request from the webhook payload; read from GitHub when absent (check re-runs). */
  pull?: PullRequestInfo | undefined;
  /** `X-GitHub-Delivery`: logged with every error, and the key for redelivery dedup. */
  deliveryId?: string | undefined;
  /** `pull_request.opened` etc., for logs and the audit record. */
  event: string;
  /** labeled/unlabeled: evaluate only when this label is one of the policy's agent labels. */
  onlyIfAgentLabel?: string | undefined;
  /** edited (title only): evaluate only when a rule of the policy has a `title:` condition. */
  onlyIfTitleCondition?: boolean | undefined;
  /**
   * A risk label was added or removed by someone other than this App: put the labels back to the last recorded
   * decision for this head and base (no re-evaluation), or evaluate when there is none.
   */
  restoreLabels?: RestoreLabels | undefined;
  /** A retarget (`pull_request.edited` with `changes.base`): the old base branch and when (the PR's `updated_at`). */
  retarget?: { from: string; at: string } | undefined;
  /** Humans who pushed to the PR's branch, from `synchronize` senders (folded events keep them all). */
  pushers?: string[] | undefined;
  /**
   * Every event folded into this work is a `pull_request.opened`: on the PR's first evaluation attempt there is
   * no review to read (a review submitted later has an event of its own, folded in or run after). Any other
   * event folded in drops it (`foldWork`), so the reviews are read.
   */
  opened?: true | undefined;
  /** check re-runs: evaluate only when the PR's head is still this commit. */
  onlyIfHeadSha?: string | undefined;
  /**
   * Whether a failure publishes a failing "could not evaluate" check (default true). A job queue passes false
   * on attempts it will retry, so a passing glitch (or a database error) never reaches the PR.
   */
  publishFailure?: boolean | undefined;
}

/** One evaluation's fixed surroundings, passed to every stage that does I/O. */
export interface EvaluationContext {
  deps: ServiceDeps;
  scope: PullRequestScope;
  target: EvaluationTarget;
  key: PullRequestKey;
}

export type PolicySource = { source: string; ref: string };

interface SnapshotBase {
  pr: PullRequestInfo;
  checkName: string;
  enforcement: Enforcement;
}

/** The base branch's policy does not parse: every pull request fails until it is fixed (invariant 5). */
export interface InvalidPolicySnapshot extends SnapshotBase {
  kind: "invalid-policy";
  errors: PolicyError[];
  policySource: PolicySource;
}

/** Everything the engine reads, read once (the teams come after phase one: `EngineNeeds`). */
export interface EvaluableSnapshot extends SnapshotBase {
  kind: "evaluable";
  policy: ResolvedPolicy;
  policySource: PolicySource;
  facts: PullRequestFacts;
  codeowners: Codeowners;
  files: ChangedFile[];
  truncated: boolean;
  reviews: Review[];
  /** Whether telemetry for the head was accepted; only read when the policy requires it of this agent PR. */
  telemetryAccepted: boolean;
  /** Notes on the gate files this PR proposes (validated, never used: invariant 1). */
  gateNotes: string[];
}

export type Snapshot = InvalidPolicySnapshot | EvaluableSnapshot;

/** What the decide stage settled: the decision and the notes the check summary carries with it. */
export interface Decided {
  decision: Decision;
  notes: string[];
  /** The risk to record; null when no evaluation happened (invalid policy). */
  risk: RiskLevel | null;
  /** The team members the engine's second phase used (part of the recorded inputs). */
  teams: TeamMembership;
  /** Break-glass: the override in force on this head and base, which made the check pass. */
  override?: ActiveOverride | undefined;
  /** The PR's commit authors and committers, when the engine asked for them (part of the recorded inputs). */
  commits?: PullRequestCommits | undefined;
}

/** The state right before publishing, for the plan to compare against (src/services/evaluation/load.ts). */
export interface CurrentState {
  /** The PR as the event showed it (labels, requested reviewers, draft): not read again. */
  pull: PullRequestInfo;
  /** Owners this App asked before (read only when the decision waits on someone). */
  askedBefore: ReadonlySet<string>;
  /**
   * The risk of this PR's last recorded decision: its label may be on the PR although the event's payload, sent
   * before we set it, does not show it. Absent or null: none.
   */
  lastRisk?: RiskLevel | null | undefined;
}

export interface LabelPlan {
  add: string[];
  remove: string[];
  /** Given to an added label GitHub created on the fly (it comes back grey). */
  style: { color: string; description: string };
}

export interface ReviewRequestPlan {
  users: string[];
  teams: string[];
  /** The owners as written (`@user`, `@org/team`), remembered so nobody is asked twice. */
  owners: string[];
}

/** The desired GitHub state, as the changes that get there. Only the check is always written. */
export interface PublicationPlan {
  number: number;
  check: CheckRunInput;
  /** null: labels are left alone. */
  labels: LabelPlan | null;
  /** null: nobody is asked. */
  reviews: ReviewRequestPlan | null;
}

export interface Published {
  checkRunId: number;
  labels: { added: string[]; removed: string[] };
  reviewRequested: string[];
}
