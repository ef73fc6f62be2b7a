/**
 * A fake GitHub REST API on node:http for the benchmarks: the endpoints the App calls, real ETag semantics
 * (`If-None-Match` with the current ETag answers 304, which GitHub does not count against the rate limit), 100
 * files a page with `Link` headers, and a log of every request with its status.
 *
 * Pull requests are built from a real webhook example (test/fixtures/github), so the API answers and the webhook
 * payloads the benchmark sends have GitHub's shape.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { ServerResponse, createServer } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { ROOT } from "./util.js";

export interface FakeFile {
  filename: string;
  status: string;
  patch?: string;
  additions: number;
  deletions: number;
}

export interface FakeReview {
  login: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
  commitId: string;
}

export interface FakePull {
  owner: string;
  repo: string;
  number: number;
  author: string;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  files: FakeFile[];
  reviews: FakeReview[];
  labels: string[];
  requestedTeams: string[];
  requestedUsers: string[];
  updatedAt: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  status: number;
  /** The installation whose token authenticated the request (each installation gets its own token). */
  installation?: number | undefined;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface FakeRepoContent {
  /** path -> text at any ref (the benchmark never changes the base branch). */
  files: Record<string, string>;
  /** Checks the branch's rulesets require from `appId`. */
  requiredChecks: string[];
}

const EXAMPLE = JSON.parse(readFileSync(join(ROOT, "test/fixtures/github/pull_request.opened.json"), "utf8")) as Record<string, any>;

/** The repository and installation parts of a webhook payload. */
export function repositoryPayload(owner: string, repo: string, installationId: number): { repository: any; installation: any; sender: any } {
  const repository = structuredClone(EXAMPLE.repository);
  repository.name = repo;
  repository.full_name = `${owner}/${repo}`;
  repository.owner.login = owner;
  repository.owner.type = "Organization";
  return { repository, installation: { id: installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" }, sender: structuredClone(EXAMPLE.sender) };
}

/** The pull request as GitHub's API and webhooks show it. */
export function pullJson(p: FakePull): any {
  const pr = structuredClone(EXAMPLE.pull_request);
  pr.number = p.number;
  pr.state = "open";
  pr.draft = false;
  pr.merged = false;
  pr.user.login = p.author;
  pr.user.type = p.author.endsWith("[bot]") ? "Bot" : "User";
  pr.head.ref = p.headRef;
  pr.head.sha = p.headSha;
  pr.head.repo.full_name = `${p.owner}/${p.repo}`;
  pr.base.ref = p.baseRef;
  pr.base.sha = p.baseSha;
  pr.base.repo.full_name = `${p.owner}/${p.repo}`;
  pr.body = "Automated change by an agent.";
  pr.updated_at = new Date(p.updatedAt).toISOString();
  pr.labels = p.labels.map((name, i) => ({ id: 1000 + i, node_id: `L${i}`, url: "", name, color: "0e8a16", default: false, description: null }));
  pr.changed_files = p.files.length;
  pr.requested_reviewers = p.requestedUsers.map((login) => ({ ...pr.user, login, type: "User" }));
  pr.requested_teams = p.requestedTeams.map((slug) => ({ id: 1, node_id: "T", name: slug, slug, privacy: "closed", permission: "pull" }));
  return pr;
}

/**
 * One entry of the App's webhook delivery log (`GET /app/hook/deliveries`), shaped as GitHub's `hook-delivery-item`
 * (see test/fixtures/github/SOURCES.md), plus the event it carried so a redelivery can send it again.
 */
export interface FakeHookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at: string | null;
  body: string;
}

export class FakeGitHub {
  readonly requests: FakeRequest[] = [];
  readonly pulls = new Map<string, FakePull>();
  readonly teams = new Map<string, string[]>();
  readonly checkRuns: Array<{ id: number; repo: string; name: string; headSha: string; conclusion: string; externalId: string | undefined; updates: number; annotationBatches: unknown[][]; summary: string }> = [];
  /**
   * Parks a request without answering: "before" handling it (GitHub never got it), or "after" applying it (GitHub
   * did, the answer never comes). For tests that kill the App while an evaluation waits on GitHub. `hung` counts them.
   */
  hang: ((method: string, path: string, body: string) => "before" | "after" | undefined) | undefined;
  hung = 0;
  /** Applies the request, then drops the connection instead of answering (a response lost on the way back). */
  loseResponse: ((method: string, path: string) => boolean) | undefined;
  /** Repository label -> colour; a label not listed is created grey by "add labels", as GitHub does. */
  readonly labelColors = new Map<string, string>();
  /** Delays an answer (ms) by method and path: a slow GitHub, for tests that need an evaluation in flight. */
  delay: ((method: string, path: string) => number) | undefined;
  /** Answers a request with this status (and headers) instead, e.g. a 502 or a rate limit. */
  fault: ((method: string, path: string) => { status: number; headers?: Record<string, string>; message?: string } | undefined) | undefined;
  /** The App's webhook delivery log, oldest first (listed newest first, as GitHub does). */
  readonly hookDeliveries: FakeHookDelivery[] = [];
  /** Where redeliveries go (the App's webhook URL) and the secret they are signed with. */
  webhookTarget: string | undefined;
  webhookSecret = "";
  /** Repository (`owner/repo`, lower case) -> the App's installation there; unlisted repositories answer 1. */
  readonly installations = new Map<string, number | null>();
  #server: Server | undefined;
  #checkRunId = 0;
  #hookDeliveryId = 9_000_000;

  constructor(
    readonly content: FakeRepoContent,
    readonly appId: number,
  ) {}

  key(owner: string, repo: string, number: number): string {
    return `${owner}/${repo}#${number}`.toLowerCase();
  }

  addPull(p: FakePull): FakePull {
    this.pulls.set(this.key(p.owner, p.repo, p.number), p);
    return p;
  }

  pull(owner: string, repo: string, number: number): FakePull | undefined {
    return this.pulls.get(this.key(owner, repo, number));
  }

  /**
   * A delivery GitHub attempted and failed to hand over (the App never saw it): only the log has it, as
   * "failed to connect" with status 502 unless told otherwise. Returns its GUID.
   */
  failDelivery(event: { name: string; payload: unknown }, options: { guid?: string; statusCode?: number; status?: string; at?: Date } = {}): string {
    return this.logDelivery(event, { statusCode: 502, status: "failed to connect", ...options });
  }

  /** Adds an entry to the delivery log (e.g. a delivery the test sent itself, answered `statusCode`). Returns its GUID. */
  logDelivery(event: { name: string; payload: unknown }, options: { guid?: string; statusCode: number; status: string; at?: Date }): string {
    const payload = event.payload as { action?: unknown; installation?: { id?: unknown }; repository?: { id?: unknown } };
    const guid = options.guid ?? randomUUID();
    this.#logDelivery(guid, event.name, JSON.stringify(event.payload), payload, { redelivery: false, statusCode: options.statusCode, status: options.status, at: options.at ?? new Date() });
    return guid;
  }

  #logDelivery(guid: string, name: string, body: string, payload: { action?: unknown; installation?: { id?: unknown }; repository?: { id?: unknown } }, how: { redelivery: boolean; statusCode: number; status: string; at: Date }): FakeHookDelivery {
    const entry: FakeHookDelivery = {
      id: ++this.#hookDeliveryId,
      guid,
      delivered_at: how.at.toISOString().replace(/\.\d{3}Z$/, "Z"),
      redelivery: how.redelivery,
      duration: 0.03,
      status: how.status,
      status_code: how.statusCode,
      event: name,
      action: typeof payload.action === "string" ? payload.action : null,
      installation_id: typeof payload.installation?.id === "number" ? payload.installation.id : null,
      repository_id: typeof payload.repository?.id === "number" ? payload.repository.id : null,
      throttled_at: null,
      body,
    };
    this.hookDeliveries.push(entry);
    return entry;
  }

  /** GitHub's side of `POST /app/hook/deliveries/{id}/attempts`: the same GUID and body, sent again, logged. */
  async #redeliver(original: FakeHookDelivery): Promise<void> {
    for (let waited = 0; !this.webhookTarget && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    const signature = `sha256=${createHmac("sha256", this.webhookSecret).update(original.body).digest("hex")}`;
    const payload = JSON.parse(original.body) as Record<string, any>;
    let statusCode = 0;
    try {
      const response = await fetch(this.webhookTarget ?? "http://127.0.0.1:9/", {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": original.event, "x-github-delivery": original.guid, "x-hub-signature-256": signature, "user-agent": "GitHub-Hookshot/fake" },
        body: original.body,
      });
      await response.arrayBuffer();
      statusCode = response.status;
    } catch {
      statusCode = 0;
    }
    this.#logDelivery(original.guid, original.event, original.body, payload, { redelivery: true, statusCode, status: statusCode >= 200 && statusCode < 300 ? "OK" : "failed to connect", at: new Date() });
  }

  #hookDeliveryPage(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
    const cursor = url.searchParams.get("cursor");
    const newestFirst = [...this.hookDeliveries].reverse().filter((d) => cursor === null || d.id <= Number(cursor));
    const page = newestFirst.slice(0, perPage);
    const after = newestFirst[perPage];
    const headers: Record<string, string> = {};
    if (after) headers.link = `<http://${req.headers.host}/api/v3/app/hook/deliveries?per_page=${perPage}&cursor=${after.id}>; rel="next"`;
    this.#send(req, res, 200, page.map(({ body: _body, ...item }) => item), headers);
  }

  resetLog(): void {
    this.requests.length = 0;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        const parked = this.hang?.(req.method ?? "GET", new URL(req.url ?? "/", "http://x").pathname.replace(/^\/api\/v3/, ""), body);
        if (parked) {
          this.hung++;
          this.requests.push({ method: req.method ?? "GET", path: `${req.url ?? ""} (hung ${parked})`, status: 0, at: performance.now() });
          if (parked === "after") this.#handle(req, new ServerResponse(req), body);
          return;
        }
        const run = () => {
          try {
            this.#handle(req, res, body);
          } catch (error) {
            this.#send(req, res, 500, { message: String(error) });
          }
        };
        const wait = this.delay?.(req.method ?? "GET", new URL(req.url ?? "/", "http://x").pathname.replace(/^\/api\/v3/, "")) ?? 0;
        if (wait > 0) setTimeout(run, wait);
        else run();
      });
    });
    this.#server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const url = new URL(req.url ?? "/", "http://x");
    const text = typeof body === "string" ? body : JSON.stringify(body);
    let code = status;
    const extra: Record<string, string> = { ...headers };
    if (req.method === "GET" && status === 200) {
      const etag = `W/"${createHash("sha1").update(text).digest("hex")}"`;
      extra.etag = etag;
      if (req.headers["if-none-match"] === etag) code = 304;
    }
    const token = /^(?:token|bearer) ghs_bench_(\d+)$/i.exec(req.headers.authorization ?? "");
    this.requests.push({ method: req.method ?? "GET", path: url.pathname.replace(/^\/api\/v3/, "") + url.search, status: code, installation: token ? Number(token[1]) : undefined, at: performance.now() });
    // FAKE_GITHUB_TRACE=1 prints each request with a timestamp (how the write spacing in section 3 was seen).
    if (process.env.FAKE_GITHUB_TRACE) console.error(`${(performance.now() / 1000).toFixed(3)} ${req.method} ${url.pathname} ${code}`);
    res.writeHead(code, { "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8", ...extra });
    res.end(code === 304 ? undefined : text);
  }

  #handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? "/", "http://x");
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v3/, ""));
    const method = req.method ?? "GET";
    const fault = this.fault?.(method, path);
    if (fault) return this.#send(req, res, fault.status, { message: fault.message ?? "fault injected by the test" }, fault.headers);
    const body = raw ? (JSON.parse(raw) as Record<string, any>) : {};
    let m: RegExpExecArray | null;

    if (method === "POST" && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path))) {
      return this.#send(req, res, 201, { token: `ghs_bench_${m[1]}`, expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {} });
    }
    if (method === "GET" && path === "/app/hook/deliveries") return this.#hookDeliveryPage(req, res, url);
    if (method === "POST" && (m = /^\/app\/hook\/deliveries\/(\d+)\/attempts$/.exec(path))) {
      const original = this.hookDeliveries.find((d) => d.id === Number(m![1]));
      if (!original) return this.#send(req, res, 404, { message: "Not Found" });
      void this.#redeliver(original);
      return this.#send(req, res, 202, {});
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(path))) {
      const id = this.installations.get(`${m[1]}/${m[2]}`.toLowerCase());
      if (id === null) return this.#send(req, res, 404, { message: "Not Found" });
      return this.#send(req, res, 200, { id: id ?? 1, app_id: this.appId, target_type: "Organization", account: { login: m[1] } });
    }
    if (method === "POST" && (path === "/graphql" || path === "/api/graphql") && typeof body.query === "string" && body.query.includes("AgentGateFileModes")) {
      // The file-modes query (src/github/file-modes.ts): every path is a plain file. Each side answers every alias;
      // the App reads only the ones it put under that side.
      const aliases = Object.keys(body.variables ?? {}).filter((k) => /^p\d+$/.test(k));
      const side = Object.fromEntries(aliases.map((a) => [a, { mode: 0o100644 }]));
      // The first query also asks for the PR's commits (issue 12): the same one agent commit `/commits` lists.
      const number = body.variables?.number;
      const asked = typeof number === "number" ? this.pull(String(body.variables.owner), String(body.variables.name), number) : undefined;
      const pullRequest = asked
        ? { pullRequest: { headRefOid: asked.headSha, commits: { totalCount: 1, nodes: [{ commit: { oid: asked.headSha, author: { user: { login: asked.author } }, committer: { user: { login: "web-flow" } } } }] } } }
        : typeof number === "number"
          ? { pullRequest: null }
          : {};
      return this.#send(req, res, 200, { data: { repository: { base: side, head: side, ...pullRequest } } });
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(path))) {
      const text = this.content.files[m[3]!];
      return text === undefined ? this.#send(req, res, 404, { message: "Not Found" }) : this.#send(req, res, 200, text);
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)(\/.*)?$/.exec(path))) {
      const pull = this.pull(m[1]!, m[2]!, Number(m[3]));
      if (!pull) return this.#send(req, res, 404, { message: "Not Found" });
      const rest = m[4] ?? "";
      if (method === "GET" && rest === "") return this.#send(req, res, 200, pullJson(pull));
      if (method === "GET" && rest === "/files") return this.#page(req, res, url, pull.files.map((f, i) => fileJson(pull, f, i)));
      // The agent's one commit (its author the PR's author, committed through GitHub), as GitHub lists them.
      if (method === "GET" && rest === "/commits") {
        return this.#page(req, res, url, [{ sha: pull.headSha, commit: { message: "agent change" }, author: { login: pull.author, type: "Bot" }, committer: { login: "web-flow", type: "User" } }]);
      }
      if (method === "GET" && rest === "/reviews") {
        return this.#page(req, res, url, pull.reviews.map((r, i) => ({ id: 500 + i, user: { login: r.login, id: 9000 + i, type: "User" }, body: "", state: r.state, commit_id: r.commitId, submitted_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() })));
      }
      if (method === "POST" && rest === "/requested_reviewers") {
        pull.requestedUsers.push(...((body.reviewers as string[] | undefined) ?? []));
        pull.requestedTeams.push(...((body.team_reviewers as string[] | undefined) ?? []));
        pull.updatedAt += 1;
        return this.#send(req, res, 201, pullJson(pull));
      }
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels(?:\/(.+))?$/.exec(path))) {
      const pull = this.pull(m[1]!, m[2]!, Number(m[3]));
      if (!pull) return this.#send(req, res, 404, { message: "Not Found" });
      if (method === "POST") {
        for (const name of (body.labels as string[] | undefined) ?? []) {
          if (!pull.labels.includes(name)) pull.labels.push(name);
          if (!this.labelColors.has(name)) this.labelColors.set(name, "ededed");
        }
        pull.updatedAt += 1;
        return this.#send(req, res, 200, pull.labels.map((name) => ({ name, color: this.labelColors.get(name) ?? "ededed" })));
      }
      if (method === "DELETE" && m[4]) {
        pull.labels = pull.labels.filter((l) => l !== m![4]);
        pull.updatedAt += 1;
        return this.#send(req, res, 200, []);
      }
    }
    if (method === "PATCH" && (m = /^\/repos\/([^/]+)\/([^/]+)\/labels\/(.+)$/.exec(path))) {
      this.labelColors.set(m[3]!, String(body.color));
      return this.#send(req, res, 200, { name: m[3], color: body.color });
    }
    if (method === "POST" && (m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(path))) {
      const id = ++this.#checkRunId;
      this.checkRuns.push({ id, repo: `${m[1]}/${m[2]}`, name: String(body.name), headSha: String(body.head_sha), conclusion: String(body.conclusion), externalId: body.external_id as string | undefined, updates: 0, annotationBatches: annotationsOf(body), summary: String(body.output?.summary ?? "") });
      if (this.loseResponse?.(method, path)) {
        this.requests.push({ method, path, status: 0, at: performance.now() });
        res.destroy();
        return;
      }
      return this.#send(req, res, 201, { id, html_url: `https://github.com/${m[1]}/${m[2]}/runs/${id}` });
    }
    if (method === "PATCH" && (m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/.exec(path))) {
      const run = this.checkRuns.find((r) => r.id === Number(m![3]) && r.repo === `${m![1]}/${m![2]}`);
      if (!run) return this.#send(req, res, 404, { message: "Not Found" });
      run.conclusion = String(body.conclusion ?? run.conclusion);
      if (typeof body.output?.summary === "string") run.summary = body.output.summary;
      run.updates++;
      run.annotationBatches.push(...annotationsOf(body));
      return this.#send(req, res, 200, { id: run.id, html_url: `https://github.com/${m[1]}/${m[2]}/runs/${run.id}` });
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/.exec(path))) {
      const name = url.searchParams.get("check_name");
      const runs = this.checkRuns.filter((r) => r.repo === `${m![1]}/${m![2]}` && r.headSha === m![3] && (name === null || r.name === name));
      return this.#send(req, res, 200, { total_count: runs.length, check_runs: runs.map((r) => ({ id: r.id, name: r.name, head_sha: r.headSha, external_id: r.externalId ?? "", conclusion: r.conclusion, app: { id: this.appId } })) });
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/rules\/branches\/(.+)$/.exec(path))) {
      const rules =
        this.content.requiredChecks.length === 0
          ? []
          : [{ type: "required_status_checks", ruleset_source_type: "Repository", ruleset_source: `${m[1]}/${m[2]}`, ruleset_id: 7, parameters: { strict_required_status_checks_policy: false, required_status_checks: this.content.requiredChecks.map((context) => ({ context: `${context} (${m![3]})`, integration_id: this.appId })) } }];
      return this.#send(req, res, 200, rules);
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)$/.exec(path))) {
      return this.#send(req, res, 200, { name: m[3], protected: false, protection: { enabled: false, required_status_checks: { contexts: [], checks: [] } } });
    }
    if (method === "GET" && /^\/repos\/([^/]+)\/([^/]+)\/codeowners\/errors$/.test(path)) return this.#send(req, res, 200, { errors: [] });
    if (method === "GET" && (m = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/members$/.exec(path))) {
      const members = this.teams.get(`${m[1]}/${m[2]}`.toLowerCase());
      if (!members) return this.#send(req, res, 404, { message: "Not Found" });
      return this.#page(req, res, url, members.map((login, i) => ({ login, id: 100 + i, type: "User" })));
    }
    return this.#send(req, res, 404, { message: `fake GitHub has no ${method} ${path}` });
  }

  /** One page of a list, 100 (or per_page) items, with GitHub's Link header. */
  #page(req: IncomingMessage, res: ServerResponse, url: URL, items: unknown[]): void {
    const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
    const page = Number(url.searchParams.get("page") ?? 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URL(url.toString());
      next.searchParams.set("page", String(page + 1));
      headers.link = `<http://${req.headers.host}${next.pathname}${next.search}>; rel="next"`;
    }
    this.#send(req, res, 200, slice, headers);
  }
}

function fileJson(p: FakePull, f: FakeFile, i: number): Record<string, unknown> {
  const url = `https://api.github.com/repos/${p.owner}/${p.repo}/contents/${f.filename}?ref=${p.headSha}`;
  return {
    sha: (i + 1).toString(16).padStart(40, "0"),
    filename: f.filename,
    status: f.status,
    additions: f.additions,
    deletions: f.deletions,
    changes: f.additions + f.deletions,
    blob_url: `https://github.com/${p.owner}/${p.repo}/blob/${p.headSha}/${f.filename}`,
    raw_url: `https://github.com/${p.owner}/${p.repo}/raw/${p.headSha}/${f.filename}`,
    contents_url: url,
    ...(f.patch === undefined ? {} : { patch: f.patch }),
  };
}

/** Summarises a request log: total, counted (not 304), 304s, writes, and `METHOD route ×n` groups. */
export function summarise(requests: FakeRequest[]): { total: number; counted: number; notModified: number; writes: number; detail: string } {
  const groups = new Map<string, number>();
  for (const r of requests) {
    const route = r.path
      .replace(/\?.*$/, "")
      .replace(/^\/repos\/[^/]+\/[^/]+/, "")
      .replace(/\/contents\/.+/, "/contents")
      .replace(/\/pulls\/\d+/, "/pulls/N")
      .replace(/\/issues\/\d+/, "/issues/N")
      .replace(/\/labels\/.+/, "/labels/X")
      .replace(/\/teams\/[^/]+/, "/teams/T")
      .replace(/\/branches\/.+/, "/branches/B");
    const key = `${r.method} ${route}${r.status === 304 ? " (304)" : ""}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return {
    total: requests.length,
    counted: requests.filter((r) => r.status !== 304).length,
    notModified: requests.filter((r) => r.status === 304).length,
    // A GraphQL query is a read (the App sends no mutations).
    writes: requests.filter((r) => r.method !== "GET" && !/^(?:\/api)?\/graphql/.test(r.path)).length,
    detail: [...groups].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join("; "),
  };
}

/** The annotations one check-run request carried, as a one-batch list (none: an empty list), as GitHub appends them. */
function annotationsOf(body: Record<string, unknown>): unknown[][] {
  const output = body.output;
  const annotations = typeof output === "object" && output !== null ? (output as { annotations?: unknown }).annotations : undefined;
  if (!Array.isArray(annotations) || annotations.length === 0) return [];
  // GitHub refuses more than 50 in one request; so does the fake, so a test cannot pass with one big batch.
  if (annotations.length > 50) throw new Error(`${annotations.length} annotations in one request: GitHub takes at most 50`);
  return [annotations];
}
