/**
 * The native telemetry bundle: what the sandbox action (action/) writes and the App ingests.
 * This file is the contract between the two halves; the action imports it, so it stays pure.
 *
 * On disk (and inside the uploaded artifact zip) a bundle is a folder:
 *   manifest.json   — BundleManifest
 *   events.jsonl    — one BundleEvent per line, in the order they happened. `file_change` events are what the agent
 *                     itself reported; `git_change` events are what git staged after it ran. The App compares the
 *                     agent's account with the pull request's diff, so the two are never mixed.
 *   network.jsonl   — one NetworkAttempt per line, as the egress proxy logged them
 */
import { z } from "zod";

export const BUNDLE_VERSION = 1 as const;
export const BUNDLE_ARTIFACT_NAME = "agent-gate-telemetry";
export const BUNDLE_FILES = { manifest: "manifest.json", events: "events.jsonl", network: "network.jsonl" } as const;

const isoTime = z.string().datetime({ offset: true });
const sha = z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-character hex commit SHA");

export const bundleManifestSchema = z
  .object({
    /** Format version; a reader rejects versions it does not know. */
    version: z.literal(BUNDLE_VERSION),
    /** `owner/name` of the repository the workflow ran in. */
    repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, "expected owner/name"),
    /** The workflow run that produced the bundle (GITHUB_RUN_ID) and its attempt. */
    runId: z.number().int().positive(),
    runAttempt: z.number().int().positive().default(1),
    /** Path of the workflow file, e.g. `.github/workflows/agent.yml`. */
    workflowPath: z.string().min(1),
    /** The pull request the action opened, or null when the agent changed nothing. */
    pullRequest: z.object({ number: z.number().int().positive(), url: z.string().url().optional() }).strict().nullable(),
    /** The branch the action pushed (`agent/<run id>`) and the commit it pushed. */
    branch: z.string().min(1),
    headSha: sha.nullable(),
    baseRef: z.string().min(1),
    agent: z
      .object({
        /** codex | claude-code | command, or another agent's name. */
        name: z.string().min(1),
        model: z.string().optional(),
        version: z.string().optional(),
      })
      .strict(),
    task: z.string(),
    /** Login of the human who started the run (GITHUB_ACTOR / triggering actor). */
    triggeredBy: z.string().min(1),
    startedAt: isoTime,
    endedAt: isoTime,
    /** How the agent process ended. */
    outcome: z.enum(["succeeded", "failed", "timed_out", "no_changes"]),
    exitCode: z.number().int().nullable(),
    network: z.object({ mode: z.enum(["block", "audit"]), allowedDomains: z.array(z.string()) }).strict(),
    usage: z
      .object({
        inputTokens: z.number().int().nonnegative().optional(),
        outputTokens: z.number().int().nonnegative().optional(),
        cachedInputTokens: z.number().int().nonnegative().optional(),
        costUsd: z.number().nonnegative().optional(),
      })
      .strict()
      .optional(),
    /** Name of the agent's own transcript inside the bundle (e.g. `codex.jsonl`), when it wrote one. */
    transcript: z.object({ path: z.string().min(1), format: z.enum(["codex", "claude-code", "otel"]) }).strict().optional(),
  })
  .strict();
export type BundleManifest = z.infer<typeof bundleManifestSchema>;

export const networkAttemptSchema = z
  .object({
    time: isoTime,
    host: z.string(),
    port: z.number().int().min(0).max(65535),
    /** CONNECT (tunnelled TLS), HTTP (plain proxied request) or DIRECT (caught by the firewall). */
    method: z.string(),
    allowed: z.boolean(),
    /** Why: `allowlisted`, `not-allowlisted`, `private-address 10.0.0.5`, `audit-mode`, `dns-failure` … */
    reason: z.string(),
    /** Address the proxy resolved and connected to, when it did. */
    address: z.string().optional(),
    /**
     * The sandbox process that made the attempt, where the sandbox could tell: the proxy maps its client's
     * port to the socket's owner (/proc/net/tcp + /proc/<pid>/fd); the firewall's log line carries the uid.
     */
    process: z
      .object({
        pid: z.number().int().positive().optional(),
        uid: z.number().int().nonnegative().optional(),
        /** Its command line, arguments joined by spaces (redacted and shortened by the writer). */
        command: z.string().optional(),
      })
      .strict()
      .optional(),
    bytesUp: z.number().int().nonnegative().default(0),
    bytesDown: z.number().int().nonnegative().default(0),
  })
  .strict();
export type NetworkAttempt = z.infer<typeof networkAttemptSchema>;

const base = { time: isoTime };
export const bundleEventSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("message"), role: z.enum(["agent", "user", "system"]), text: z.string() }).strict(),
  z.object({ ...base, type: z.literal("reasoning"), text: z.string() }).strict(),
  z
    .object({
      ...base,
      type: z.literal("decision"),
      decision: z.string(),
      rationale: z.string(),
      alternatives: z.array(z.string()).default([]),
      files: z.array(z.string()).default([]),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal("command"),
      command: z.string(),
      /** "action": a command the sandbox action ran itself (git, firewall), not the agent. */
      by: z.literal("action").optional(),
      exitCode: z.number().int().nullable(),
      durationMs: z.number().nonnegative().optional(),
      output: z.string().optional(),
    })
    .strict(),
  z
    .object({ ...base, type: z.literal("file_change"), path: z.string(), kind: z.enum(["add", "update", "delete", "rename"]), line: z.number().int().positive().optional() })
    .strict(),
  z
    .object({ ...base, type: z.literal("git_change"), path: z.string(), kind: z.enum(["add", "update", "delete", "rename"]), previousPath: z.string().optional() })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal("tool_call"),
      server: z.string().optional(),
      tool: z.string(),
      arguments: z.unknown().optional(),
      status: z.enum(["completed", "failed", "in_progress"]).default("completed"),
    })
    .strict(),
  z.object({ ...base, type: z.literal("web_search"), query: z.string() }).strict(),
  z.object({ ...base, type: z.literal("error"), message: z.string() }).strict(),
]);
export type BundleEvent = z.infer<typeof bundleEventSchema>;
