/**
 * The webhook edge: verify, record, enqueue, answer. Nothing here talks to GitHub.
 *
 * 1. A body over GitHub's 25 MB is refused from its Content-Length, or as soon as it streams past the cap,
 *    before it is buffered (20 concurrent 30 MB bodies used to add 2 GB of RSS).
 * 2. The signature (`X-Hub-Signature-256`) is verified over the raw body.
 * 3. `routeEvent` decides from the payload alone which work it asks for (or why none: logged, answered 200).
 * 4. One short transaction records the delivery and offers its work (see `acceptDelivery`); answered 202.
 *    Only a failure of that transaction answers 5xx, so GitHub lists exactly the deliveries we did not take,
 *    and they can be redelivered (by hand, or by the reconciliation pass).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isGitHubApiError } from "../github/errors.js";
import type { Store } from "../store/index.js";
import type { JobQueue } from "../store/job-queue.js";
import type { Log } from "../services/types.js";
import { foldWork, routeEvent } from "./routes.js";
import type { KeyedWork, WebhookEvent } from "./routes.js";

/** GitHub caps webhook payloads at 25 MB and does not send larger ones. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export interface EdgeOptions {
  path: string;
  verify(body: string, signature: string): Promise<boolean>;
  store: Store;
  queue: JobQueue;
  appId: number | null;
  /** This App's bot login: its own label events are skipped (see RouteOptions). */
  botLogin?: string | null | undefined;
  log: Log;
  maxBytes?: number | undefined;
}

export type Accepted = { status: "accepted"; created: number; folded: number } | { status: "duplicate" };

class BodyTooLarge extends Error {}

/** Reads the body up to `max` bytes; rejects with BodyTooLarge as soon as it passes the cap. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new BodyTooLarge());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("the client aborted the request")));
  });
}

function answer(res: ServerResponse, status: number, message: string, close = false): true {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...(close ? { connection: "close" } : {}) });
  res.end(JSON.stringify({ message }));
  return true;
}

/**
 * Records the delivery and offers each of its works, in one transaction: a work new to its key gets a job; one
 * whose key is already pending folds into it. A delivery already recorded (a redelivery) changes nothing, unless
 * its earlier attempt failed.
 */
export async function acceptDelivery(store: Store, queue: JobQueue, event: WebhookEvent, works: KeyedWork[]): Promise<Accepted> {
  const action = (event.payload as { action?: unknown }).action;
  const installationId = works[0]?.installationId ?? null;
  const offers = works.map((w) => ({ key: w.key, kind: w.work.kind, installationId: w.installationId, work: w.work, delivery: { guid: event.id, event: `${event.name}.${String(action ?? "")}` } }));
  const fold = (older: unknown, newer: unknown) => foldWork(older as KeyedWork["work"], newer as KeyedWork["work"]);
  const delivery = { guid: event.id, installationId, event: event.name, action: typeof action === "string" ? action : null };
  const [first, ...rest] = offers;
  return store.transaction(async (tx) => {
    // routeEvent answers a route with at least one work, or a skip: a delivery with nothing to do is never recorded.
    if (!first) throw new TypeError("acceptDelivery needs at least one work");
    // The common case (one work, new to its key) is one statement here: the delivery and its work together.
    const begun = await tx.deliveries.beginAndOffer(delivery, first);
    if (begun.outcome === "duplicate") return { status: "duplicate" };
    const createdKeys = begun.outcome === "created" ? [first.key] : [];
    // "pending": its key had work waiting (read and locked above, unless its job settled it just now, when the
    // offer makes a new row after all); this one folds into it.
    if (begun.outcome === "pending" && (await tx.pendingWork.offer(first, fold, begun.locked)) === "created") createdKeys.push(first.key);
    for (const offer of rest) if ((await tx.pendingWork.offer(offer, fold)) === "created") createdKeys.push(offer.key);
    for (const key of createdKeys) await queue.enqueue(tx.sql, key);
    return { status: "accepted", created: createdKeys.length, folded: works.length - createdKeys.length };
  });
}

/** A Probot server handler (`addHandler`) for the webhook path. */
export function webhookEdge(options: EdgeOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const max = options.maxBytes ?? MAX_WEBHOOK_BYTES;
  const log = options.log;
  return async (req, res) => {
    const pathname = (req.url ?? "").split("?")[0];
    if (pathname !== options.path) return false;
    if (req.method !== "POST") return answer(res, 405, "webhooks are POSTed");
    const id = req.headers["x-github-delivery"];
    const name = req.headers["x-github-event"];
    const signature = req.headers["x-hub-signature-256"];
    if (typeof id !== "string" || typeof name !== "string" || typeof signature !== "string") {
      log.warn({ deliveryId: id, event: name }, "webhook refused: X-GitHub-Delivery, X-GitHub-Event or X-Hub-Signature-256 missing");
      return answer(res, 400, "missing X-GitHub-Delivery, X-GitHub-Event or X-Hub-Signature-256", true);
    }
    if (Number(req.headers["content-length"] ?? 0) > max) {
      log.warn({ deliveryId: id, event: name, contentLength: req.headers["content-length"] }, "webhook refused: larger than GitHub's 25 MB");
      answer(res, 413, "payload larger than 25 MB", true);
      req.destroy();
      return true;
    }
    let body: string;
    try {
      body = await readBody(req, max);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) {
        log.warn({ deliveryId: id, err: error }, "webhook body could not be read");
        req.destroy();
        return true;
      }
      log.warn({ deliveryId: id, event: name }, "webhook refused: its body passed GitHub's 25 MB");
      answer(res, 413, "payload larger than 25 MB", true);
      req.destroy();
      return true;
    }
    if (!(await options.verify(body, signature).catch(() => false))) {
      // An error, not a warning: either WEBHOOK_SECRET is misconfigured or someone forges deliveries.
      log.error({ deliveryId: id, event: name }, "webhook refused: signature does not match WEBHOOK_SECRET");
      return answer(res, 400, "signature does not match");
    }
    return handleVerified(options, res, { id, name, payload: parseJson(body) });
  };
}

const INVALID_JSON = Symbol("invalid JSON");

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

async function handleVerified(options: EdgeOptions, res: ServerResponse, event: WebhookEvent): Promise<true> {
  const log = options.log;
  if (typeof event.payload !== "object" || event.payload === null) {
    const what = event.payload === INVALID_JSON ? "Invalid JSON" : "the body is not a JSON object";
    log.error({ deliveryId: event.id, event: event.name }, `webhook refused: ${what}`);
    return answer(res, 400, what);
  }
  let works: KeyedWork[];
  try {
    const route = routeEvent(event, { appId: options.appId, botLogin: options.botLogin });
    if ("skip" in route) {
      log.debug({ deliveryId: event.id }, `skipped ${route.skip}`);
      return answer(res, 200, `nothing to do: ${route.skip}`);
    }
    works = route.works;
  } catch (error) {
    log.warn({ deliveryId: event.id, event: event.name, err: isGitHubApiError(error) ? error.toLog() : error }, "webhook refused: malformed payload");
    return answer(res, 400, `malformed payload: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const accepted = await acceptDelivery(options.store, options.queue, event, works);
    if (accepted.status === "duplicate") {
      log.info({ deliveryId: event.id, event: event.name }, "redelivery of a delivery already taken: nothing new to do");
      return answer(res, 202, "already accepted");
    }
    if (accepted.created > 0) options.queue.notify(accepted.created);
    log.debug({ deliveryId: event.id, event: event.name, created: accepted.created, folded: accepted.folded }, "accepted");
    return answer(res, 202, "accepted");
  } catch (error) {
    // The one case GitHub must see as failed: nothing was recorded, so nothing will do this work.
    log.error({ deliveryId: event.id, event: event.name, err: error }, "could not record the delivery: answered 503 (redeliver it)");
    return answer(res, 503, "could not record the delivery; redeliver it");
  }
}
