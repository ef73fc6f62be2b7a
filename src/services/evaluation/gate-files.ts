import { isGitHubApiError } from "../../github/errors.js";
import type { PullRequestInfo, RepoRef } from "../../github/port.js";
import { CODEOWNERS_LOCATIONS, parseCodeowners } from "../../policy/codeowners.js";
import { POLICY_PATH, formatPolicyError, parsePolicy } from "../../policy/config.js";
import type { ChangedFile } from "../../policy/types.js";
import { code, fence } from "../render.js";
import type { ServiceDeps } from "../types.js";

/**
 * A PR that edits the policy or CODEOWNERS is judged by the base versions (invariant 1); the versions it proposes
 * are validated here so their author sees the errors before merging.
 */
export async function proposedGateFileNotes(deps: ServiceDeps, repo: RepoRef, pr: PullRequestInfo, files: ChangedFile[]): Promise<string[]> {
  const notes: string[] = [];
  const touched = new Map(files.map((f) => [f.filename, f]));
  const policyFile = touched.get(POLICY_PATH);
  if (policyFile) {
    if (policyFile.status === "removed") {
      notes.push(`This pull request deletes ${code(POLICY_PATH)}; it is judged by the base branch's policy. Once merged, the organisation default or the recommended preset applies.`);
    } else {
      const text = await deps.github.getFileText(repo, POLICY_PATH, pr.headSha);
      if (text !== null) {
        const parsed = parsePolicy(text, POLICY_PATH);
        notes.push(
          parsed.ok
            ? `This pull request changes ${code(POLICY_PATH)}. The proposed policy is valid; this evaluation still uses the base branch's policy, as every evaluation does.`
            : `This pull request changes ${code(POLICY_PATH)}, and the proposed policy is **invalid**; merged as is, every pull request would fail this check:\n\n${fence(parsed.errors.map(formatPolicyError).join("\n"))}`,
        );
      }
    }
  }
  const codeownersPaths = CODEOWNERS_LOCATIONS.filter((p) => touched.has(p) && touched.get(p)?.status !== "removed");
  for (const path of codeownersPaths) {
    const text = await deps.github.getFileText(repo, path, pr.headSha);
    if (text === null) continue;
    const proposed = parseCodeowners(text, { path, byteLength: Buffer.byteLength(text, "utf8") });
    const ours = proposed.errors.map((e) => `${path}:${e.line}: ${e.message}`);
    notes.push(
      ours.length === 0
        ? `This pull request changes ${code(path)}. The proposed file parses cleanly; this evaluation still uses the base branch's CODEOWNERS.`
        : `This pull request changes ${code(path)}, and the proposed file has errors (those lines would be ignored):\n\n${fence(ours.slice(0, 50).join("\n"))}`,
    );
  }
  if (codeownersPaths.length > 0) {
    try {
      const githubErrors = await deps.github.getCodeownersErrors(repo, pr.headSha);
      if (githubErrors && githubErrors.length > 0) {
        const lines = githubErrors.slice(0, 50).map((e) => `${e.path}:${e.line}: ${e.kind}: ${e.message.split("\n")[0] ?? ""}`);
        notes.push(`GitHub's own CODEOWNERS check of the proposed file reports:\n\n${fence(lines.join("\n"))}`);
      }
    } catch (error) {
      // Advisory only: GitHub's validator being unavailable does not change the decision.
      deps.log.warn({ err: isGitHubApiError(error) ? error.toLog() : error }, "GitHub's CODEOWNERS validation did not answer");
    }
  }
  return notes;
}
