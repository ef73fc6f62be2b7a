/**
 * The run with a real sandbox user (needs root and useradd; skipped otherwise). The firewall is a recording
 * fake here — firewall.integration.test.ts proves the real rules in a network namespace.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { EventLog, Shell, type Runner } from "../src/exec.js";
import { Firewall, FirewallError, type FirewallSpec } from "../src/firewall.js";
import { openPullRequest } from "../src/github.js";
import { readContext, readInputs } from "../src/inputs.js";
import { runAgentGate, type FirewallLike } from "../src/run.js";
import { git, makeRepo, recordingReporter, runnerEnv, type Fixture } from "./helpers.js";
import { startTlsUpstream } from "./tls-helpers.js";

function why(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const bin of ["useradd", "userdel", "pkill"]) if (spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0) return `${bin} not installed`;
  return null;
}
const skipReason = why();

/** Processes of a uid that are not zombies waiting for init to reap them (polls briefly for that). */
async function livingProcesses(uid: number): Promise<string[]> {
  let living: string[] = [];
  for (let i = 0; i < 20; i++) {
    living = spawnSync("ps", ["-u", String(uid), "-o", "stat=,cmd="], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.trim() && !l.trim().startsWith("Z"));
    if (living.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return living;
}
if (skipReason) console.log(`[sandbox user] skipped: ${skipReason}`);

describe("firewall installation (fake iptables)", () => {
  const runner = (code: number): Runner => async (cmd, args) => ({ exitCode: code, signal: null, stdout: "", stderr: code ? `sudo: ${cmd}: command not found` : "", durationMs: 1, ...(args ? {} : {}) });
  it("block mode: fails before the agent starts when iptables cannot run", async () => {
    await expect(new Firewall({ uid: 1001, proxyPort: 3128, mode: "block" }, runner(1)).install()).rejects.toThrow(FirewallError);
    await expect(new Firewall({ uid: 1001, proxyPort: 3128, mode: "block" }, runner(1)).install()).rejects.toThrow(/network: block needs the egress firewall, but iptables is not usable/);
  });
  it("audit mode: runs on with a warning", async () => {
    const { warnings } = await new Firewall({ uid: 1001, proxyPort: 3128, mode: "audit" }, runner(1)).install();
    expect(warnings[0]).toMatch(/audit mode: no firewall logging/);
  });
  it("block mode: a failing rule removes what was installed and throws", async () => {
    const calls: string[] = [];
    const fw = new Firewall({ uid: 1001, proxyPort: 3128, mode: "block" }, async (cmd, args) => {
      calls.push(`${cmd} ${args.join(" ")}`);
      const fail = args.includes("REJECT") && cmd === "ip6tables";
      return { exitCode: fail ? 1 : 0, signal: null, stdout: "", stderr: fail ? "no REJECT target" : "", durationMs: 1 };
    });
    await expect(fw.install()).rejects.toThrow(/could not install the egress firewall: ip6tables .* no REJECT target/);
    expect(calls.at(-1)).toBe("ip6tables -w -X AGENT-GATE-1001");
  });
});

describe.skipIf(skipReason !== null)("a run as a real sandbox user (root)", () => {
  const userName = `agtest${randomBytes(3).toString("hex")}`;
  const fixtures: Fixture[] = [];
  afterEach(() => {
    for (const f of fixtures.splice(0)) f.cleanup();
  });
  afterAll(() => {
    spawnSync("pkill", ["-KILL", "-u", userName]);
    spawnSync("userdel", [userName]);
  });

  function setup(command: string, firewall: (spec: FirewallSpec) => FirewallLike, extra: Record<string, string> = {}) {
    const fx = makeRepo();
    fixtures.push(fx);
    const env = runnerEnv(fx);
    const inputs = readInputs((n) => ({ prompt: "Touch up the README", agent: "command", command, "github-token": env.GITHUB_TOKEN!, network: "block", ...extra })[n] ?? "");
    const uploads: string[][] = [];
    const deps = {
      env,
      reporter: recordingReporter(),
      sandboxUser: userName,
      remoteUrl: fx.remote,
      openPullRequest,
      createFirewall: firewall,
      permissionOf: async () => "write",
      uploadArtifact: async (_n: string, files: string[]) => (uploads.push(files), {}),
    };
    return { fx, ctx: readContext(env), inputs, deps, uploads };
  }

  it("the agent edits the tree but cannot write .git, read the action's environment, or outlive the run", async () => {
    const installed: FirewallSpec[] = [];
    const fake = (spec: FirewallSpec): FirewallLike => ({
      install: async () => (installed.push(spec), { warnings: [] }),
      remove: async () => undefined,
      caughtAttempts: async () => [],
    });
    const t = setup(
      [
        "echo 'more' >> README.md",
        "touch .git/hooks/pre-commit 2>/dev/null && echo hooks-writable > probe.txt || echo hooks-denied > probe.txt",
        "cat /proc/$PPID/environ >/dev/null 2>&1 && echo environ-readable >> probe.txt || echo environ-denied >> probe.txt",
        "id -u >> probe.txt",
        "echo \"$HOME\" >> probe.txt",
        "setsid sleep 300 >/dev/null 2>&1 < /dev/null &",
      ].join("\n"),
      fake,
    );
    const nock = (await import("nock")).default;
    nock("https://api.github.com").post("/repos/octo/demo/pulls").reply(201, { number: 3, html_url: "https://github.com/octo/demo/pull/3" });
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result.failure).toBeNull();
    expect(result.outcome).toBe("succeeded");
    const uid = Number(execFileSync("id", ["-u", userName]).toString().trim());
    expect(installed).toEqual([expect.objectContaining({ uid, mode: "block" })]);
    const probe = git(t.fx.remote, "show", "agent/4242:probe.txt").split("\n");
    expect(probe.slice(0, 3)).toEqual(["hooks-denied", "environ-denied", String(uid)]);
    expect(probe[3]).toMatch(/agent-gate-home-/);
    // The HOME is gone, the workspace is the action's again, and no process of the user survived.
    expect(existsSync(probe[3]!)).toBe(false);
    expect(statSync(path.join(t.fx.workspace, "README.md")).uid).toBe(0);
    expect(statSync(t.fx.workspace).uid).toBe(0);
    expect(await livingProcesses(uid)).toEqual([]);
    expect(readFileSync(path.join(t.fx.workspace, "README.md"), "utf8")).toBe("# Demo\nmore\n");
  });

  it("key holding: the agent cannot read the model API key (env, /proc, files), yet its requests to the model host authenticate", async () => {
    const REAL = "sk-real-model-key-held-by-the-proxy-7f3a9c";
    const model = await startTlsUpstream(["api.model.test"], (req) => (req.headers.authorization === `Bearer ${REAL}` ? { status: 200, body: "authenticated" } : { status: 401, body: "bad key" }));
    const dump = path.join(os.tmpdir(), `agtest-keydump-${randomBytes(4).toString("hex")}`);
    const command = [
      `{ env; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr '\\0' '\\n' < "$f" 2>/dev/null; done; grep -ra . "$HOME" 2>/dev/null; } > ${dump}`,
      `cat /proc/$PPID/environ >/dev/null 2>&1 && echo readable > parent-environ.txt || echo denied > parent-environ.txt`,
      `curl -s --max-time 10 -H "Authorization: Bearer $MODEL_API_KEY" https://api.model.test:${model.port}/v1/models > model-response.txt 2>&1 || echo "curl failed $?" >> model-response.txt`,
      `echo "$MODEL_API_KEY" | cut -c1-23 > placeholder.txt`,
    ].join("\n");
    const fake = (): FirewallLike => ({ install: async () => ({ warnings: [] }), remove: async () => undefined, caughtAttempts: async () => [] });
    const t = setup(command, fake, { "allowed-domains": `api.model.test:${model.port}`, "agent-env": "MODEL_API_KEY", "api-key-hosts": "MODEL_API_KEY=api.model.test" });
    Object.assign(t.deps, { env: { ...t.deps.env, MODEL_API_KEY: REAL }, resolve: async () => ["127.0.0.1"], allowLoopbackUpstreams: true, modelUpstreamCa: model.ca });
    const nock = (await import("nock")).default;
    nock("https://api.github.com").post("/repos/octo/demo/pulls").reply(201, { number: 4, html_url: "https://github.com/octo/demo/pull/4" });
    try {
      const result = await runAgentGate(t.inputs, t.ctx, t.deps);
      expect(result.failure).toBeNull();
      expect(git(t.fx.remote, "show", "agent/4242:model-response.txt")).toBe("authenticated");
      expect(git(t.fx.remote, "show", "agent/4242:placeholder.txt")).toBe("agent-gate-placeholder-");
      expect(model.seen).toEqual([expect.objectContaining({ path: "/v1/models", authorization: `Bearer ${REAL}` })]);
      const seenByAgent = readFileSync(dump, "utf8");
      expect(seenByAgent).toContain("MODEL_API_KEY=agent-gate-placeholder-model-api-key-");
      expect(seenByAgent).toContain("CURL_CA_BUNDLE=");
      expect(seenByAgent).not.toContain(REAL);
      expect(git(t.fx.remote, "show", "agent/4242:parent-environ.txt")).toBe("denied");
      expect(result.attempts).toEqual([expect.objectContaining({ host: "api.model.test", allowed: true, reason: "allowlisted; api key held by the proxy: added to 1 of 1 request(s)" })]);
    } finally {
      await model.close();
      rmSync(dump, { force: true });
    }
  });

  it("block mode without a working firewall fails before the agent starts", async () => {
    const t = setup("touch agent-ran.txt", (spec) => new Firewall(spec, async (cmd) => ({ exitCode: 1, signal: null, stdout: "", stderr: `${cmd}: not found`, durationMs: 1 })));
    const result = await runAgentGate(t.inputs, t.ctx, t.deps);
    expect(result.outcome).toBe("failed");
    expect(result.failure).toMatch(/network: block needs the egress firewall/);
    expect(existsSync(path.join(t.fx.workspace, "agent-ran.txt"))).toBe(false);
    expect(statSync(t.fx.workspace).uid).toBe(0);
    expect(t.uploads).toHaveLength(1);
  });

  it("Shell.privileged runs directly as root", async () => {
    const r = await new Shell(new EventLog()).privileged("id", ["-u"]);
    expect(r.stdout.trim()).toBe("0");
  });
});
