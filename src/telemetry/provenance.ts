/**
 * Where telemetry came from (invariant 7): accepted only from an allowlisted workflow (base-branch policy
 * `telemetry.workflows`) run in this repository, not from a fork, whose bundle names this pull request, its branch
 * and its current head SHA, while the pull request is open. Pure: the caller gathers the facts from GitHub.
 */
import type { BundleManifest } from "./bundle.js";

export interface ProvenanceRun {
  /** `owner/name` of the repository the workflow run belongs to (workflow_run.repository.full_name). */
  repositoryFullName: string;
  /** workflow_run.head_repository.full_name: differs from the repository for runs triggered from a fork. */
  headRepositoryFullName?: string;
  /** workflow_run.path, e.g. `.github/workflows/agent.yml` (an `@ref` suffix is ignored). */
  workflowPath: string;
  headSha: string;
  headBranch: string;
  id: number;
}

export interface ProvenancePullRequest {
  number: number;
  state: string;
  headSha: string;
  headRef: string;
  baseRepositoryFullName: string;
  headRepositoryFullName: string;
  /** The PR's base branch. When given, the run must have run on it (so its workflow file is the base branch's). */
  baseRef?: string;
}

export interface ProvenanceInput {
  /**
   * The bundle manifest; null for a plain transcript artifact (an agent not using our action), whose run must then
   * have run on the PR's head commit and branch.
   */
  manifest: BundleManifest | null;
  run: ProvenanceRun;
  /** The open pull request of this repository whose head is the bundle's SHA, as looked up; null if none. */
  pullRequest: ProvenancePullRequest | null;
  /** The repository the App is judging (`owner/name`). */
  repositoryFullName: string;
  /** telemetry.workflows from the base-branch policy. Empty allows nothing. */
  allowedWorkflows: string[];
}

export type ProvenanceResult = { accepted: true } | { accepted: false; reasons: string[] };

const sameRepo = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** `owner/repo/.github/workflows/x.yml@refs/heads/main` and `./.github/workflows/x.yml` → `.github/workflows/x.yml`. */
export function normalizeWorkflowPath(p: string, repositoryFullName?: string): string {
  let s = p.trim().replace(/@[^@]*$/, "");
  if (repositoryFullName) {
    const prefix = `${repositoryFullName}/`;
    if (s.toLowerCase().startsWith(prefix.toLowerCase())) s = s.slice(prefix.length);
  }
  while (s.startsWith("./")) s = s.slice(2);
  return s.replace(/^\/+/, "");
}

export function checkProvenance(input: ProvenanceInput): ProvenanceResult {
  const { manifest, run, pullRequest: pr, repositoryFullName: repo } = input;
  const reasons: string[] = [];

  // The workflow run: this repository, not a fork, an allowlisted workflow.
  if (!sameRepo(run.repositoryFullName, repo)) reasons.push(`the workflow run belongs to ${run.repositoryFullName}, not ${repo}`);
  if (run.headRepositoryFullName !== undefined && !sameRepo(run.headRepositoryFullName, repo)) {
    reasons.push(`the workflow run was triggered from a fork (${run.headRepositoryFullName})`);
  }
  const allowed = new Set(input.allowedWorkflows.map((w) => normalizeWorkflowPath(w, repo)).filter((w) => w !== ""));
  const workflow = normalizeWorkflowPath(run.workflowPath, repo);
  if (allowed.size === 0) reasons.push("no telemetry workflow is allowlisted in the base-branch policy (telemetry.workflows)");
  else if (!allowed.has(workflow)) reasons.push(`workflow ${workflow} is not in telemetry.workflows (${[...allowed].join(", ")})`);

  // The pull request: open, of this repository, head in this repository.
  if (pr === null) {
    reasons.push("no open pull request of this repository has the bundle's head commit");
  } else {
    if (pr.state !== "open") reasons.push(`pull request #${pr.number} is ${pr.state}, not open`);
    if (!sameRepo(pr.baseRepositoryFullName, repo)) reasons.push(`pull request #${pr.number} belongs to ${pr.baseRepositoryFullName}, not ${repo}`);
    if (!sameRepo(pr.headRepositoryFullName, repo)) reasons.push(`pull request #${pr.number} comes from a fork (${pr.headRepositoryFullName})`);
    if (pr.baseRef !== undefined && manifest !== null && run.headBranch !== pr.baseRef) {
      reasons.push(`the workflow ran on branch ${run.headBranch}, not on the pull request's base branch ${pr.baseRef}, so its workflow file may differ from the base branch's`);
    }
  }

  if (manifest !== null) {
    // The bundle must describe this run and this pull request exactly.
    if (!sameRepo(manifest.repository, repo)) reasons.push(`the bundle names repository ${manifest.repository}, not ${repo}`);
    if (manifest.runId !== run.id) reasons.push(`the bundle names workflow run ${manifest.runId}, but it was uploaded by run ${run.id}`);
    const manifestWorkflow = normalizeWorkflowPath(manifest.workflowPath, manifest.repository);
    if (manifestWorkflow !== workflow) reasons.push(`the bundle names workflow ${manifestWorkflow}, but the run is of ${workflow}`);
    if (manifest.pullRequest === null) reasons.push("the bundle names no pull request");
    if (manifest.headSha === null) reasons.push("the bundle names no head commit");
    if (pr !== null) {
      if (manifest.pullRequest !== null && manifest.pullRequest.number !== pr.number) {
        reasons.push(`the bundle names pull request #${manifest.pullRequest.number}, not #${pr.number}`);
      }
      if (manifest.headSha !== null && manifest.headSha.toLowerCase() !== pr.headSha.toLowerCase()) {
        reasons.push(`the bundle names head commit ${manifest.headSha}, but the pull request's head is ${pr.headSha}`);
      }
      if (manifest.branch !== pr.headRef) reasons.push(`the bundle names branch ${manifest.branch}, but the pull request's head branch is ${pr.headRef}`);
      if (pr.baseRef !== undefined && manifest.baseRef !== pr.baseRef) reasons.push(`the bundle names base branch ${manifest.baseRef}, but the pull request's base is ${pr.baseRef}`);
    }
  } else if (pr !== null) {
    // A plain transcript has nothing to name the PR with: the run itself must be of the PR's head.
    if (run.headSha.toLowerCase() !== pr.headSha.toLowerCase()) reasons.push(`the workflow run is of commit ${run.headSha}, but the pull request's head is ${pr.headSha}`);
    if (run.headBranch !== pr.headRef) reasons.push(`the workflow run is of branch ${run.headBranch}, but the pull request's head branch is ${pr.headRef}`);
  }

  return reasons.length === 0 ? { accepted: true } : { accepted: false, reasons };
}
