/** Links into GitHub and into these pages, built from parts we checked (never from agent text). */
export interface GitHubLinks {
  /** https://github.com or https://HOST for GitHub Enterprise Server. */
  webBaseUrl: string;
}

import { trailPath } from "../../services/render.js";

const seg = (s: string) => s.split("/").map(encodeURIComponent).join("/");

export function pullUrl(links: GitHubLinks, repository: string, number: number): string {
  return `${links.webBaseUrl}/${seg(repository)}/pull/${number}`;
}

export function commitUrl(links: GitHubLinks, repository: string, sha: string): string {
  return `${links.webBaseUrl}/${seg(repository)}/commit/${encodeURIComponent(sha)}`;
}

export function checkRunUrl(links: GitHubLinks, repository: string, checkRunId: number): string {
  return `${links.webBaseUrl}/${seg(repository)}/runs/${checkRunId}`;
}

export function workflowRunUrl(links: GitHubLinks, repository: string, runId: number): string {
  return `${links.webBaseUrl}/${seg(repository)}/actions/runs/${runId}`;
}

/** This App's page of one PR: /audit/pr/OWNER/NAME/NUMBER (the approval check's details link uses the same). */
export { trailPath };
