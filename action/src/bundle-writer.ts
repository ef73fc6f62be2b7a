/**
 * Writing the native telemetry bundle (src/telemetry/bundle.ts is the contract): everything is validated
 * against the same schemas the App parses with before it is written.
 */
import { mkdir, readFile, writeFile, stat } from "node:fs/promises";
import path from "node:path";
import {
  BUNDLE_FILES,
  bundleEventSchema,
  bundleManifestSchema,
  networkAttemptSchema,
  type BundleEvent,
  type BundleManifest,
  type NetworkAttempt,
} from "../../src/telemetry/bundle.js";

export interface WrittenBundle {
  dir: string;
  /** Absolute paths of every file in the bundle (for the artifact upload). */
  files: string[];
  manifest: BundleManifest;
}

export async function writeBundle(
  dir: string,
  input: { manifest: BundleManifest; events: readonly BundleEvent[]; network: readonly NetworkAttempt[]; transcript?: { content: string } },
): Promise<WrittenBundle> {
  const manifest = bundleManifestSchema.parse(input.manifest);
  const events = input.events.map((e) => bundleEventSchema.parse(e));
  const network = input.network.map((a) => networkAttemptSchema.parse(a));
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const put = async (name: string, content: string): Promise<void> => {
    const file = path.join(dir, name);
    await writeFile(file, content, { mode: 0o644 });
    files.push(file);
  };
  await put(BUNDLE_FILES.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  await put(BUNDLE_FILES.events, events.map((e) => `${JSON.stringify(e)}\n`).join(""));
  await put(BUNDLE_FILES.network, network.map((a) => `${JSON.stringify(a)}\n`).join(""));
  if (manifest.transcript && input.transcript) await put(manifest.transcript.path, input.transcript.content);
  return { dir, files, manifest };
}

const MAX_DECISIONS_BYTES = 5 * 1024 * 1024;
const MAX_DECISIONS = 1_000;

/**
 * Reads the decisions the MCP server (running as the agent) appended. The file is agent-writable, so only
 * valid `decision` events are taken, their times clamped into the run, and anything else is reported.
 */
export async function readDecisions(file: string, window: { start: Date; end: Date }): Promise<{ events: BundleEvent[]; rejected: number }> {
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) return { events: [], rejected: 1 };
    text = (await readFile(file, "utf8")).slice(0, MAX_DECISIONS_BYTES);
  } catch {
    return { events: [], rejected: 0 };
  }
  const events: BundleEvent[] = [];
  let rejected = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      rejected++;
      continue;
    }
    const result = bundleEventSchema.safeParse(parsed);
    if (!result.success || result.data.type !== "decision" || events.length >= MAX_DECISIONS) {
      rejected++;
      continue;
    }
    const t = Date.parse(result.data.time);
    const clamped = Math.min(Math.max(t, window.start.getTime()), window.end.getTime());
    events.push({ ...result.data, time: new Date(clamped).toISOString() });
  }
  return { events, rejected };
}
