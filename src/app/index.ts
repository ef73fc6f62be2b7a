/**
 * Probot wiring. Each handler filters the event, says in the log why it skips one, and hands the rest to a
 * service; no decision is made here.
 */
import type { ApplicationFunction, ApplicationFunctionOptions, Probot } from "probot";
import type { ConditionalCache } from "../github/cache.js";
import { LruConditionalCache } from "../github/cache.js";
import type { Octokit } from "../github/octokit-github.js";
import type { CheckRunMemory, CheckRunPublishing } from "../github/check-runs.js";
import { OctokitGitHub } from "../github/octokit-github.js";
import { TtlEnforcementCache } from "../services/enforcement-cache.js";
import type { TelemetryDeps, TelemetryLimits } from "../services/ingest-telemetry.js";
import type { TelemetryStore } from "../services/telemetry-types.js";
import type { EnforcementCache, GateStore, Log } from "../services/types.js";
import type { Store } from "../store/index.js";
import type { JobQueue } from "../store/job-queue.js";
import { webhookEdge } from "./edge.js";
import { healthHandler } from "./health.js";
import type { HealthProbe } from "./health.js";
import { perform, runJob } from "./jobs.js";
import type { JobRunner } from "./jobs.js";
import { startReconciler } from "./reconcile.js";
import type { Reconciler } from "./reconcile.js";
import { routeEvent } from "./routes.js";

export interface AgentGateOptions {
  /** This App's id (default: APP_ID). Used to tell whether a branch requires our check from us. */
  appId?: number | undefined;
  /**
   * This App's bot login, `<slug>[bot]` (default: from APP_SLUG). Label events it sent are skipped at the edge, so
   * putting a hand-changed risk label back never reacts to itself. Without it, such an event costs one policy read
   * and writes nothing (the labels already match).
   */
  botLogin?: string | undefined;
  /**
   * Where the compliance pages are reached (an origin, e.g. `https://gate.example.com`): the approval check's details
   * link points at the PR's trail page there. `npm start` passes AGENT_GATE_PUBLIC_URL when it serves the pages.
   */
  publicUrl?: string | null | undefined;
  /** Where ETags and bodies of conditional requests live (default: an in-memory LRU). */
  cache?: ConditionalCache | undefined;
  /**
   * Dedup, locks, review-request memory, audit records: a `DatabaseGateStore` (`npm start` builds it on the App's
   * database, tests on an in-memory PGlite). There is no in-memory default: one implementation of the store.
   */
  store: GateStore;
  enforcement?: EnforcementCache | undefined;
  clock?: (() => Date) | undefined;
  /** Extra health probes for `GET /healthz` (e.g. the database). */
  health?: HealthProbe[] | undefined;
  /**
   * Telemetry outcomes and their audit entries: a `DatabaseTelemetryStore` on the same database as `store`, so an
   * accepted bundle has the audit entry its rationale check names (SEQ:HASH). No in-memory default, as for `store`.
   */
  telemetry: TelemetryStore;
  /** Download and unzip limits of telemetry artifacts (default: DEFAULT_TELEMETRY_LIMITS). */
  telemetryLimits?: Partial<TelemetryLimits> | undefined;
  /**
   * Durable processing (`npm start`): the webhook edge answers on `webhookPath` after recording the delivery and
   * enqueueing its work, and `concurrency` workers do the work as jobs. Without it, events are handled inside
   * Probot's handler (tests, `probot.receive`).
   */
  durable?: DurableOptions | undefined;
}

export interface DurableOptions {
  store: Store;
  queue: JobQueue;
  webhookPath: string;
  /** Jobs this process runs at once (default 16). */
  concurrency?: number | undefined;
  maxBodyBytes?: number | undefined;
  /**
   * The reconciliation pass (src/app/reconcile.ts): at start-up, then every `intervalSeconds`. `started` gets
   * its handle, so the server can stop it on shutdown. Absent: no pass.
   */
  reconcile?: { intervalSeconds: number; firstDelayMs?: number | undefined; started?: ((reconciler: Reconciler) => void) | undefined } | undefined;
}

const DEFAULT_CONCURRENCY = 16;

export function createAgentGate(options: AgentGateOptions): ApplicationFunction {
  return (app: Probot, appOptions?: ApplicationFunctionOptions) => {
    const envAppId = Number(process.env.APP_ID);
    const appId = options.appId ?? (Number.isInteger(envAppId) && envAppId > 0 ? envAppId : null);
    const botLogin = options.botLogin ?? (process.env.APP_SLUG ? `${process.env.APP_SLUG}[bot]` : null);
    const cache = options.cache ?? new LruConditionalCache();
    const store = options.store;
    const enforcement = options.enforcement ?? new TtlEnforcementCache();
    const clock = options.clock ?? (() => new Date());
    const telemetry = options.telemetry;

    if (appOptions && typeof appOptions.addHandler === "function") {
      try {
        appOptions.addHandler(healthHandler(options.health ?? []));
      } catch {
        // Loaded without a server (tests, probot.load): there is no HTTP surface to add to.
      }
    }

    const depsWith = (octokit: Octokit, installationId: number | undefined, log: Log, checkRuns?: CheckRunPublishing): TelemetryDeps => {
      // The one GitHub adapter serves the evaluation and telemetry's artifacts and rationale check alike.
      const github = new OctokitGitHub(octokit, { installationId, cache, checkRuns });
      return { github, log, store, clock, appId, enforcement, telemetry, artifacts: github, limits: options.telemetryLimits, publicUrl: options.publicUrl };
    };

    if (options.durable) {
      const durable = options.durable;
      const log = app.log as unknown as Log;
      appOptions?.addHandler(
        webhookEdge({ path: durable.webhookPath, verify: (body, signature) => app.webhooks.verify(body, signature), store: durable.store, queue: durable.queue, appId, botLogin, log, maxBytes: durable.maxBodyBytes }),
      );
      const runner: JobRunner = {
        store: durable.store,
        queue: durable.queue,
        log,
        depsFor: async (installationId, { replay }) => {
          if (installationId === null) throw new Error("work without an installation cannot act on GitHub");
          // One check run per head and name, remembered in the database; a replayed job looks on GitHub first.
          const memory: CheckRunMemory = {
            find: (repo, headSha, name) => durable.store.checkRuns.find(`${repo.owner}/${repo.repo}`, headSha, name),
            remember: (repo, headSha, name, id) => durable.store.checkRuns.remember(`${repo.owner}/${repo.repo}`, headSha, name, id),
          };
          return depsWith(await app.auth(installationId), installationId, log, { memory, appId, lookFirst: replay });
        },
      };
      if (durable.reconcile) {
        // As the App (a JWT), not an installation: the pass never spends an installation's rate limit.
        const reconciler = startReconciler({ store: durable.store, queue: durable.queue, log, github: async () => new OctokitGitHub(await app.auth()) }, durable.reconcile);
        durable.reconcile.started?.(reconciler);
      }
      return durable.queue.work(durable.concurrency ?? DEFAULT_CONCURRENCY, (job) => runJob(runner, job));
    }

    // In-process: the same routing and services, run inside Probot's handler (no durability; tests use it).
    app.on(["pull_request", "pull_request_review", "check_run", "check_suite", "workflow_run", "merge_group", "issue_comment"], async (context) => {
      const route = routeEvent({ id: context.id, name: context.name, payload: context.payload }, { appId, botLogin });
      if ("skip" in route) {
        context.log.debug({ deliveryId: context.id }, `skipped ${route.skip}`);
        return;
      }
      for (const { work } of route.works) {
        const installationId = (context.payload as { installation?: { id?: number } }).installation?.id;
        await perform(depsWith(context.octokit, installationId, context.log), work, { final: true });
      }
    });
  };
}
