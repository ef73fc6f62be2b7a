/**
 * What the services need from the outside world, as interfaces: GitHub (the port), a logger, a clock, and a
 * `GateStore` — the seam where the database plugs in (delivery dedup, per-PR lock, review-request memory, audit and
 * evaluation records). Its one implementation is `DatabaseGateStore` (src/services/database-gate-store.ts), on Postgres
 * or PGlite; tests run it on an in-memory PGlite (test/helpers/gate-store.ts), so they exercise the App's code.
 */
import type { CheckRunInput, GitHubPort, RepoRef } from "../github/port.js";
import type { Conclusion, Decision, Review, RiskLevel } from "../policy/types.js";
import type { AuditAppend, ReviewObservation, StoreTx } from "../store/index.js";
import type { TelemetryStore } from "./telemetry-types.js";

/** The subset of pino's Logger the services use, so tests can pass anything that logs. */
export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PullRequestKey extends RepoRef {
  number: number;
  /** The App installation; part of the key because one App serves many organisations. */
  installationId?: number | undefined;
}

/** What the store keeps of a published decision (audit entry + evaluation record). */
export interface DecisionRecord {
  key: PullRequestKey;
  deliveryId: string | undefined;
  event: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  checkName: string;
  conclusion: Conclusion;
  /** null when there is no decision to record: invalid policy, or GitHub could not be read. */
  risk: RiskLevel | null;
  decision: Decision | null;
  /** Why the check is what it is when there is no decision (the failure summary's first line). */
  reason: string;
  policy: { source: string; ref: string };
  evaluatedAt: Date;
  /** sha256 of the canonical JSON of what the engine read (see `inputsDigest`); absent when nothing was evaluated. */
  inputsDigest?: string | undefined;
  /** The reviews the engine considered, so the store can say which approvals counted and why others did not. */
  reviews?: Review[] | undefined;
  /** What the compliance pages show of the PR (from the PR as GitHub showed it to this evaluation). */
  /** `asOf`: when GitHub last changed the PR as this evaluation saw it (its `updated_at`). */
  pullRequest?: { title: string; author: string | null; openedAt: Date | null; asOf?: Date | null | undefined } | undefined;
  /** The override in force on this head, which made the check pass (break-glass); absent for a normal decision. */
  override?: ActiveOverride | undefined;
}

/** What a merge group check reads of a pull request's latest decision. */
export interface RecordedDecision {
  headSha: string;
  baseRef: string;
  conclusion: Conclusion;
  title: string;
  evaluatedAt: Date;
  /** When this head was first decided: an override comment older than that was written about another head. */
  headFirstDecidedAt: Date;
  /** Break-glass: who overrode this decision's head, or null. */
  overriddenBy: string | null;
}

/** An override in force on one head and base (break-glass). */
export interface ActiveOverride {
  by: string;
  reason: string;
}

/** A `/agent-gate override` comment, as the audit log keeps it. */
export interface OverrideComment {
  id: number;
  url: string | null;
  createdAt: string;
  by: string;
  reason: string;
}

/** An override about to make the check pass: what it overrides, and who and why. */
export interface OverrideRecord {
  key: PullRequestKey;
  deliveryId: string | undefined;
  event: string;
  headSha: string;
  baseRef: string;
  checkName: string;
  comment: OverrideComment;
  /** Which part of the override group let the commenter in (`override.users` or the team). */
  via: string;
  overridden: RecordedDecision;
  evaluatedAt: Date;
}

/** An override already on the record for one comment: a retried job or a redelivery finds it and records no other. */
export interface RecordedOverride {
  committed: CommittedDecision;
  headSha: string;
  /** What it overrode, as recorded then (the PR's latest decision is by now the override itself). */
  overrode: { conclusion: string; title: string };
  /** The check run GitHub took for it; null when the check never reached GitHub (a crash, a failed POST). */
  checkRunId: number | null;
}

/** An override command that was refused, and why (the reply says the same). */
export interface OverrideRefusal {
  key: PullRequestKey;
  deliveryId: string | undefined;
  headSha: string | null;
  comment: OverrideComment;
  why: string;
}

/** One pull request of a merge group, as its check judged it. */
export interface MergeGroupMember {
  number: number;
  /** The PR's head as the merge queue showed it; null when GitHub did not say. */
  headSha: string | null;
  /** Its latest recorded decision, or null when it has none. */
  decision: RecordedDecision | null;
  /** Whether it counts as approved for this group, and why not. */
  approved: boolean;
  reason: string;
}

export interface MergeGroupRecord {
  repo: RepoRef;
  installationId?: number | undefined;
  deliveryId: string | undefined;
  /** The merge group's commit, which the check is on. */
  headSha: string;
  baseRef: string;
  checkName: string;
  checkRunId: number | null;
  conclusion: Conclusion;
  title: string;
  members: MergeGroupMember[];
  evaluatedAt: Date;
}

/**
 * An audit entry known outside the database (its sequence number and hash): the check run names the entry of its
 * decision, so `agent-gate audit verify --head SEQ:HASH` detects a chain cut below it.
 */
export interface AuditWitnessRef {
  id: number;
  hash: string;
}

/** A decision as committed before its check is published (invariant 9: no check run without its audit entry). */
export interface CommittedDecision {
  /** The evaluation row; null when there was no decision (the check says "could not evaluate"). */
  evaluationId: number | null;
  /** The decision's `evaluation_decided` entry. `DatabaseGateStore` always has one; null means no witness to name. */
  audit: AuditWitnessRef | null;
}

/** What GitHub took for a recorded decision: committed after publishing, with the delivery. */
export interface PublishedRecord {
  decided: CommittedDecision;
  deliveryId: string | undefined;
  headSha: string;
  checkName: string;
  checkRunId: number;
  conclusion: CheckRunInput["conclusion"];
  title: string;
  /** The risk labels this evaluation added and removed. */
  labels?: { added: string[]; removed: string[] } | undefined;
}

/**
 * Everything the App must remember between events. All of it is per pull request and used only while that PR's
 * lock is held, so a database implementation can bind every call to the lock's transaction.
 */
export interface GateStore {
  /**
   * The decision most recently recorded for a pull request (any head), or null. Read without the PR's lock: a
   * merge group check judges several PRs at once, and an evaluation racing it re-publishes on the PR anyway.
   */
  latestDecision(key: PullRequestKey): Promise<RecordedDecision | null>;
  /** One published merge group check and the decisions it rested on (an audit entry). */
  recordMergeGroup(record: MergeGroupRecord): Promise<void>;
  /**
   * Runs `fn` while no other evaluation of the same pull request runs (a Postgres advisory lock later), so two
   * events cannot publish out of order. `scope` is valid only inside `fn`. `commitWith` runs in the call's last
   * transaction, the one that commits what `fn` queued, and its audit entries are appended with that
   * transaction's own: the job's settle, so a job costs one transaction fewer (issue 12).
   */
  withPullRequestLock<T>(key: PullRequestKey, fn: (scope: PullRequestScope) => Promise<T>, options?: { commitWith?: CommitWith | undefined }): Promise<T>;
}

/** Writes committed with an evaluation's last transaction; what they return is appended to the audit log with it. */
export type CommitWith = (tx: StoreTx) => Promise<AuditAppend[]>;

/** The store, bound to one pull request and to the lock held on it. */
export interface PullRequestScope {
  /** True when this `X-GitHub-Delivery` was already handled to the end: a redelivery changes nothing twice. */
  isDeliveryDone(deliveryId: string, event?: string): Promise<boolean>;
  /** Marks the delivery handled. Called only after its outcome was published (or deliberately skipped). */
  markDeliveryDone(deliveryId: string, outcome: string): Promise<void>;
  /**
   * Records that GitHub showed `headSha` as the head at `headUpdatedAt`, and says whether a newer head was
   * already seen for this PR (then a decision for `headSha` is stale and must not be published: invariant 9).
   */
  isStale(headSha: string, headUpdatedAt: Date | undefined): Promise<boolean>;
  /**
   * Records at once that an evaluation of this PR got past its scope check (the head GitHub showed, observed as
   * `isStale` observes it) and says whether it is the first: no evaluation of this PR, failed or not, was seen
   * before. A failed evaluation records no decision but leaves this mark, so "first" means first attempt.
   * Without `headUpdatedAt` nothing is recorded and the answer is false (not known to be first).
   */
  firstAttempt(headSha: string, headUpdatedAt: Date | undefined): Promise<boolean>;
  /** Owners (as written, e.g. `@org/team`, `@user`; lower case) this App already asked to review. */
  requestedOwners(): Promise<ReadonlySet<string>>;
  recordReviewRequests(owners: string[]): Promise<void>;
  /**
   * The human who triggered the agent run, as first seen for this PR. Later edits of the PR body cannot change
   * it, so the triggering user cannot remove their name and then approve their own agent's work.
   */
  firstTriggeredBy(seen: string | undefined): Promise<string | undefined>;
  /**
   * Records `logins` (humans who pushed to the PR's branch: `synchronize` senders) and returns every pusher
   * recorded for this PR, lower case. Written at once, like the triggering user: a failed evaluation keeps them.
   */
  recordPushers(logins: readonly string[], headSha: string): Promise<string[]>;
  /**
   * Records what each review was given against unless it was observed before, and returns each one's first
   * observation by review id (invariant 3). Written at once, like the triggering user.
   */
  observeReviews(observations: readonly ReviewObservation[]): Promise<Map<number, ReviewObservation>>;
  /**
   * One decision, committed now, before its check is published: the evaluation record, its approvals and its
   * audit entries. A crash after this and before publishing leaves a decision no check shows; the job's next
   * run decides and publishes again. @throws when it cannot be committed (then nothing may be published).
   */
  recordDecision(record: DecisionRecord): Promise<CommittedDecision>;
  /** The check run GitHub took for a recorded decision (and the labels set): committed when the evaluation ends. */
  recordPublished(record: PublishedRecord): Promise<void>;
  /** The newest recorded decision of this PR (not a "could not evaluate" failure), or null. */
  lastDecision(): Promise<LastDecision | null>;
  /** Risk labels put back to `lastDecision` after someone changed them by hand (a `label_set` audit entry). */
  recordLabelsRestored(restored: LabelsRestored): Promise<void>;
  /** pull_request.closed (merged or not): the PR's state for the compliance pages and a `pull_request_closed` entry. */
  recordClosed(closed: PullRequestClosedRecord): Promise<void>;
  /** The override in force on this head and base, if any (it ends with the next push: a new head has none). */
  activeOverride(headSha: string, baseRef: string): Promise<ActiveOverride | null>;
  /**
   * An override, committed before its check is published (invariant 9): an evaluation record marked overridden and
   * its `override_applied` audit entry, which the check names. `recordPublished` follows with the check run.
   */
  recordOverride(record: OverrideRecord): Promise<CommittedDecision>;
  /** The override recorded for this comment (by its GitHub id), if any, and whether its check was published. */
  overrideOfComment(commentId: number): Promise<RecordedOverride | null>;
  /** A refused override command (audit entry). */
  recordOverrideRefused(refusal: OverrideRefusal): Promise<void>;
}

export interface LastDecision {
  headSha: string;
  baseSha: string;
  /** null: no risk was decided (an invalid policy). */
  risk: RiskLevel | null;
  /** The evaluation record's id, where the store keeps one. */
  evaluationId?: number | undefined;
}

export interface PullRequestClosedRecord {
  title: string;
  author: string | null;
  openedAt: Date | null;
  closedAt: Date;
  merged: boolean;
  mergedAt: Date | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  event: string;
}

export interface LabelsRestored {
  headSha: string;
  evaluationId?: number | undefined;
  added: string[];
  removed: string[];
  /** The label event that changed them (e.g. `pull_request.unlabeled`) and who sent it. */
  event: string;
  sender?: string | undefined;
}

export interface ServiceDeps {
  github: GitHubPort;
  log: Log;
  store: GateStore;
  clock: () => Date;
  /** This App's id: a required check pinned to it is enforced; pinned to another source is not ours. */
  appId: number | null;
  /** Remembers whether a branch requires our check, to spare two requests per event. */
  enforcement: EnforcementCache;
  /**
   * Where people reach this App's compliance pages (AGENT_GATE_PUBLIC_URL, an origin): the approval check's details
   * link then points at the PR's trail page. Absent: no details link.
   */
  publicUrl?: string | null | undefined;
  /** Accepted telemetry per PR head (telemetry.required). Absent: nothing is ever accepted, so required telemetry blocks. */
  telemetry?: TelemetryStore | undefined;
}

export type EnforcementState =
  /** Required, and only this App can satisfy it. */
  | "enforced"
  /** Required, but any App or workflow may report a check of that name. */
  | "any-source"
  /** Required from another App: our check cannot satisfy it. */
  | "other-source"
  | "not-required"
  /** GitHub would not say. */
  | "unknown";

export interface Enforcement {
  state: EnforcementState;
  via: Array<"ruleset" | "branch-protection">;
}

export interface EnforcementCache {
  get(key: string, now: number): Enforcement | undefined;
  set(key: string, value: Enforcement, now: number): void;
}

export type EvaluationOutcome =
  | { kind: "skipped"; reason: string }
  /** The PR moved on (new head or base) while we evaluated; the newer event publishes. */
  | { kind: "superseded"; reason: string }
  /** A hand-changed risk label was put back to the last decision, without re-evaluating. */
  | { kind: "labels-restored"; risk: RiskLevel; labels: { added: string[]; removed: string[] } }
  /** pull_request.closed of a PR with a decision: recorded as merged or closed. */
  | { kind: "closed-recorded"; merged: boolean }
  | {
      kind: "published";
      conclusion: Conclusion;
      risk: RiskLevel | null;
      checkName: string;
      checkRunId: number | null;
      labels: { added: string[]; removed: string[] };
      reviewRequested: string[];
      enforcement: EnforcementState;
    };
