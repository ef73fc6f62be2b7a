/**
 * GitHub requests per event, counted at a fake GitHub API (bench/fake-github.ts) with real ETag semantics: the
 * App (Probot + createAgentGate, in-process) receives real-shaped webhook payloads, and every request it makes is
 * logged with its status. "Cold" is a fresh App (empty conditional cache, nothing remembered); "warm" is the same
 * App after the events that normally come first (another PR in the repository, the PR's own earlier events).
 */
import { generateKeyPairSync } from "node:crypto";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { createAgentGate } from "../src/app/index.js";
import { DatabaseGateStore } from "../src/services/database-gate-store.js";
import { MEMORY_DATA_DIR, openStore } from "../src/store/index.js";
import { DatabaseTelemetryStore } from "../src/store/telemetry-store.js";
import type { Store } from "../src/store/index.js";
import { FakeGitHub, pullJson, repositoryPayload, summarise } from "./fake-github.js";
import type { FakeFile, FakePull, FakeRequest } from "./fake-github.js";
import { table } from "./util.js";

export const APP_ID = 4242;
const OWNER = "acme";
const REPO = "service";
const INSTALLATION = 1;

export const POLICY = `# Agent Gate policy of the benchmark repository
agents:
  authors: ["agent-gate-runner[bot]"]
  branches: ["agent/**"]
scope: agents
risk:
  rules:
    - id: payments
      paths: ["services/payments/**"]
      level: high
      reason: money moves here
approvals:
  codeowners: { from: high }
`;

export const CODEOWNERS = `*                     @acme/maintainers
/docs/                @acme/docs
/db/                  @acme/db-team
/services/payments/   @acme/payments
/.github/             @acme/security
`;

let key: string | undefined;
export function privateKey(): string {
  key ??= generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey;
  return key;
}

export function fakeGitHub(): FakeGitHub {
  const fake = new FakeGitHub({ files: { ".github/agent-gate.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, requiredChecks: ["Agent Gate: approval"] }, APP_ID);
  fake.teams.set("acme/db-team", ["dba-alice", "dba-bob"]);
  // The risk labels exist in the repository with their colours (the first PR of a level adds one request, once).
  for (const [level, color] of Object.entries({ low: "0e8a16", medium: "fbca04", high: "d93f0b", critical: "b60205" })) fake.labelColors.set(`agent-risk:${level}`, color);
  return fake;
}

const sha = (n: number) => n.toString(16).padStart(40, "0");

/** `n` changed files; with `migration` the first adds one, so the PR is high risk and waits on the db team. */
export function changedFiles(n: number, salt = 0, migration = false): FakeFile[] {
  const files: FakeFile[] = migration ? [{ filename: `db/migrations/${salt}_add_accounts.sql`, status: "added", patch: "@@ -0,0 +1 @@\n+CREATE TABLE accounts (id int);", additions: 1, deletions: 0 }] : [];
  for (let i = files.length; i < n; i++) {
    files.push({ filename: `src/module${i % 20}/file${i}.ts`, status: "modified", patch: `@@ -1,2 +1,2 @@\n import { a } from "./a";\n-export const v${i} = ${salt};\n+export const v${i} = ${salt + 1};`, additions: 1, deletions: 1 });
  }
  return files;
}

export function newPull(fake: FakeGitHub, number: number, files: number, options: { migration?: boolean; owner?: string; repo?: string } = {}): FakePull {
  const { migration = false, owner = OWNER, repo = REPO } = options;
  return fake.addPull({
    owner,
    repo,
    number,
    author: "agent-gate-runner[bot]",
    headRef: `agent/run-${number}`,
    headSha: sha(number * 1_000 + 1),
    baseRef: "main",
    baseSha: sha(7),
    files: changedFiles(files, number, migration),
    reviews: [],
    labels: [],
    requestedTeams: [],
    requestedUsers: [],
    updatedAt: Date.UTC(2026, 0, 1),
  });
}

/** A webhook delivery as `probot.receive` takes it (the payload is built, not typed field by field). */
export interface Delivery {
  name: any;
  payload: any;
}

export function pullRequestEvent(p: FakePull, action: string): Delivery {
  return { name: "pull_request" as const, payload: { action, number: p.number, pull_request: pullJson(p), ...repositoryPayload(p.owner, p.repo, INSTALLATION) } };
}

export function reviewEvent(p: FakePull, login: string): Delivery {
  const review = { id: 700 + p.reviews.length, user: { login, id: 42, type: "User" }, body: "", state: "approved", commit_id: p.headSha, submitted_at: new Date().toISOString() };
  return { name: "pull_request_review" as const, payload: { action: "submitted", review, pull_request: pullJson(p), ...repositoryPayload(p.owner, p.repo, INSTALLATION) } };
}

/** The fake GitHub's side of a push: a new head with changed files. */
export function push(p: FakePull): void {
  const n = Number.parseInt(p.headSha, 16) + 1;
  p.headSha = sha(n);
  p.files = changedFiles(p.files.length, n, p.files[0]?.filename.startsWith("db/") ?? false);
  p.updatedAt += 60_000;
}

/** The fake GitHub's side of a review. */
export function review(p: FakePull, login: string): void {
  p.reviews.push({ login, state: "APPROVED", commitId: p.headSha });
  p.requestedTeams = p.requestedTeams.filter((t) => t !== "db-team");
  p.updatedAt += 60_000;
}

/**
 * One in-memory database for the whole run (opening and migrating PGlite costs seconds). A "fresh App" still
 * remembers nothing that matters here: the store keeps its memory per pull request, and every measured event is
 * on a pull request of its own.
 */
let database: Promise<Store> | undefined;

async function app(host: string): Promise<Probot> {
  const Octokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, retry: { enabled: false }, throttle: { ...(options.throttle as object | undefined), enabled: false } }));
  const probot = new Probot({ appId: APP_ID, privateKey: privateKey(), baseUrl: `http://${host}/api/v3`, Octokit, log: pino({ level: "silent" }) });
  database ??= openStore({ dataDir: MEMORY_DATA_DIR });
  const store = await database;
  await probot.load(createAgentGate({ appId: APP_ID, store: new DatabaseGateStore(store), telemetry: new DatabaseTelemetryStore(store) }));
  return probot;
}

interface Row {
  event: string;
  files: number;
  cache: "cold" | "warm";
  note: string;
  requests: FakeRequest[];
  target?: number;
  floor?: string;
}

export interface RequestsOptions {
  sizes: number[];
}

export interface RequestRow {
  event: string;
  files: number;
  cache: string;
  total: number;
  counted: number;
  notModified: number;
  target: number | null;
}

export async function benchRequests(options: RequestsOptions = { sizes: [50, 500, 3000] }): Promise<{ markdown: string; rows: RequestRow[] }> {
  const fake = fakeGitHub();
  const host = await fake.start();
  const rows: Row[] = [];
  let next = 1;
  const measure = async (probot: Probot, event: Delivery, row: Omit<Row, "requests">) => {
    fake.resetLog();
    await probot.receive({ id: `bench-${next++}`, ...event });
    rows.push({ ...row, requests: fake.requests.filter((r) => !r.path.startsWith("/app/")) });
  };
  try {
    for (const size of options.sizes) {
      const target = size <= 100 ? 4 : undefined;
      const floor = size <= 100 ? "6 cold / 4 counted warm" : undefined;
      // Cold: a fresh App, the first event it sees.
      let probot = await app(host);
      await measure(probot, pullRequestEvent(newPull(fake, next++, size), "opened"), { event: "pull_request.opened", files: size, cache: "cold", note: "fresh App", floor });
      // Warm: the same App after another PR of this repository (policy, CODEOWNERS, branch rules cached).
      probot = await app(host);
      await probot.receive({ id: `bench-${next++}`, ...pullRequestEvent(newPull(fake, next++, 5), "opened") });
      await measure(probot, pullRequestEvent(newPull(fake, next++, size), "opened"), { event: "pull_request.opened", files: size, cache: "warm", note: "after another PR of the repository", target, floor });
    }

    const size = options.sizes[0]!;
    // synchronize
    {
      const cold = newPull(fake, next++, size);
      push(cold);
      await measure(await app(host), pullRequestEvent(cold, "synchronize"), { event: "pull_request.synchronize", files: size, cache: "cold", note: "fresh App" });
      const probot = await app(host);
      const p = newPull(fake, next++, size);
      await probot.receive({ id: `bench-${next++}`, ...pullRequestEvent(p, "opened") });
      push(p);
      await measure(probot, pullRequestEvent(p, "synchronize"), { event: "pull_request.synchronize", files: size, cache: "warm", note: "after the PR's opened event", target: 4 });
    }
    // review submitted (approval by a member of the owning team)
    {
      const cold = newPull(fake, next++, size, { migration: true });
      review(cold, "dba-alice");
      await measure(await app(host), reviewEvent(cold, "dba-alice"), { event: "pull_request_review.submitted", files: size, cache: "cold", note: "fresh App", floor: "2–3" });
      const probot = await app(host);
      const p = newPull(fake, next++, size, { migration: true });
      await probot.receive({ id: `bench-${next++}`, ...pullRequestEvent(p, "opened") });
      review(p, "dba-alice");
      await measure(probot, reviewEvent(p, "dba-alice"), { event: "pull_request_review.submitted", files: size, cache: "warm", note: "first review after opened (team list read once)", target: 3, floor: "2–3" });
      review(p, "dba-bob");
      await measure(probot, reviewEvent(p, "dba-bob"), { event: "pull_request_review.submitted", files: size, cache: "warm", note: "a later review (team list cached)", target: 3, floor: "2–3" });
    }
  } finally {
    await fake.stop();
    await (await database)?.close();
    database = undefined;
  }

  const out: RequestRow[] = [];
  const lines = rows.map((r) => {
    const s = summarise(r.requests);
    out.push({ event: r.event, files: r.files, cache: r.cache, total: s.total, counted: s.counted, notModified: s.notModified, target: r.target ?? null });
    const verdict = r.target === undefined ? "" : s.counted <= r.target ? `≤ ${r.target}: met` : `≤ ${r.target}: **missed**`;
    return [`\`${r.event}\``, r.files.toLocaleString("en"), `${r.cache} (${r.note})`, s.total, `**${s.counted}**`, s.notModified, s.writes, verdict, r.floor ?? "", s.detail];
  });
  const markdown = [
    "## 2. GitHub requests per event",
    "",
    "Counted at a fake GitHub API (node:http) that answers `If-None-Match` with 304 when the ETag is current, as GitHub does. " +
      '"Counted" = counted against the installation\'s primary rate limit (everything except 304). The installation token request (once an hour per installation) is left out. ' +
      "Opened and synchronized PRs change source files only (low risk up to 100 files: a check run and a label, no review request, as in the floor); " +
      "for the review rows the PR also adds a migration, so it is high risk and waits on `@acme/db-team`, and the review approves as a member of that team. " +
      "A PR of 3,000 files is failed from the payload's `changed_files` without listing 30 pages (invariant 2).",
    "",
    table(
      ["event", "files", "cache", "requests", "counted", "304", "writes", "target (counted)", "DESIGN.md floor", "requests made"],
      ["l", "r", "l", "r", "r", "r", "r", "l", "l", "l"],
      lines,
    ),
    "",
    "The PR is not read again before publishing (issue 12): each event is a durable per-PR job and the check is bound to its head, so a newer head's job always follows. " +
      "Above the floor in DESIGN.md (\"What GitHub allows, and the cost floor\"): the branch rules read (invariant 10, cold only) and the GraphQL file-modes query (invariant 2, once per head and base). " +
      "A PR's first evaluation of its opening reads no reviews (it has none yet), so the first push after it reads them in full (4 counted) where a later push gets a 304. " +
      "The PR's commits (invariant 4: did a reviewer make any?) come with the file-modes query, and GitHub's CODEOWNERS validation (invariant 4: owners GitHub rejects) is read whenever a requirement has code owners, so a first review finds both remembered or answering 304.",
  ].join("\n");
  return { markdown, rows: out };
}
