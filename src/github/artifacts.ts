/**
 * What telemetry ingestion needs from GitHub beyond the main port: a workflow run's artifacts, one artifact's zip,
 * and the "Agent Gate: rationale" check run with its annotations. A separate small port so the main adapter
 * (port.ts, octokit-github.ts) stays as it is; implemented over the same Octokit instance.
 */
import { completedCheckRun, toApiAnnotation } from "./octokit-github.js";
import type { Octokit } from "./octokit-github.js";
import { GitHubApiError, toGitHubApiError } from "./errors.js";
import type { CheckRunInput, RepoRef } from "./port.js";
import { ANNOTATIONS_PER_REQUEST } from "../shared/limits.js";

export interface ArtifactInfo {
  id: number;
  name: string;
  /** Compressed size, as GitHub reports it. */
  sizeInBytes: number;
  expired: boolean;
  /** The run that uploaded it, when GitHub says (it always does on api.github.com). */
  workflowRunId: number | null;
}

export interface RationaleAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string | undefined;
}

export interface RationaleCheckInput extends CheckRunInput {
  /** At most 50 (GitHub's per-request limit); send more with `addCheckRunAnnotations`. */
  annotations: RationaleAnnotation[];
}

/** Thrown when an artifact is larger than the caller allows; nothing beyond the cap is read. */
export class ArtifactTooLargeError extends Error {
  override readonly name = "ArtifactTooLargeError";
  constructor(
    readonly limitBytes: number,
    readonly sizeBytes: number | null,
  ) {
    super(`the artifact is larger than ${limitBytes} bytes${sizeBytes !== null ? ` (${sizeBytes} bytes)` : ""}`);
  }
}

export interface TelemetryGitHub {
  /**
   * Every artifact of one workflow run (`GET /repos/{o}/{r}/actions/runs/{run_id}/artifacts`), first page of 100.
   * @throws {GitHubApiError}
   */
  listRunArtifacts(repo: RepoRef, runId: number): Promise<ArtifactInfo[]>;
  /**
   * The artifact's zip: `GET .../actions/artifacts/{id}/zip` answers 302 to a short-lived blob URL, which is fetched
   * without our token. At most `maxBytes` are read.
   * @throws {ArtifactTooLargeError} past `maxBytes`; {GitHubApiError} on any API or download failure.
   */
  downloadArtifact(repo: RepoRef, artifactId: number, maxBytes: number): Promise<Uint8Array>;
  /**
   * Creates a completed check run with the first (at most 50) annotations.
   * @throws {GitHubApiError}
   */
  createRationaleCheck(repo: RepoRef, input: RationaleCheckInput): Promise<{ id: number; url: string | null }>;
  /**
   * Adds up to 50 more annotations to a check run (`PATCH`; GitHub appends them). Title and summary must be resent.
   * @throws {GitHubApiError}
   */
  addCheckRunAnnotations(repo: RepoRef, checkRunId: number, output: { title: string; summary: string; annotations: RationaleAnnotation[] }): Promise<void>;
}


export class OctokitTelemetryGitHub implements TelemetryGitHub {
  readonly #octokit: Octokit;
  readonly #fetch: typeof fetch;

  /** `fetchBlob` downloads the pre-signed blob URL (default: the global fetch); our token never goes there. */
  constructor(octokit: Octokit, options: { fetchBlob?: typeof fetch } = {}) {
    this.#octokit = octokit;
    this.#fetch = options.fetchBlob ?? ((input, init) => fetch(input, init));
  }

  async listRunArtifacts(repo: RepoRef, runId: number): Promise<ArtifactInfo[]> {
    const request = `GET /repos/${repo.owner}/${repo.repo}/actions/runs/${runId}/artifacts`;
    try {
      const response = await this.#octokit.request("GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", { ...repo, run_id: runId, per_page: 100 });
      const data = record(response.data);
      return array(data.artifacts).map((item) => {
        const a = record(item);
        const run = record(a.workflow_run);
        return {
          id: typeof a.id === "number" ? a.id : 0,
          name: typeof a.name === "string" ? a.name : "",
          sizeInBytes: typeof a.size_in_bytes === "number" ? a.size_in_bytes : 0,
          expired: a.expired === true,
          workflowRunId: typeof run.id === "number" ? run.id : null,
        };
      });
    } catch (error) {
      throw toGitHubApiError(error, request);
    }
  }

  async downloadArtifact(repo: RepoRef, artifactId: number, maxBytes: number): Promise<Uint8Array> {
    const request = `GET /repos/${repo.owner}/${repo.repo}/actions/artifacts/${artifactId}/zip`;
    let location: string | null = null;
    try {
      // Manual redirect: the blob host must not receive our installation token, and we want its size before reading.
      const response = await this.#octokit.request("GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}", {
        ...repo,
        artifact_id: artifactId,
        archive_format: "zip",
        request: { redirect: "manual", parseSuccessResponseBody: false },
      });
      const header = response.headers.location;
      // Typed as 302 by Octokit's route types; a server may answer 200 with the zip or anything else.
      const status: number = response.status;
      if (status >= 300 && status < 400 && typeof header === "string") {
        location = header;
        await cancelBody(response.data);
      } else if (status === 200) {
        // Some servers (or proxies) answer with the zip itself.
        return await readCapped(response.data, headerNumber(response.headers["content-length"]), maxBytes);
      } else {
        await cancelBody(response.data);
        throw new GitHubApiError(`${request} answered ${status} without a download location`, { status, requestId: null, request });
      }
    } catch (error) {
      if (error instanceof ArtifactTooLargeError) throw error;
      throw toGitHubApiError(error, request);
    }

    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new GitHubApiError(`${request} redirected to an invalid URL`, { status: 302, requestId: null, request });
    }
    if (url.protocol !== "https:") throw new GitHubApiError(`${request} redirected to a non-https URL`, { status: 302, requestId: null, request });
    const blobRequest = `GET ${url.origin}${url.pathname}`;
    let blob: Response;
    try {
      blob = await this.#fetch(url, { redirect: "follow" });
    } catch (error) {
      throw new GitHubApiError(`${blobRequest} failed: ${error instanceof Error ? error.message : String(error)}`, { status: null, requestId: null, request: blobRequest, cause: error });
    }
    if (!blob.ok) {
      await blob.body?.cancel().catch(() => undefined);
      throw new GitHubApiError(`${blobRequest} answered ${blob.status}`, { status: blob.status, requestId: null, request: blobRequest });
    }
    return readCapped(blob.body, headerNumber(blob.headers.get("content-length")), maxBytes);
  }

  async createRationaleCheck(repo: RepoRef, input: RationaleCheckInput): Promise<{ id: number; url: string | null }> {
    if (input.annotations.length > ANNOTATIONS_PER_REQUEST) throw new RangeError(`at most ${ANNOTATIONS_PER_REQUEST} annotations per request`);
    const request = `POST /repos/${repo.owner}/${repo.repo}/check-runs`;
    try {
      const response = await this.#octokit.request("POST /repos/{owner}/{repo}/check-runs", completedCheckRun(repo, input, input.annotations.map(toApiAnnotation)));
      const data = record(response.data);
      return { id: typeof data.id === "number" ? data.id : 0, url: typeof data.html_url === "string" ? data.html_url : null };
    } catch (error) {
      throw toGitHubApiError(error, request);
    }
  }

  async addCheckRunAnnotations(repo: RepoRef, checkRunId: number, output: { title: string; summary: string; annotations: RationaleAnnotation[] }): Promise<void> {
    if (output.annotations.length > ANNOTATIONS_PER_REQUEST) throw new RangeError(`at most ${ANNOTATIONS_PER_REQUEST} annotations per request`);
    const request = `PATCH /repos/${repo.owner}/${repo.repo}/check-runs/${checkRunId}`;
    try {
      await this.#octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
        ...repo,
        check_run_id: checkRunId,
        output: { title: output.title, summary: output.summary, annotations: output.annotations.map(toApiAnnotation) },
      });
    } catch (error) {
      throw toGitHubApiError(error, request);
    }
  }
}

function headerNumber(value: unknown): number | null {
  const n = typeof value === "string" ? Number(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

async function cancelBody(body: unknown): Promise<void> {
  if (body instanceof ReadableStream) await body.cancel().catch(() => undefined);
}

/** Reads a response body into memory, refusing (and cancelling) past `maxBytes`, whatever Content-Length claims. */
async function readCapped(body: unknown, declared: number | null, maxBytes: number): Promise<Uint8Array> {
  if (declared !== null && declared > maxBytes) {
    await cancelBody(body);
    throw new ArtifactTooLargeError(maxBytes, declared);
  }
  if (body instanceof ArrayBuffer) return capBytes(new Uint8Array(body), maxBytes);
  if (body instanceof Uint8Array) return capBytes(body, maxBytes);
  if (typeof body === "string") return capBytes(new TextEncoder().encode(body), maxBytes);
  if (!(body instanceof ReadableStream)) return new Uint8Array(0);
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ArtifactTooLargeError(maxBytes, null);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function capBytes(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes.byteLength > maxBytes) throw new ArtifactTooLargeError(maxBytes, bytes.byteLength);
  return bytes;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
