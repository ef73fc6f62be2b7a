/**
 * The last step of GitHub's App manifest flow: the one-time code GitHub sends back to the setup page becomes the
 * new App's id, private key and webhook secret (POST /app-manifests/{code}/conversions, no authentication).
 * https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
 */
import { Octokit } from "@octokit/rest";
import { toGitHubApiError } from "./errors.js";

export interface RegisteredApp {
  id: number;
  slug: string;
  /** https://github.com/apps/<slug>: where the App is installed from (`/installations/new`). */
  htmlUrl: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string | null;
  pem: string;
}

/**
 * @param baseUrl GitHub's API base URL (GitHub Enterprise Server: `https://HOST/api/v3`); github.com when unset.
 * @throws {GitHubApiError} when GitHub refuses the code (expired, used, unknown) or cannot be reached.
 */
export async function convertAppManifest(code: string, options: { baseUrl?: string | undefined } = {}): Promise<RegisteredApp> {
  const octokit = new Octokit({ ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}), userAgent: "agent-gate-setup" });
  try {
    const { data } = await octokit.request("POST /app-manifests/{code}/conversions", { code });
    return {
      id: data.id,
      slug: data.slug ?? String(data.id),
      htmlUrl: data.html_url,
      clientId: data.client_id,
      clientSecret: data.client_secret,
      webhookSecret: data.webhook_secret,
      pem: data.pem,
    };
  } catch (error) {
    throw toGitHubApiError(error, "POST /app-manifests/{code}/conversions");
  }
}
