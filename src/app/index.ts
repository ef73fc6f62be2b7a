/**
 * Probot wiring. Each handler filters the event, says in the log why it skips one, and hands the rest to a
 * service; no decision is made here.
 */
import type { ApplicationFunction, ApplicationFunctionOptions, Context, Probot } from "probot";
import type { ConditionalCache } from "../github/cache.js";
import { LruConditionalCache } from "../github/cache.js";
import type { Octokit } from "../github/octokit-github.js";
import { OctokitGitHub, toPullRequestInfo } from "../github/octokit-github.js";
import type { RepoRef } from "../github/port.js";
import { evaluatePullRequest } from "../services/evaluate-pull-request.js";
import { MemoryGateStore, TtlEnforcementCache } from "../services/memory-store.js";
import { CHECK_NAME_PREFIX } from "../services/render.js";
import { evaluateCommit } from "../services/rerun.js";
import { ingestTelemetry } from "../services/ingest-telemetry.js";
import type { TelemetryLimits, TelemetryTarget } from "../services/ingest-telemetry.js";
import { MemoryTelemetryStore } from "../services/telemetry-memory-store.js";
import type { TelemetryStore } from "../services/telemetry-types.js";
import { OctokitTelemetryGitHub } from "../github/artifacts.js";
import type { EnforcementCache, GateStore, Log, ServiceDeps } from "../services/types.js";
import { healthHandler } from "./health.js";
import type { HealthProbe } from "./health.js";

export interface AgentGateOptions {
  /** This App's id (default: APP_ID). Used to tell whether a branch requires our check from us. */
  appId?: number | undefined;
  /** Where ETags and bodies of conditional requests live (default: an in-memory LRU). */
  cache?: ConditionalCache | undefined;
  /** Dedup, locks, review-request memory, audit records (default: in memory; `npm start` passes the database's). */
  store?: GateStore | undefined;
  enforcement?: EnforcementCache | undefined;
  clock?: (() => Date) | undefined;
  /** Extra health probes for `GET /healthz` (e.g. the database). */
  health?: HealthProbe[] | undefined;
  /** Telemetry outcomes and their audit entries (default: in memory; `DatabaseTelemetryStore` with a database). */
  telemetry?: TelemetryStore | undefined;
  /** Download and unzip limits of telemetry artifacts (default: DEFAULT_TELEMETRY_LIMITS). */
  telemetryLimits?: Partial<TelemetryLimits> | undefined;
}

/** The default agent label is recognised without reading the policy; our own risk labels never re-trigger. */
const RISK_LABEL_PREFIX = "agent-risk:";

export function createAgentGate(options: AgentGateOptions = {}): ApplicationFunction {
  return (app: Probot, appOptions?: ApplicationFunctionOptions) => {
    const envAppId = Number(process.env.APP_ID);
    const appId = options.appId ?? (Number.isInteger(envAppId) && envAppId > 0 ? envAppId : null);
    const cache = options.cache ?? new LruConditionalCache();
    const store = options.store ?? new MemoryGateStore();
    const enforcement = options.enforcement ?? new TtlEnforcementCache();
    const clock = options.clock ?? (() => new Date());
    const telemetry = options.telemetry ?? new MemoryTelemetryStore();

    if (appOptions && typeof appOptions.addHandler === "function") {
      try {
        appOptions.addHandler(healthHandler(options.health ?? []));
      } catch {
        // Loaded without a server (tests, probot.load): there is no HTTP surface to add to.
      }
    }

    const deps = (context: Context): ServiceDeps => {
      const installationId = installationOf(context);
      return {
        github: new OctokitGitHub(context.octokit as Octokit, { installationId, cache }),
        log: context.log as Log,
        store,
        clock,
        appId,
        enforcement,
        telemetry,
      };
    };

    app.on(["pull_request.opened", "pull_request.reopened", "pull_request.synchronize", "pull_request.ready_for_review"], async (context) => {
      await evaluatePullRequest(deps(context), pullTarget(context, context.payload.pull_request));
    });

    app.on("pull_request.edited", async (context) => {
      if (!context.payload.changes.base) {
        context.log.debug({ deliveryId: context.id }, "skipped pull_request.edited: the base branch did not change");
        return;
      }
      await evaluatePullRequest(deps(context), pullTarget(context, context.payload.pull_request));
    });

    app.on(["pull_request.labeled", "pull_request.unlabeled"], async (context) => {
      const label = context.payload.label?.name;
      if (!label || label.toLowerCase().startsWith(RISK_LABEL_PREFIX)) {
        context.log.debug({ deliveryId: context.id, label }, `skipped ${context.name}.${context.payload.action}: not the agent label`);
        return;
      }
      // Whether the label marks agent PRs is the policy's call; the service reads it and skips otherwise.
      await evaluatePullRequest(deps(context), { ...pullTarget(context, context.payload.pull_request), onlyIfAgentLabel: label });
    });

    app.on(["pull_request_review.submitted", "pull_request_review.edited", "pull_request_review.dismissed"], async (context) => {
      const state = String(context.payload.review.state).toLowerCase();
      if (context.payload.action !== "dismissed" && state === "commented") {
        // A comment never changes an approval or a "changes requested" (GitHub keeps the latest state-setting review).
        context.log.debug({ deliveryId: context.id }, `skipped pull_request_review.${context.payload.action}: a comment changes no approval`);
        return;
      }
      await evaluatePullRequest(deps(context), pullTarget(context, context.payload.pull_request));
    });

    app.on("check_run.rerequested", async (context) => {
      const run = context.payload.check_run;
      if (!run.name.startsWith(CHECK_NAME_PREFIX)) {
        context.log.debug({ deliveryId: context.id, check: run.name }, "skipped check_run.rerequested: not our approval check");
        return;
      }
      await evaluateCommit(deps(context), {
        repo: repoOf(context),
        installationId: installationOf(context),
        headSha: run.head_sha,
        pullNumbers: (run.pull_requests ?? []).map((p) => p.number),
        deliveryId: context.id,
        event: "check_run.rerequested",
      });
    });

    app.on("check_suite.rerequested", async (context) => {
      const suite = context.payload.check_suite;
      if (appId !== null && suite.app?.id !== undefined && suite.app.id !== appId) {
        context.log.debug({ deliveryId: context.id }, "skipped check_suite.rerequested: not our suite");
        return;
      }
      await evaluateCommit(deps(context), {
        repo: repoOf(context),
        installationId: installationOf(context),
        headSha: suite.head_sha,
        pullNumbers: (suite.pull_requests ?? []).map((p) => p.number),
        deliveryId: context.id,
        event: "check_suite.rerequested",
      });
    });

    app.on("workflow_run", async (context) => {
      if (context.payload.action !== "completed") {
        context.log.debug({ deliveryId: context.id }, `skipped workflow_run.${context.payload.action}: telemetry is read when the run has completed`);
        return;
      }
      // Which workflows count, and whether this run's telemetry is accepted, is the service's call (invariant 7).
      await ingestTelemetry(
        { ...deps(context), artifacts: new OctokitTelemetryGitHub(context.octokit as Octokit), telemetry, limits: options.telemetryLimits },
        workflowRunTarget(context),
      );
    });
  };
}

/** The workflow_run payload as plain facts; a missing field becomes a value provenance will reject. */
function workflowRunTarget(context: Context<"workflow_run">): TelemetryTarget {
  const payload = context.payload;
  const run = payload.workflow_run;
  const headRepo = (run as { head_repository?: { full_name?: string } | null }).head_repository?.full_name;
  return {
    repo: repoOf(context),
    installationId: installationOf(context),
    defaultBranch: payload.repository.default_branch,
    run: {
      id: run.id,
      path: run.path ?? "",
      headSha: run.head_sha,
      headBranch: run.head_branch ?? "",
      repositoryFullName: run.repository?.full_name ?? "",
      headRepositoryFullName: typeof headRepo === "string" ? headRepo : undefined,
      pullRequests: (run.pull_requests ?? []).flatMap((p) => (p && typeof p.number === "number" ? [{ number: p.number, headSha: p.head?.sha ?? "" }] : [])),
      conclusion: run.conclusion ?? null,
    },
    deliveryId: context.id,
    event: "workflow_run.completed",
  };
}

function installationOf(context: Context): number | undefined {
  const payload = context.payload as { installation?: { id?: number } };
  return payload.installation?.id;
}

function repoOf(context: Context): RepoRef {
  const { owner, repo } = context.repo();
  return { owner, repo };
}

function pullTarget(context: Context, pullRequest: unknown) {
  const pull = toPullRequestInfo(pullRequest);
  return {
    repo: repoOf(context),
    installationId: installationOf(context),
    number: pull.number,
    pull,
    deliveryId: context.id,
    event: `${context.name}.${(context.payload as { action?: string }).action ?? ""}`,
  };
}

/** Probot's app function: `export default (app: Probot, options) => { … }`. */
const agentGate: ApplicationFunction = (app, options) => createAgentGate()(app, options);
export default agentGate;
