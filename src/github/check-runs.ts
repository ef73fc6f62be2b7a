/**
 * Publishing a check run exactly once: one check run per head commit and check name, created once and PATCHed
 * by every later decision on that head, never a second one.
 *
 * - The id of the check run we created for (repository, head, name) is remembered durably (`CheckRunMemory`,
 *   the database in the App) right after GitHub answers; a later decision PATCHes that run.
 * - The create is sent once, without Octokit's automatic retry: a POST whose response was lost (a reset
 *   connection, a 502 after GitHub applied it) would be applied twice. Instead, after such a failure we look
 *   for ours (`GET /commits/{sha}/check-runs?check_name=…&app_id=…`, our `external_id`) and PATCH it if it is there.
 * - A replayed job (`lookFirst`: its earlier attempt may have died between the POST and remembering the id)
 *   looks first, too. First attempts do not pay for that request.
 */
import type { RepoRef } from "./port.js";
import type { CheckRunRef } from "./port.js";
import { ANNOTATIONS_PER_REQUEST } from "../shared/limits.js";
import { toGitHubApiError } from "./errors.js";

/** Where the App remembers which check run it created for a head (durable: the database). */
export interface CheckRunMemory {
  find(repo: RepoRef, headSha: string, name: string): Promise<number | null>;
  remember(repo: RepoRef, headSha: string, name: string, checkRunId: number): Promise<void>;
}

export interface CheckRunPublishing {
  memory?: CheckRunMemory | undefined;
  /** Our App id: only our own check runs are ever updated. */
  appId?: number | null | undefined;
  /** Look for an existing check run of ours before creating one (a replayed job). */
  lookFirst?: boolean | undefined;
}

/** The subset of Octokit used here. */
export interface CheckRunOctokit {
  request(route: string, params: Record<string, unknown>): Promise<{ data: unknown }>;
}

/** A POST body as `completedCheckRun` builds it. */
export interface CheckRunBody extends RepoRef {
  name: string;
  head_sha: string;
  external_id?: string | undefined;
  [key: string]: unknown;
}

function refOf(data: unknown): CheckRunRef {
  const d = (typeof data === "object" && data !== null ? data : {}) as { id?: unknown; html_url?: unknown };
  return { id: typeof d.id === "number" ? d.id : 0, url: typeof d.html_url === "string" ? d.html_url : null };
}

function statusOf(error: unknown): number | null {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : null;
}

/** No answer, or a server error: GitHub may have applied the POST. */
function mayHaveApplied(error: unknown): boolean {
  const status = statusOf(error);
  return status === null || status >= 500;
}

async function patch(octokit: CheckRunOctokit, body: CheckRunBody, id: number): Promise<CheckRunRef | null> {
  const { owner, repo, head_sha: _head, ...update } = body;
  try {
    return refOf((await octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { owner, repo, check_run_id: id, ...update })).data);
  } catch (error) {
    // Deleted (or never ours): create a new one instead.
    if (statusOf(error) === 404) return null;
    throw toGitHubApiError(error, `PATCH /repos/${owner}/${repo}/check-runs/${id}`);
  }
}

/** Our check run of this name on this head with this external id, if GitHub has one. */
async function findOurs(octokit: CheckRunOctokit, body: CheckRunBody, appId: number | null | undefined): Promise<number | null> {
  const { owner, repo } = body;
  const request = `GET /repos/${owner}/${repo}/commits/${body.head_sha}/check-runs`;
  try {
    const response = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      owner,
      repo,
      ref: body.head_sha,
      check_name: body.name,
      filter: "all",
      per_page: 100,
      ...(appId ? { app_id: appId } : {}),
    });
    const runs = ((response.data as { check_runs?: unknown[] }).check_runs ?? []) as Array<{ id?: unknown; external_id?: unknown; app?: { id?: unknown } | null }>;
    const ours = runs.find((r) => typeof r.id === "number" && (body.external_id === undefined || r.external_id === body.external_id) && (!appId || r.app?.id === undefined || r.app.id === appId));
    return ours ? (ours.id as number) : null;
  } catch (error) {
    throw toGitHubApiError(error, request);
  }
}

async function create(octokit: CheckRunOctokit, body: CheckRunBody, options: CheckRunPublishing): Promise<CheckRunRef> {
  const request = `POST /repos/${body.owner}/${body.repo}/check-runs`;
  try {
    // Sent once: Octokit's retry of a POST whose answer was lost would create a second check run.
    return refOf((await octokit.request("POST /repos/{owner}/{repo}/check-runs", { ...body, request: { retries: 0 } })).data);
  } catch (error) {
    if (!mayHaveApplied(error)) throw toGitHubApiError(error, request);
    const found = await findOurs(octokit, body, options.appId);
    const patched = found === null ? null : await patch(octokit, body, found);
    if (patched) return patched;
    try {
      return refOf((await octokit.request("POST /repos/{owner}/{repo}/check-runs", { ...body, request: { retries: 0 } })).data);
    } catch (again) {
      throw toGitHubApiError(again, request);
    }
  }
}

/**
 * Creates the check run, or updates the one of ours already on this head. Annotations go only with a new run (the
 * first 50 in the POST, the rest 50 per PATCH): GitHub appends annotations on every update, and a later decision on
 * the same head has the same diff, so its annotations are already there. @throws {GitHubApiError}
 */
export async function publishCheckRun(octokit: CheckRunOctokit, body: CheckRunBody, options: CheckRunPublishing = {}, annotations: readonly object[] = []): Promise<CheckRunRef> {
  const repo = { owner: body.owner, repo: body.repo };
  let existing = options.memory ? await options.memory.find(repo, body.head_sha, body.name) : null;
  if (existing === null && options.lookFirst) existing = await findOurs(octokit, body, options.appId);
  const patched = existing !== null ? await patch(octokit, body, existing) : null;
  const ref = patched ?? (await create(octokit, withAnnotations(body, annotations.slice(0, ANNOTATIONS_PER_REQUEST)), options));
  if (!patched) {
    for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length && ref.id > 0; i += ANNOTATIONS_PER_REQUEST) {
      await patch(octokit, withAnnotations(body, annotations.slice(i, i + ANNOTATIONS_PER_REQUEST)), ref.id);
    }
  }
  if (options.memory && ref.id > 0 && ref.id !== existing) await options.memory.remember(repo, body.head_sha, body.name, ref.id);
  return ref;
}

function withAnnotations(body: CheckRunBody, annotations: readonly object[]): CheckRunBody {
  if (annotations.length === 0) return body;
  const output = (body.output ?? {}) as Record<string, unknown>;
  return { ...body, output: { ...output, annotations: [...annotations] } };
}
