/**
 * `agent-gate telemetry render FILE` — renders any supported telemetry locally, as the rationale check would show it.
 * This is an edge: it reads files (streamed in chunks) and hands the text to the pure telemetry room.
 */
import { createReadStream } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Option } from "commander";
import type { Command } from "commander";
import {
  BUNDLE_FILES,
  NativeBundleBuilder,
  TELEMETRY_FORMATS,
  TelemetryError,
  TranscriptReader,
  crossCheck,
  escapeInline,
  parseManifest,
  parseTelemetryArtifact,
  renderRationaleMarkdown,
} from "../../telemetry/index.js";
import type { BundleManifest, CrossCheckResult, TelemetryFormat, Trace } from "../../telemetry/index.js";

/** The App downloads at most 64 MiB per artifact; the CLI allows more for local use. */
const MAX_ZIP_BYTES = 512 * 1024 * 1024;

export interface LoadedTelemetry {
  format: TelemetryFormat;
  manifest: BundleManifest | null;
  trace: Trace;
}

async function* fileLines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function loadBundleFolder(dir: string): Promise<LoadedTelemetry> {
  const manifestPath = join(dir, BUNDLE_FILES.manifest);
  if (!(await exists(manifestPath))) throw new TelemetryError("invalid_artifact", `${dir} has no ${BUNDLE_FILES.manifest}`);
  const manifest = parseManifest(await readFile(manifestPath, "utf8"));
  const b = new NativeBundleBuilder(manifest);
  const feed = async (file: string, push: (line: string, n: number) => void) => {
    if (!(await exists(file))) return;
    let n = 0;
    for await (const line of fileLines(file)) push(line, ++n);
  };
  await feed(join(dir, BUNDLE_FILES.events), (l, n) => b.pushEvent(l, n));
  await feed(join(dir, BUNDLE_FILES.network), (l, n) => b.pushNetwork(l, n));
  const t = manifest.transcript?.path;
  if (t && !t.startsWith("/") && !t.split(/[\\/]/).includes("..")) await feed(join(dir, t), (l, n) => b.pushTranscript(l, n));
  return { format: "native", manifest, trace: b.finish() };
}

/** Streams a transcript of any shape (JSON Lines, a JSON array, one document) through the reader, chunk by chunk. */
async function loadTranscript(path: string, format?: TelemetryFormat): Promise<LoadedTelemetry> {
  const reader = new TranscriptReader({ ...(format ? { format } : {}), name: basename(path) });
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) reader.write(chunk as string);
  const trace = reader.end();
  return { format: reader.detected ?? trace.run.format, manifest: null, trace };
}

/** Zip local-file-header magic `PK\x03\x04`, read without loading the file. */
async function isZip(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return bytesRead === 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
  } finally {
    await fh.close();
  }
}

/** Loads FILE: a bundle folder (or its manifest.json), a bundle/artifact .zip, or a transcript in any format. */
export async function loadTelemetry(file: string, format?: TelemetryFormat): Promise<LoadedTelemetry> {
  const path = resolve(file);
  const st = await stat(path).catch((e: unknown) => {
    throw new TelemetryError("invalid_artifact", `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (st.isDirectory()) return loadBundleFolder(path);
  if (basename(path) === BUNDLE_FILES.manifest) return loadBundleFolder(dirname(path));
  if (await isZip(path)) {
    if (st.size > MAX_ZIP_BYTES) throw new TelemetryError("too_large", `${file} is over ${MAX_ZIP_BYTES} bytes`);
    const parsed = parseTelemetryArtifact(await readFile(path));
    return { format: parsed.format, manifest: parsed.manifest, trace: parsed.trace };
  }
  return loadTranscript(path, format);
}

function changedFiles(text: string): Array<{ filename: string; previous_filename?: string }> {
  // `git diff --name-status` lines (R100\told\tnew) or plain `--name-only` paths.
  return text
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const parts = l.split("\t");
      if (parts.length === 3 && /^[RC]\d*$/.test(parts[0] ?? "")) return { filename: parts[2] ?? "", previous_filename: parts[1] ?? "" };
      if (parts.length === 2 && /^[AMDTU]$/.test(parts[0] ?? "")) return { filename: parts[1] ?? "" };
      return { filename: l.trim() };
    });
}

interface RenderOpts {
  format: "markdown" | "json";
  inputFormat?: TelemetryFormat;
  changedFiles?: string;
}

export function registerTelemetryCommands(program: Command): void {
  const telemetry = program.command("telemetry").description("Agent telemetry: render what an agent did and why");
  telemetry
    .command("render")
    .description(
      "Render telemetry as the 'Agent Gate: rationale' check would show it. FILE is a JSONL transcript (Codex exec --json, Claude Code stream-json, OTel spans), an OTLP JSON export, a native bundle folder or a bundle .zip",
    )
    .argument("<file>", "telemetry file, bundle folder or .zip")
    .addOption(new Option("--format <format>", "output format").choices(["markdown", "json"]).default("markdown"))
    .addOption(new Option("--input-format <format>", "input format (default: detected)").choices([...TELEMETRY_FORMATS]))
    .option("--changed-files <file>", "the pull request's changed files to cross-check against (output of git diff --name-only or --name-status)")
    .action(async function (this: Command, file: string, opts: RenderOpts) {
      const out = this.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      let loaded: LoadedTelemetry;
      try {
        loaded = await loadTelemetry(file, opts.inputFormat);
      } catch (e) {
        if (e instanceof TelemetryError) this.error(`error: ${e.message}`, { exitCode: 2, code: `agent-gate.telemetry.${e.code}` });
        throw e;
      }
      let cc: CrossCheckResult | undefined;
      if (opts.changedFiles !== undefined) cc = crossCheck(loaded.trace, changedFiles(await readFile(opts.changedFiles, "utf8")));
      if (opts.format === "json") {
        out(`${JSON.stringify({ format: loaded.format, manifest: loaded.manifest, trace: loaded.trace, ...(cc ? { crossCheck: cc } : {}) }, null, 2)}\n`);
        return;
      }
      const r = renderRationaleMarkdown(loaded.trace, cc ? { crossCheck: cc } : {});
      out(`# ${escapeInline(r.title, 255)}\n\n${r.summary}\n\n${r.text ?? ""}\n`);
    });
}
