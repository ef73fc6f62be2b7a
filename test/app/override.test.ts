/**
 * Break-glass through `probot.receive`: GitHub's real `issue_comment.created` payload (`@octokit/webhooks-examples`)
 * pointed at an agent PR the App has already decided, every GitHub request answered by nock.
 */
import { Writable } from "node:stream";
import { Command } from "commander";
import nock from "nock";
import { parse } from "csv-parse/sync";
import { registerAuditCommands } from "../../src/cli/commands/audit.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { routeEvent } from "../../src/app/routes.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import { evaluations } from "../../src/store/schema.js";
import { TEST_DRIVERS } from "../helpers/db.js";
import { useTestStore } from "../helpers/use-test-store.js";
import {
  BASE_SHA,
  HEAD_SHA,
  NEW_HEAD_SHA,
  OWNER,
  PR_NUMBER,
  REPO_PATH,
  api,
  fixture,
  nockAddLabels,
  nockCodeowners,
  nockCodeownersErrors,
  nockGetPull,
  nockPolicyFile,
  nockRequestReviewers,
  nockReviews,
  nockTeamMembers,
  requests,
  reviewEvent,
} from "../helpers/github.js";
import { CODEOWNERS, POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";
import type { TestApp } from "./scenario.js";

const MIGRATION = [{ filename: "db/migrations/0042_add_accounts.sql", status: "added", patch: "@@ -0,0 +1 @@\n+CREATE TABLE accounts (id int);" }];
const POLICY = `${POLICY_YML}override:
  users: ["oncall-olga", "agent-gate-runner"]
  teams: ["@${OWNER}/sre"]
`;
/**
 * Decisions are dated by the database's own clock (the evaluation row's created_at), so comments are dated
 * relative to now: written a minute after the decision unless a test says so.
 */
const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

interface CommentScenario {
  by?: string;
  type?: "User" | "Bot";
  body?: string;
  action?: "created" | "edited";
  createdAt?: string;
}

/** GitHub's issue_comment example, on PR 2 (a pull request's comments are issue comments). */
function commentEvent(s: CommentScenario = {}): { name: "issue_comment"; payload: any } {
  const payload = fixture(s.action === "edited" ? "issue_comment.edited" : "issue_comment.created");
  const pr = agentPullRequest(MIGRATION).payload;
  payload.action = s.action ?? "created";
  payload.repository = pr.repository;
  payload.installation = pr.installation;
  payload.issue.number = PR_NUMBER;
  payload.issue.pull_request = { url: `https://api.github.com${REPO_PATH}/pulls/${PR_NUMBER}`, html_url: `https://github.com/${OWNER}/Hello-World/pull/${PR_NUMBER}` };
  payload.comment.id = 7001;
  payload.comment.body = s.body ?? "/agent-gate override payments outage, hotfix approved on the incident call";
  payload.comment.user.login = s.by ?? "oncall-olga";
  payload.comment.user.type = s.type ?? "User";
  payload.comment.created_at = s.createdAt ?? minutesFromNow(1);
  payload.sender.login = payload.comment.user.login;
  return { name: "issue_comment", payload };
}

/** The App decides PR 2 (a migration: it waits for the db team) before the comment. */
async function decideWaiting(app: TestApp, pull = agentPullRequest(MIGRATION)): Promise<void> {
  const check = nockEvaluation(pull, { codeownersErrors: [], files: MIGRATION, policy: POLICY });
  nockAddLabels([]);
  nockRequestReviewers();
  await app.probot.receive({ id: `pr-${pull.payload.pull_request.head.sha}`, ...pull });
  expect(check.body.conclusion).toBe("action_required");
  requests.reset();
}

/** The reads of an override: the PR and the base branch's policy. */
function nockOverrideReads(pull = agentPullRequest(MIGRATION).payload.pull_request): void {
  nockGetPull(pull);
  nockPolicyFile(POLICY, { ref: BASE_SHA });
}

function nockCheck(): { body: any } {
  const captured: { body: any } = { body: undefined };
  api()
    .post(`${REPO_PATH}/check-runs`, (body: any) => {
      captured.body = body;
      return true;
    })
    .reply(201, { id: 501, html_url: "https://github.com/Codertocat/Hello-World/runs/501" });
  return captured;
}

function nockReply(): { body: any } {
  const captured: { body: any } = { body: undefined };
  api()
    .post(`${REPO_PATH}/issues/${PR_NUMBER}/comments`, (body: any) => {
      captured.body = body;
      return true;
    })
    .reply(201, { id: 9001 });
  return captured;
}

describe("/agent-gate override", () => {
  it("a member of override.users makes the check success titled 'Overridden by @user', with the reason and what it overrode (3 requests)", async () => {
    const app = await createApp();
    await decideWaiting(app);
    nockOverrideReads();
    const check = nockCheck();
    await app.probot.receive({ id: "c-olga", ...commentEvent() });

    expect(check.body).toMatchObject({ name: "Agent Gate: approval (master)", head_sha: HEAD_SHA, conclusion: "success", output: { title: "Overridden by @oncall-olga" } });
    expect(check.body.output.summary).toMatch(/payments outage, hotfix approved on the incident call/);
    expect(check.body.output.summary).toMatch(/The decision it overrode:\*\* action_required: /);
    const applied = (await app.store.audit("override_applied")).at(-1);
    expect(applied).toMatchObject({ deliveryId: "c-olga", payload: { headSha: HEAD_SHA, via: "override.users", by: "oncall-olga", reason: "payments outage, hotfix approved on the incident call", comment: { id: 7001 }, overrode: { conclusion: "action_required" } } });
    // the PR, the policy at the base commit, the check run: no team read (listed by login), no reply
    expect(requests.total).toBe(3);
  });

  it("invariant 4: a member of an override team is recognised by GitHub's membership list, read by the App", async () => {
    const app = await createApp();
    await decideWaiting(app);
    nockOverrideReads();
    nockTeamMembers("sre", ["sam-sre"]);
    const check = nockCheck();
    await app.probot.receive({ id: "c-team", ...commentEvent({ by: "sam-sre" }) });
    expect(check.body.output.title).toBe("Overridden by @sam-sre");
    expect((await app.store.audit("override_applied")).at(-1)).toMatchObject({ deliveryId: "c-team", payload: { via: `@${OWNER}/sre`, by: "sam-sre" } });
  });

  it("invariant 4: anyone else's command is refused with a reply saying why; the check is not touched", async () => {
    const app = await createApp();
    await decideWaiting(app);
    nockOverrideReads();
    nockTeamMembers("sre", ["sam-sre"]);
    const reply = nockReply();
    await app.probot.receive({ id: "c-mallory", ...commentEvent({ by: "mallory" }) });
    expect(reply.body.body).toMatch(/^`@mallory`: override refused: only the policy's override group may override/);
    expect((await app.store.audit("override_refused")).at(-1)).toMatchObject({ deliveryId: "c-mallory", payload: { why: expect.stringMatching(/override group/), by: "mallory" } });
    expect(await app.store.audit("override_applied")).toEqual([]);
    expect((await app.store.decisions()).at(-1)?.conclusion).toBe("action_required");
  });

  it("invariant 4: the pull request's author cannot override it, even when listed (an agent committing as a user)", async () => {
    const app = await createApp();
    const pull = agentPullRequest(MIGRATION, { author: "agent-gate-runner", authorType: "User" });
    await decideWaiting(app, pull);
    nockOverrideReads(pull.payload.pull_request);
    const reply = nockReply();
    await app.probot.receive({ id: "c-author", ...commentEvent({ by: "agent-gate-runner" }) });
    expect(reply.body.body).toMatch(/the pull request's author cannot override its check/);
  });

  it("invariant 4: the human who triggered the agent cannot override its pull request", async () => {
    const app = await createApp();
    const pull = agentPullRequest(MIGRATION, { body: "Agent run.\n<!-- agent-gate: triggered-by=@oncall-olga -->" });
    await decideWaiting(app, pull);
    nockOverrideReads(pull.payload.pull_request);
    const reply = nockReply();
    await app.probot.receive({ id: "c-trigger", ...commentEvent() });
    expect(reply.body.body).toMatch(/the human who triggered this agent run cannot override its check/);
  });

  it("a bot's command and an empty reason are refused with a reply, before any read", async () => {
    const app = await createApp();
    await decideWaiting(app);
    const bot = nockReply();
    await app.probot.receive({ id: "c-bot", ...commentEvent({ by: "helper[bot]", type: "Bot" }) });
    expect(bot.body.body).toMatch(/a bot cannot override the approval check/);
    const empty = nockReply();
    await app.probot.receive({ id: "c-empty", ...commentEvent({ body: "/agent-gate override   " }) });
    expect(empty.body.body).toMatch(/an override needs a reason/);
    expect(requests.total).toBe(2);
  });

  it("an edited comment never overrides (an old comment cannot become an override), and other comments cost nothing", async () => {
    const app = await createApp();
    await app.probot.receive({ id: "c-edited", ...commentEvent({ action: "edited" }) });
    await app.probot.receive({ id: "c-chatter", ...commentEvent({ body: "LGTM, but /agent-gate override would be wrong here" }) });
    expect(requests.total).toBe(0);
  });

  it("invariant 3: a comment written before the current head was decided does not override it (a push raced the comment)", async () => {
    const app = await createApp();
    await decideWaiting(app);
    nockOverrideReads();
    const reply = nockReply();
    await app.probot.receive({ id: "c-old", ...commentEvent({ createdAt: minutesFromNow(-60) }) });
    expect(reply.body.body).toMatch(/the pull request changed after your comment/);
  });

  it("invariant 3: the head moved and is not decided yet: refused", async () => {
    const app = await createApp();
    await decideWaiting(app);
    const moved = agentPullRequest(MIGRATION, { headSha: NEW_HEAD_SHA }).payload.pull_request;
    nockOverrideReads(moved);
    const reply = nockReply();
    await app.probot.receive({ id: "c-moved", ...commentEvent() });
    expect(reply.body.body).toMatch(/the pull request moved on \(head 1111111\)/);
  });

  it("the override holds through a re-evaluation of the same head, and the next push ends it", async () => {
    const app = await createApp();
    await decideWaiting(app);
    nockOverrideReads();
    nockCheck();
    await app.probot.receive({ id: "c-ok", ...commentEvent() });

    // A comment-only review does not re-evaluate; a dismissal does: same head, the override holds.
    const review = reviewEvent({ reviewer: "someone", state: "dismissed", reviewAction: "dismissed", labels: ["agent-risk:high"] });
    // Same head and base: the files are remembered and the branch rules cached; policy, CODEOWNERS, reviews, GitHub's
    // CODEOWNERS validation (read whenever a requirement has code owners), check.
    nockPolicyFile(POLICY);
    nockCodeowners(CODEOWNERS);
    nockReviews([]);
    nockCodeownersErrors(BASE_SHA, []);
    const again = nockCheck();
    await app.probot.receive({ id: "r-dismissed", ...review });
    expect(again.body).toMatchObject({ head_sha: HEAD_SHA, conclusion: "success", output: { title: "Overridden by @oncall-olga" } });
    expect(again.body.output.summary).toMatch(/Overridden by @oncall-olga \(break-glass; ends with the next push\)/);

    // A push: normal evaluation of the new head.
    const push = agentPullRequest(MIGRATION, { action: "synchronize", headSha: NEW_HEAD_SHA, labels: ["agent-risk:high"] });
    const after = nockEvaluation(push, { codeownersErrors: [], files: MIGRATION, policy: POLICY, rulesetRequires: null });
    await app.probot.receive({ id: "p-push", ...push });
    expect(after.body).toMatchObject({ head_sha: NEW_HEAD_SHA, conclusion: "action_required" });
    expect(after.body.output.title).not.toMatch(/Overridden/);
  });

  it("an overridden PR counts as approved in a merge group (the override is its current decision)", async () => {
    const app = await createApp();
    await decideWaiting(app);
    nockOverrideReads();
    nockCheck();
    await app.probot.receive({ id: "c-mq", ...commentEvent() });
    const group = fixture("merge_group.checks_requested");
    group.repository = commentEvent().payload.repository;
    group.installation = { id: 1 };
    group.merge_group.base_ref = "refs/heads/master";
    api()
      .post("/graphql")
      .reply(200, { data: { repository: { mergeQueue: { entries: { nodes: [{ position: 1, headCommit: { oid: group.merge_group.head_sha }, pullRequest: { number: PR_NUMBER, headRefOid: HEAD_SHA, baseRefName: "master" } }] } } } } });
    const check = nockCheck();
    await app.probot.receive({ id: "mg-overridden", name: "merge_group", payload: group } as any);
    expect(check.body).toMatchObject({ head_sha: group.merge_group.head_sha, conclusion: "success" });
  });

  it("routing: only issue_comment.created on a pull request, with the command, becomes work (its own key, never folded into an evaluation)", () => {
    const on = (event: { name: string; payload: any }) => routeEvent({ id: "d", ...event }, { appId: null });
    expect(on(commentEvent())).toMatchObject({ works: [{ key: "override:1:codertocat/hello-world#2:7001", work: { kind: "override" } }] });
    expect(on(commentEvent({ action: "edited" }))).toEqual({ skip: "issue_comment.edited: only a new comment can carry an override" });
    const onIssue = commentEvent();
    delete onIssue.payload.issue.pull_request;
    expect(on(onIssue)).toEqual({ skip: "issue_comment.created: not on a pull request" });
  });
});

/** `agent-gate audit export --format csv` against a database, as the CLI runs it. */
async function cliExport(databaseUrl: string): Promise<string> {
  let out = "";
  const io = {
    stdout: new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    }),
    stderr: { write: () => true },
    setExitCode: () => undefined,
  };
  const program = new Command("agent-gate").exitOverride();
  registerAuditCommands(program, io);
  await program.parseAsync(["audit", "export", "--database-url", databaseUrl, "--format", "csv", "--repo", "Codertocat/Hello-World"], { from: "user" });
  return out;
}

describe.each(TEST_DRIVERS)("overrides on the database (%s)", (driver) => {
  const ctx = useTestStore(driver);

  it("invariant 8: the override is an evaluation marked overridden and an audit entry with the reason and the decision it overrode", async () => {
    // Decisions at the database's own clock: the comment is written after them.
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await decideWaiting(app);
    nockOverrideReads();
    const check = nockCheck();
    await app.probot.receive({ id: "c-db", ...commentEvent({ createdAt: new Date(Date.now() + 60_000).toISOString() }) });
    expect(check.body.conclusion).toBe("success");

    const rows = await ctx.store.db.select().from(evaluations).orderBy(evaluations.id);
    expect(rows.map((r) => [r.conclusion, r.overriddenBy])).toEqual([
      ["action_required", null],
      ["success", "oncall-olga"],
    ]);
    expect(rows[1]).toMatchObject({ decision: "Overridden by @oncall-olga", overrideReason: "payments outage, hotfix approved on the incident call", checkRunId: 501, headSha: HEAD_SHA });

    const entries = [];
    for await (const e of ctx.store.audit.export()) entries.push(e);
    const applied = entries.find((e) => e.kind === "override_applied");
    expect(JSON.parse(applied?.payload ?? "{}")).toMatchObject({
      by: "oncall-olga",
      via: "override.users",
      reason: "payments outage, hotfix approved on the incident call",
      headSha: HEAD_SHA,
      overrode: { evaluationId: rows[0]?.id, conclusion: "action_required" },
    });
    // Recorded before publishing (invariant 9): the check names the override's entry, and its publication follows.
    expect(check.body.output.summary).toContain(`${applied?.id}:${applied?.hash}`);
    const published = entries.filter((e) => e.kind === "check_published").map((e) => JSON.parse(e.payload)).at(-1);
    expect(published).toMatchObject({ evaluationId: rows[1]?.id, decidedIn: applied?.id, checkRunId: 501, conclusion: "success", title: "Overridden by @oncall-olga" });
    expect((await ctx.store.audit.verify()).ok).toBe(true);

    if (ctx.options.databaseUrl) {
      // `agent-gate audit export` (the CLI's own command) marks it: the override_applied row, reason and all.
      const csv = parse(await cliExport(ctx.options.databaseUrl), { columns: true }) as Array<Record<string, string>>;
      const row = csv.find((r) => r.kind === "override_applied");
      expect(row).toMatchObject({ repository: "Codertocat/Hello-World", pull_request: String(PR_NUMBER), delivery_id: "c-db" });
      expect(JSON.parse(row?.payload ?? "{}")).toMatchObject({ by: "oncall-olga", reason: "payments outage, hotfix approved on the incident call", overrode: { conclusion: "action_required" } });
    }
  });

  it("issue 14: a retried override (its check POST failed after the record committed) and redeliveries record one override, which the check names", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await decideWaiting(app);
    const comment = commentEvent({ createdAt: new Date(Date.now() + 60_000).toISOString() });
    nockOverrideReads();
    api().post(`${REPO_PATH}/check-runs`).reply(500, { message: "Server Error" });
    await expect(app.probot.receive({ id: "c-retried", ...comment })).rejects.toThrow(/500/);

    // The job runs again (the same delivery, taken again since it failed): judged again, published this time.
    nockOverrideReads();
    const check = nockCheck();
    await app.probot.receive({ id: "c-retried", ...comment });
    expect(check.body).toMatchObject({ conclusion: "success", output: { title: "Overridden by @oncall-olga" } });
    // What it overrode is the waiting decision, not the override the first attempt recorded.
    expect(check.body.output.summary).toMatch(/The decision it overrode:\*\* action_required: /);

    // GitHub redelivers it (the same GUID), and the same comment arrives under another delivery id: no read, no write.
    requests.reset();
    await app.probot.receive({ id: "c-retried", ...comment });
    await app.probot.receive({ id: "c-replayed", ...comment });
    expect(requests.total).toBe(0);

    const rows = await ctx.store.db.select().from(evaluations).orderBy(evaluations.id);
    expect(rows.map((r) => [r.conclusion, r.overriddenBy, r.checkRunId])).toEqual([
      ["action_required", null, expect.any(Number)],
      ["success", "oncall-olga", 501],
    ]);
    const entries = [];
    for await (const e of ctx.store.audit.export()) entries.push(e);
    const applied = entries.filter((e) => e.kind === "override_applied");
    expect(applied).toHaveLength(1);
    expect(check.body.output.summary).toContain(`${applied[0]?.id}:${applied[0]?.hash}`);
    const published = entries.filter((e) => e.kind === "check_published").map((e) => JSON.parse(e.payload));
    expect(published.filter((p) => p.decidedIn === applied[0]?.id)).toEqual([expect.objectContaining({ checkRunId: 501, evaluationId: rows[1]?.id })]);
    expect((await ctx.store.audit.verify()).ok).toBe(true);
  });

  it("issue 14: another comment is another override, on the record too (one record per comment, not per head)", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    await decideWaiting(app);
    const createdAt = new Date(Date.now() + 60_000).toISOString();
    nockOverrideReads();
    nockCheck();
    await app.probot.receive({ id: "c-first", ...commentEvent({ createdAt }) });
    const second = commentEvent({ by: "sam-sre", createdAt, body: "/agent-gate override confirming olga's call" });
    second.payload.comment.id = 7002;
    nockOverrideReads();
    nockTeamMembers("sre", ["sam-sre"]);
    const check = nockCheck();
    await app.probot.receive({ id: "c-second", ...second });
    expect(check.body.output.title).toBe("Overridden by @sam-sre");
    const applied = [];
    for await (const e of ctx.store.audit.export({ kind: "override_applied" })) applied.push(JSON.parse(e.payload));
    expect(applied.map((p) => [p.comment.id, p.by])).toEqual([
      [7001, "oncall-olga"],
      [7002, "sam-sre"],
    ]);
  });

  it("a refused override is on the record too", async () => {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store) });
    nockReply();
    await app.probot.receive({ id: "c-db-bot", ...commentEvent({ by: "helper[bot]", type: "Bot" }) });
    const entries = [];
    for await (const e of ctx.store.audit.export()) entries.push(e);
    expect(entries.filter((e) => e.kind === "override_refused").map((e) => JSON.parse(e.payload).why)).toEqual(["a bot cannot override the approval check"]);
  });
});
