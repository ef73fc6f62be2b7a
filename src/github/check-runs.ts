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
import type { Endpoints, RequestParameters } from "@octokit/types";
import type { CheckRunRef, RepoRef } from "./port.js";
import { ANNOTATIONS_PER_REQUEST } from "../shared/limits.js";
import { NotFoundError, UnavailableError, toGitHubApiError } from "./errors.js";

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

const CREATE = "POST /repos/{owner}/{repo}/check-runs";
const UPDATE = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}";
const LIST_FOR_REF = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs";
type CheckRunRoute = typeof CREATE | typeof UPDATE | typeof LIST_FOR_REF;

/** The three routes used here, typed as Octokit types them (an Octokit client is one). */
export interface CheckRunOctokit {
  request<R extends CheckRunRoute>(route: R, params: Endpoints[R]["parameters"] & RequestParameters): Promise<{ data: Endpoints[R]["response"]["data"] }>;
}

/** A POST body as `completedCheckRun` builds it. */
export type CheckRunBody = Endpoints[typeof CREATE]["parameters"];

/** Narrowed all the same: a fake or a proxy may answer less than the route's type promises. */
function refOf(data: { id: number | bigint; html_url: string | null }): CheckRunRef {
  const id = Number(data.id);
  return { id: Number.isFinite(id) ? id : 0, url: typeof data.html_url === "string" ? data.html_url : null };
}

/** Sends a request; whatever fails comes back as the GitHubApiError subclass for it. */
async function send<T>(request: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toGitHubApiError(error, request);
  }
}

async function patch(octokit: CheckRunOctokit, body: CheckRunBody, id: number): Promise<CheckRunRef | null> {
  const { owner, repo, head_sha: _head, ...update } = body;
  try {
    const { data } = await send(`PATCH /repos/${owner}/${repo}/check-runs/${id}`, () => octokit.request(UPDATE, { owner, repo, check_run_id: id, ...update }));
    return refOf(data);
  } catch (error) {
    // Deleted (or never ours): create a new one instead.
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

/** Our check run of this name on this head with this external id, if GitHub has one. */
async function findOurs(octokit: CheckRunOctokit, body: CheckRunBody, appId: number | null | undefined): Promise<number | null> {
  const { owner, repo } = body;
  const { data } = await send(`GET /repos/${owner}/${repo}/commits/${body.head_sha}/check-runs`, () =>
    octokit.request(LIST_FOR_REF, { owner, repo, ref: body.head_sha, check_name: body.name, filter: "all", per_page: 100, ...(appId ? { app_id: appId } : {}) }),
  );
  const ours = (data.check_runs ?? []).find(
    (r) => (body.external_id === undefined || r.external_id === body.external_id) && (!appId || r.app?.id === undefined || r.app.id === appId),
  );
  return ours ? Number(ours.id) : null;
}

async function post(octokit: CheckRunOctokit, body: CheckRunBody): Promise<CheckRunRef> {
  // Sent once: Octokit's retry of a POST whose answer was lost would create a second check run.
  const { data } = await send(`POST /repos/${body.owner}/${body.repo}/check-runs`, () => octokit.request(CREATE, { ...body, request: { retries: 0 } }));
  return refOf(data);
}

async function create(octokit: CheckRunOctokit, body: CheckRunBody, options: CheckRunPublishing): Promise<CheckRunRef> {
  try {
    return await post(octokit, body);
  } catch (error) {
    // No answer, or a server error: GitHub may have applied the POST.
    if (!(error instanceof UnavailableError)) throw error;
    const found = await findOurs(octokit, body, options.appId);
    const patched = found === null ? null : await patch(octokit, body, found);
    return patched ?? (await post(octokit, body));
  }
}

/**
 * Creates the check run, or updates the one of ours already on this head. Annotations go only with a new run (the
 * first 50 in the POST, the rest 50 per PATCH): GitHub appends annotations on every update, and a later decision on
 * the same head has the same diff, so its annotations are already there. @throws {GitHubApiError}
 */
export async function publishCheckRun(octokit: CheckRunOctokit, body: CheckRunBody, options: CheckRunPublishing = {}, annotations: readonly Annotation[] = []): Promise<CheckRunRef> {
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

type Annotation = NonNullable<NonNullable<CheckRunBody["output"]>["annotations"]>[number];

function withAnnotations(body: CheckRunBody, annotations: readonly Annotation[]): CheckRunBody {
  if (annotations.length === 0 || !body.output) return body;
  return { ...body, output: { ...body.output, annotations: [...annotations] } };
}
