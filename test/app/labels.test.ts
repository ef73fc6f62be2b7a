/**
 * Risk labels are the App's (issue 11): a hand-added or hand-removed `agent-risk:*` label is put back to the
 * recorded decision without a re-evaluation, and the App's own label events are skipped. Real
 * `pull_request.labeled` / `unlabeled` payloads (from @octokit/webhooks-examples) through probot.receive, GitHub
 * faked by nock, on the database (Postgres and PGlite).
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { foldWork, routeEvent } from "../../src/app/routes.js";
import type { Work } from "../../src/app/routes.js";
import { RISK_LABEL_COLORS } from "../../src/policy/render.js";
import { DatabaseGateStore } from "../../src/services/database-gate-store.js";
import type { GateStore } from "../../src/services/types.js";
import type { AuditEntry } from "../../src/store/index.js";
import { TEST_DRIVERS, openTestStore, type TestStoreContext } from "../helpers/db.js";
import { useTestStore } from "../helpers/use-test-store.js";
import { NEW_HEAD_SHA, OWNER, PR_NUMBER, REPO, nockAddLabels, nockPolicyFile, nockRemoveLabel, nockRequestReviewers, requests } from "../helpers/github.js";
import { POLICY_YML, agentPullRequest, createApp, nockEvaluation } from "./scenario.js";
import type { TestApp } from "./scenario.js";

const MIGRATION = [{ filename: "db/migrations/0042_add_accounts.sql", status: "added", patch: "@@ -0,0 +1 @@\n+CREATE TABLE accounts (id int);" }];
const BOT = "agent-gate-test[bot]";
const HIGH = "agent-risk:high";
const LABELS_PATH = `/repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/labels`;

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/** A real label event: `labels` is the PR's label set after the change, `label` the one that changed. */
function labelEvent(action: "labeled" | "unlabeled", label: string, labels: string[], options: { sender?: string; headSha?: string } = {}) {
  const event = agentPullRequest(MIGRATION, { action, labels, headSha: options.headSha });
  event.payload.label = { ...event.payload.label, name: label };
  event.payload.sender = { ...event.payload.sender, login: options.sender ?? "octo-human", type: options.sender?.endsWith("[bot]") ? "Bot" : "User" };
  return event;
}

/** The high-risk PR evaluated once, so a decision (agent-risk:high) is recorded. */
async function evaluatedHighRiskPr(app: TestApp): Promise<void> {
  const event = agentPullRequest(MIGRATION);
  nockEvaluation(event, { codeownersErrors: [], files: MIGRATION });
  nockAddLabels([], { addedColor: RISK_LABEL_COLORS.high });
  nockRequestReviewers();
  await app.probot.receive({ id: "d-opened", ...event });
  requests.reset();
}

const writes = () => requests.writes.map((w) => `${w.method} ${decodeURIComponent(w.path)}`);

type StoreCase = { name: string; open: () => Promise<{ store: GateStore; audit: () => Promise<AuditEntry[]>; close: () => Promise<void> }> };

const STORES: StoreCase[] = [
  ...TEST_DRIVERS.map((driver) => ({
    name: driver,
    open: async () => {
      const ctx: TestStoreContext = await openTestStore(driver);
      const audit = async () => {
        const out: AuditEntry[] = [];
        for await (const entry of ctx.store.audit.export()) out.push(entry);
        return out;
      };
      return { store: new DatabaseGateStore(ctx.store), audit, close: () => ctx.cleanup() };
    },
  })),
];

describe.each(STORES)("risk labels are the App's ($name store)", (storeCase) => {
  let opened: Awaited<ReturnType<StoreCase["open"]>>;
  beforeEach(async () => {
    opened = await storeCase.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it("risk labels are the App's: a hand-added agent-risk:low on a high-risk PR is removed again, from the recorded decision (policy read only, no re-evaluation)", async () => {
    const app = await createApp({ store: opened.store, botLogin: BOT });
    await evaluatedHighRiskPr(app);
    nockPolicyFile(POLICY_YML);
    nockRemoveLabel("agent-risk:low");
    await app.probot.receive({ id: "d-hand-low", ...labelEvent("labeled", "agent-risk:low", [HIGH, "agent-risk:low"]) });
    expect(writes()).toEqual([`DELETE ${LABELS_PATH}/agent-risk:low`]);
    // One read: the policy (for its label prefix). No files, reviews, check run.
    expect(requests.total).toBe(2);
    const restored = (await opened.audit()).filter((e) => e.kind === "label_set" && e.deliveryId === "d-hand-low");
    expect(restored.map((e) => JSON.parse(String(e.payload)) as unknown)).toEqual([expect.objectContaining({ added: [], removed: ["agent-risk:low"], restoredAfter: { event: "pull_request.labeled", sender: "octo-human" } })]);
  });

  it("risk labels are the App's: a hand-removed agent-risk:high is put back", async () => {
    const app = await createApp({ store: opened.store, botLogin: BOT });
    await evaluatedHighRiskPr(app);
    nockPolicyFile(POLICY_YML);
    const added = nockAddLabels([], { addedColor: RISK_LABEL_COLORS.high });
    await app.probot.receive({ id: "d-hand-unlabel", ...labelEvent("unlabeled", HIGH, []) });
    expect(added.captured.body).toEqual({ labels: [HIGH] });
    expect(writes()).toEqual([`POST ${LABELS_PATH}`]);
  });

  it("invariant 9 (idempotent): the App's own label events are skipped at the edge, so putting labels back never loops", async () => {
    const app = await createApp({ store: opened.store, botLogin: BOT });
    await evaluatedHighRiskPr(app);
    await app.probot.receive({ id: "d-own-1", ...labelEvent("labeled", HIGH, [HIGH], { sender: BOT }) });
    await app.probot.receive({ id: "d-own-2", ...labelEvent("unlabeled", "agent-risk:low", [HIGH], { sender: BOT }) });
    expect(requests.total).toBe(0);
    expect(app.lines.some((l) => l.msg === `skipped pull_request.labeled: our own risk label change (${BOT})`)).toBe(true);
  });

  it("invariant 9 (idempotent): without the bot's login, a label event that matches the decision writes nothing", async () => {
    const app = await createApp({ store: opened.store });
    await evaluatedHighRiskPr(app);
    nockPolicyFile(POLICY_YML);
    await app.probot.receive({ id: "d-own-unknown", ...labelEvent("labeled", HIGH, [HIGH], { sender: BOT }) });
    expect(writes()).toEqual([]);
    expect(requests.total).toBe(1);
  });

  it("risk labels are the App's: with no decision recorded for the PR, the label change is answered by a full evaluation", async () => {
    const app = await createApp({ store: opened.store, botLogin: BOT });
    const event = labelEvent("labeled", "agent-risk:low", ["agent-risk:low"]);
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION });
    const added = nockAddLabels(["agent-risk:low"], { addedColor: RISK_LABEL_COLORS.high });
    nockRemoveLabel("agent-risk:low");
    nockRequestReviewers();
    await app.probot.receive({ id: "d-no-decision", ...event });
    expect(check.body.conclusion).toBe("action_required");
    expect(added.captured.body).toEqual({ labels: [HIGH] });
  });

  it("risk labels are the App's: a decision for an older head is not reused; the new head is evaluated", async () => {
    const app = await createApp({ store: opened.store, botLogin: BOT });
    await evaluatedHighRiskPr(app);
    const event = labelEvent("labeled", "agent-risk:low", [HIGH, "agent-risk:low"], { headSha: NEW_HEAD_SHA });
    // The branch rules are cached, and the owners were asked on the first head: only the stray label changes.
    const check = nockEvaluation(event, { codeownersErrors: [], files: MIGRATION, rulesetRequires: null });
    nockRemoveLabel("agent-risk:low");
    await app.probot.receive({ id: "d-new-head", ...event });
    expect(check.body.head_sha).toBe(NEW_HEAD_SHA);
    expect(writes()).toEqual([`POST /repos/${OWNER}/${REPO}/check-runs`, `DELETE ${LABELS_PATH}/agent-risk:low`]);
  });
});

describe("routing a risk label event", () => {
  const route = (event: { name: string; payload: unknown }, botLogin?: string) => routeEvent({ id: "d", ...event }, { appId: 4242, botLogin });
  const works = (r: ReturnType<typeof route>): Work[] => ("works" in r ? r.works.map((w) => w.work) : []);

  it("a person's change asks for the labels to be put back; the bot's own change (any case) is skipped", () => {
    const human = works(route(labelEvent("unlabeled", HIGH, []), BOT));
    expect(human).toEqual([expect.objectContaining({ kind: "evaluate", target: expect.objectContaining({ restoreLabels: { label: HIGH, sender: "octo-human" } }) })]);
    expect(route(labelEvent("labeled", HIGH, [HIGH], { sender: BOT.toUpperCase() }), BOT)).toEqual({ skip: `pull_request.labeled: our own risk label change (${BOT.toUpperCase()})` });
  });

  it("folded with a pending evaluation, the evaluation wins: putting labels back never replaces an evaluation", () => {
    const restore = works(route(labelEvent("labeled", "agent-risk:low", [HIGH, "agent-risk:low"]), BOT))[0]!;
    const evaluate = works(route(agentPullRequest(MIGRATION, { action: "synchronize" })))[0]!;
    for (const [older, newer] of [[restore, evaluate], [evaluate, restore]] as const) {
      const folded = foldWork(older, newer);
      expect(folded.kind === "evaluate" && folded.target.restoreLabels).toBeUndefined();
    }
    const both = foldWork(restore, restore);
    expect(both.kind === "evaluate" && both.target.restoreLabels).toEqual({ label: "agent-risk:low", sender: "octo-human" });
  });
});

/** A policy with its own label prefix (`labels.prefix`): the edge cannot know it, the service reads it. */
const PREFIXED_POLICY = `${POLICY_YML}labels:\n  prefix: "gate-risk:"\n`;

describe.each(TEST_DRIVERS)("risk labels under the policy's own prefix (%s)", (driver) => {
  const ctx = useTestStore(driver);

  async function evaluatedUnderPrefix(): Promise<TestApp> {
    const app = await createApp({ store: new DatabaseGateStore(ctx.store), botLogin: BOT });
    const event = agentPullRequest(MIGRATION);
    nockEvaluation(event, { codeownersErrors: [], files: MIGRATION, policy: PREFIXED_POLICY });
    const added = nockAddLabels([], { addedColor: RISK_LABEL_COLORS.high });
    nockRequestReviewers();
    await app.probot.receive({ id: "d-opened", ...event });
    expect(added.captured.body).toEqual({ labels: ["gate-risk:high"] });
    requests.reset();
    return app;
  }

  it("issue 11: a hand-added gate-risk:low is removed and a hand-removed gate-risk:high put back, from the recorded decision (policy read only)", async () => {
    const app = await evaluatedUnderPrefix();
    nockPolicyFile(PREFIXED_POLICY);
    nockRemoveLabel("gate-risk:low");
    await app.probot.receive({ id: "d-hand-low", ...labelEvent("labeled", "gate-risk:low", ["gate-risk:high", "gate-risk:low"]) });
    expect(writes()).toEqual([`DELETE ${LABELS_PATH}/gate-risk:low`]);
    expect(requests.total).toBe(2);

    requests.reset();
    nockPolicyFile(PREFIXED_POLICY);
    const added = nockAddLabels([], { addedColor: RISK_LABEL_COLORS.high });
    await app.probot.receive({ id: "d-hand-unlabel", ...labelEvent("unlabeled", "gate-risk:high", []) });
    expect(added.captured.body).toEqual({ labels: ["gate-risk:high"] });
    expect(writes()).toEqual([`POST ${LABELS_PATH}`]);

    const entries = [];
    for await (const e of ctx.store.audit.export({ kind: "label_set" })) entries.push(JSON.parse(e.payload));
    expect(entries.filter((p) => p.restoredAfter)).toEqual([
      expect.objectContaining({ added: [], removed: ["gate-risk:low"], restoredAfter: { event: "pull_request.labeled", sender: "octo-human" } }),
      expect.objectContaining({ added: ["gate-risk:high"], removed: [], restoredAfter: { event: "pull_request.unlabeled", sender: "octo-human" } }),
    ]);
  });

  it("a label that only ends in a level (priority-high) without the policy's prefix is neither put back nor removed", async () => {
    const app = await evaluatedUnderPrefix();
    // The restore reads the policy and finds another prefix; the label change then goes on as an ordinary one
    // (not an agent label: skipped after its own policy read).
    nockPolicyFile(PREFIXED_POLICY);
    nockPolicyFile(PREFIXED_POLICY);
    await app.probot.receive({ id: "d-priority", ...labelEvent("labeled", "priority-high", ["gate-risk:high", "priority-high"]) });
    expect(writes()).toEqual([]);
    expect(app.lines.some((l) => /not an agent label/.test(String(l.msg)))).toBe(true);
  });
});

describe("routing a label that may be a risk label under another prefix", () => {
  const route = (event: { name: string; payload: unknown }) => routeEvent({ id: "d", ...event }, { appId: 4242, botLogin: BOT });
  const target = (r: ReturnType<typeof route>) => ("works" in r ? r.works.map((w) => (w.work.kind === "evaluate" ? w.work.target : null)) : r);

  it("ends in a level: put back if it carries the policy's prefix, else an ordinary label change; other labels are ordinary; the bot's own is skipped", () => {
    expect(target(route(labelEvent("labeled", "gate-risk:low", [])))).toEqual([
      expect.objectContaining({ onlyIfAgentLabel: "gate-risk:low", restoreLabels: { label: "gate-risk:low", sender: "octo-human", ifPolicyPrefix: true } }),
    ]);
    const ordinary = target(route(labelEvent("labeled", "needs-review", [])));
    expect(ordinary).toEqual([expect.objectContaining({ onlyIfAgentLabel: "needs-review" })]);
    expect(Array.isArray(ordinary) && ordinary[0]?.restoreLabels).toBeUndefined();
    expect(route(labelEvent("unlabeled", "gate-risk:high", [], { sender: BOT }))).toEqual({ skip: `pull_request.unlabeled: our own risk label change (${BOT})` });
  });
});
