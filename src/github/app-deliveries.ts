/**
 * What the reconciliation pass asks GitHub as the App itself (a JWT, not an installation token: these requests
 * count against the App's own limit, never an installation's): its webhook deliveries, a redelivery, and which
 * installation a repository belongs to.
 *
 * - `GET /app/hook/deliveries` lists newest first, at most 100 a page; the next page is named by a `cursor`
 *   query parameter in the `Link` header (not `page`).
 * - `POST /app/hook/deliveries/{id}/attempts` asks GitHub to send that delivery again, with the same
 *   `X-GitHub-Delivery` (GUID); GitHub answers 202 and delivers asynchronously.
 */
import type { Octokit } from "./octokit-github.js";
import { toGitHubApiError } from "./errors.js";

/** One entry of GitHub's delivery log (the `hook-delivery-item` schema), as the pass needs it. */
export interface HookDelivery {
  /** The delivery's id in GitHub's log (increasing); a redelivery gets a new id. */
  id: number;
  /** X-GitHub-Delivery: shared by a delivery and its redeliveries. */
  guid: string;
  deliveredAt: Date;
  redelivery: boolean;
  /** The HTTP status our endpoint answered; 0 when GitHub could not connect or timed out. */
  statusCode: number;
  status: string;
  event: string;
  action: string | null;
  installationId: number | null;
}

export interface DeliveryPage {
  deliveries: HookDelivery[];
  /** The cursor of the next (older) page, or null on the last page. */
  next: string | null;
}

export interface AppDeliveries {
  /** One page of the App's deliveries, newest first, from `cursor` (the newest page without one). */
  list(cursor: string | null, perPage: number): Promise<DeliveryPage>;
  /** Asks GitHub to deliver this delivery again. */
  redeliver(id: number): Promise<void>;
  /** The installation of the App on this repository, or null when the App is not installed there. */
  installationOf(owner: string, repo: string): Promise<number | null>;
}

/** The `cursor` of the `rel="next"` link of a `Link` header, or null. */
export function nextCursor(link: string | undefined): string | null {
  if (!link) return null;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (!match) continue;
    try {
      return new URL(match[1]!).searchParams.get("cursor");
    } catch {
      return null;
    }
  }
  return null;
}

type Item = Record<string, unknown>;

function toDelivery(item: Item): HookDelivery {
  const installation = item.installation_id;
  return {
    id: Number(item.id),
    guid: String(item.guid),
    deliveredAt: new Date(String(item.delivered_at)),
    redelivery: item.redelivery === true,
    statusCode: typeof item.status_code === "number" ? item.status_code : 0,
    status: typeof item.status === "string" ? item.status : "",
    event: String(item.event),
    action: typeof item.action === "string" ? item.action : null,
    installationId: typeof installation === "number" ? installation : null,
  };
}

/** `octokit` must be authenticated as the App (Probot's `app.auth()` without an installation id). */
export function octokitAppDeliveries(octokit: Octokit): AppDeliveries {
  return {
    async list(cursor, perPage) {
      try {
        const response = await octokit.request("GET /app/hook/deliveries", { per_page: perPage, ...(cursor ? { cursor } : {}) });
        return { deliveries: (response.data as unknown as Item[]).map(toDelivery), next: nextCursor(response.headers.link) };
      } catch (error) {
        throw toGitHubApiError(error, "GET /app/hook/deliveries");
      }
    },
    async redeliver(id) {
      try {
        await octokit.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: id });
      } catch (error) {
        throw toGitHubApiError(error, `POST /app/hook/deliveries/${id}/attempts`);
      }
    },
    async installationOf(owner, repo) {
      try {
        const response = await octokit.request("GET /repos/{owner}/{repo}/installation", { owner, repo });
        return response.data.id;
      } catch (error) {
        const status = (error as { status?: unknown }).status;
        if (status === 404) return null;
        throw toGitHubApiError(error, `GET /repos/${owner}/${repo}/installation`);
      }
    },
  };
}
