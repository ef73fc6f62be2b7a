import { describe, expect, it } from "vitest";
import { parseNativeBundle, parseTranscript, redactText, redactTrace, renderRationaleMarkdown, buildAnnotations } from "../../src/telemetry/index.js";
import type { Trace } from "../../src/telemetry/index.js";
import { nativeBundle } from "./helpers.js";

// Built from pieces so no scanner mistakes these test strings for real credentials.
const j = (...p: string[]) => p.join("");
const SECRETS: Array<{ kind: string; text: string; secret: string }> = [
  { kind: "github-token", text: `git push https://x:${j("ghp_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")}@github.com/o/r`, secret: j("ghp_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8") },
  { kind: "github-token", text: `token ${j("gho_", "abcdefghijklmnopqrstuvwxyz0123456789")}`, secret: j("gho_", "abcdefghijklmnopqrstuvwxyz0123456789") },
  { kind: "github-token", text: `${j("ghu_", "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210")} and ${j("ghr_", "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210")}`, secret: j("ghu_", "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210") },
  { kind: "github-token", text: `installation ${j("ghs_", "16C7e42F292c6912E7710c838347Ae178B4a")}`, secret: j("ghs_", "16C7e42F292c6912E7710c838347Ae178B4a") },
  { kind: "github-token", text: `use ${j("github_pat_", "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123")}`, secret: j("github_pat_", "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123") },
  { kind: "aws-access-key", text: `aws configure set aws_access_key_id ${j("AKIA", "IOSFODNN7EXAMPLE")}`, secret: j("AKIA", "IOSFODNN7EXAMPLE") },
  { kind: "aws-access-key", text: `session ${j("ASIA", "Y34FZKBOKMUTVV7A")}`, secret: j("ASIA", "Y34FZKBOKMUTVV7A") },
  { kind: "aws-secret-key", text: `aws_secret_access_key = ${j("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY")}`, secret: j("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY") },
  {
    kind: "private-key",
    text: `cat id_rsa\n${j("-----BEGIN ", "RSA PRIVATE KEY-----")}\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\nZ1BjP5CE8Wm5Xn\n${j("-----END ", "RSA PRIVATE KEY-----")}\ndone`,
    secret: "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi",
  },
  { kind: "private-key (cut off)", text: `${j("-----BEGIN ", "OPENSSH PRIVATE KEY-----")}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ`, secret: "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" },
  { kind: "bearer", text: `curl -H "Authorization: Bearer ${j("abc123def456", "ghi789jkl012mno")}" https://api.example.com`, secret: j("abc123def456", "ghi789jkl012mno") },
  { kind: "bearer (bare)", text: `sent bearer ${j("zyx987wvu654", "tsr321")} upstream`, secret: j("zyx987wvu654", "tsr321") },
  { kind: "authorization basic", text: `Authorization: Basic ${j("dXNlcjpw", "YXNzd29yZA==")}`, secret: j("dXNlcjpw", "YXNzd29yZA==") },
  { kind: "password assignment", text: `mysql --password=${j("hunter2", "Secret!")} -u root`, secret: j("hunter2", "Secret!") },
  { kind: "password json", text: `{"db_password": "${j("correct-horse", "-battery")}"}`, secret: j("correct-horse", "-battery") },
  { kind: "secret yaml", text: `client_secret: ${j("s3cr3t", "value42")}`, secret: j("s3cr3t", "value42") },
  { kind: "env token", text: `export SLACK_BOT_TOKEN=${j("opaque", "value123")} && run`, secret: j("opaque", "value123") },
  { kind: "env api key", text: `API_KEY=${j("abcdef", "123456")} node app.js`, secret: j("abcdef", "123456") },
  { kind: "env suffix", text: `STRIPE_SECRET_VALUE=${j("very", "private")}`, secret: j("very", "private") },
  { kind: "jwt", text: `cookie ${j("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".eyJzdWIiOiIxMjM0NTY3ODkwIn0", ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")}`, secret: j("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".eyJzdWIiOiIxMjM0NTY3ODkwIn0") },
  { kind: "url credentials", text: `git clone https://deploy:${j("pa55", "word99")}@git.example.com/r.git`, secret: j("pa55", "word99") },
  { kind: "openai key", text: `OPENAI=${j("sk-proj-", "abcdefghijklmnopqrstuvwx")}`, secret: j("sk-proj-", "abcdefghijklmnopqrstuvwx") },
];

function traceWith(text: string): Trace {
  const line = (o: unknown) => JSON.stringify(o);
  return parseTranscript(
    [
      line({ type: "item.completed", item: { id: "1", type: "agent_message", text } }),
      line({ type: "item.completed", item: { id: "2", type: "command_execution", command: text, aggregated_output: text, exit_code: 1, status: "failed" } }),
      line({ type: "item.completed", item: { id: "3", type: "mcp_tool_call", server: "agent-gate", tool: "record_decision", arguments: { decision: text, rationale: text, alternatives: [text], files: [] }, status: "completed" } }),
      line({ type: "item.completed", item: { id: "4", type: "mcp_tool_call", server: "x", tool: "y", arguments: { v: text }, status: "completed" } }),
      line({ type: "error", message: text }),
    ].join("\n"),
    "codex",
  );
}

describe("redaction", () => {
  it.each(SECRETS)("redactText removes $kind", ({ text, secret }) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/\[REDACTED:[a-z-]+\]/);
  });

  it.each(SECRETS)("invariant 7 (secrets redacted): $kind never reaches the trace, the check run or annotations", ({ text, secret }) => {
    const trace = traceWith(text);
    expect(JSON.stringify(trace)).not.toContain(secret);
    const r = renderRationaleMarkdown(trace);
    expect(r.title + r.summary + (r.text ?? "")).not.toContain(secret);
    expect(JSON.stringify(buildAnnotations(trace, ["a.ts"]))).not.toContain(secret);
  });

  it("invariant 7 (secrets redacted): the native manifest's task and the network log are redacted too", () => {
    const secret = j("ghp_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    const b = nativeBundle();
    const manifest = b.manifest.replace("Add rate limiting to the API client", `use ${secret}`);
    const network = `{"time":"2025-10-09T08:02:10Z","host":"evil.example.com","port":443,"method":"CONNECT","allowed":false,"reason":"not-allowlisted ${secret}"}`;
    const { trace } = parseNativeBundle({ ...b, manifest, network });
    expect(JSON.stringify(trace)).not.toContain(secret);
  });

  it("keeps what is not a secret: references, counts, ordinary words", () => {
    const s = "GITHUB_TOKEN=$GITHUB_TOKEN token: ${{ secrets.X }} input_tokens: 1200 the password policy requires 12 chars PWD=/home/runner";
    expect(redactText(s)).toBe(s);
  });

  it("is idempotent and redactTrace leaves an already redacted trace unchanged", () => {
    const once = redactText(SECRETS.map((s) => s.text).join("\n"));
    expect(redactText(once)).toBe(once);
    const t = traceWith(SECRETS[0]!.text);
    expect(redactTrace(t)).toEqual(t);
  });

  it("redactTrace redacts a trace built elsewhere (steps, run header, files)", () => {
    const secret = j("AKIA", "IOSFODNN7EXAMPLE");
    const t = traceWith("nothing");
    const dirty: Trace = { ...t, run: { ...t.run, task: `key ${secret}` }, steps: [...t.steps, { kind: "message", role: "agent", text: secret }], files: { paths: [{ path: `x/${secret}`, change: "add" }], truncated: false } };
    expect(JSON.stringify(redactTrace(dirty))).not.toContain(secret);
  });

  it("stays linear on long hostile runs of name characters (no catastrophic backtracking)", () => {
    const hostile = `${"a_".repeat(200_000)}x ${"a.".repeat(100_000)} ${"token".repeat(50_000)}`;
    const out = redactText(hostile);
    expect(out.length).toBeGreaterThan(0);
  });
});
