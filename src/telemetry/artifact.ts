/**
 * The uploaded artifact (a zip): a native bundle folder, or a bare Codex / Claude Code / OTel transcript uploaded by a
 * workflow that does not use our action. Pure: bytes in, trace out; the caller downloads the zip.
 */
import { unzipSync } from "fflate";
import { BUNDLE_FILES } from "./bundle.js";
import type { BundleManifest } from "./bundle.js";
import { TelemetryError } from "./model.js";
import type { TelemetryFormat, Trace } from "./model.js";
import { createParser, detectFormat, NativeBundleBuilder, parseManifest, parseTranscript } from "./parse.js";
import { iterateLines } from "./util.js";

export interface ArtifactLimits {
  /** Entries in the zip. */
  maxEntries: number;
  /** Uncompressed bytes of the whole artifact (zip-bomb guard). */
  maxTotalBytes: number;
}

export const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = { maxEntries: 1000, maxTotalBytes: 256 * 1024 * 1024 };

/**
 * Unzips an artifact within limits. Entry names are normalised to `/` and entries escaping the root (`..`, absolute) dropped.
 * @throws TelemetryError("invalid_artifact" | "too_large")
 */
export function readArtifactZip(bytes: Uint8Array, limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS): Map<string, Uint8Array> {
  let entries = 0;
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        entries++;
        if (entries > limits.maxEntries) throw new TelemetryError("too_large", `artifact has more than ${limits.maxEntries} entries`);
        if (f.name.endsWith("/")) return false;
        declared += f.originalSize;
        if (declared > limits.maxTotalBytes) throw new TelemetryError("too_large", `artifact unpacks to more than ${limits.maxTotalBytes} bytes`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof TelemetryError) throw e;
    throw new TelemetryError("invalid_artifact", "the artifact is not a readable zip file", [e instanceof Error ? e.message : String(e)], { cause: e });
  }
  const out = new Map<string, Uint8Array>();
  let total = 0;
  for (const [name, data] of Object.entries(files)) {
    total += data.length;
    if (total > limits.maxTotalBytes) throw new TelemetryError("too_large", `artifact unpacks to more than ${limits.maxTotalBytes} bytes`);
    const clean = name.replace(/\\/g, "/").replace(/^\.\//, "");
    if (clean.startsWith("/") || clean.split("/").includes("..")) continue;
    out.set(clean, data);
  }
  return out;
}

const decoder = new TextDecoder("utf-8");
const decode = (b: Uint8Array | undefined) => (b === undefined ? "" : decoder.decode(b));

export interface ParsedArtifact {
  manifest: BundleManifest | null;
  format: TelemetryFormat;
  trace: Trace;
}

/**
 * Parses an artifact zip: the shallowest `manifest.json` makes it a native bundle (events, network and the
 * transcript the manifest names are read from its folder); otherwise the first recognisable .jsonl/.json file
 * (by name) is parsed as a transcript.
 * @throws TelemetryError when nothing in the artifact is recognisable, or the manifest is invalid.
 */
export function parseTelemetryArtifact(bytes: Uint8Array, limits?: ArtifactLimits): ParsedArtifact {
  const files = readArtifactZip(bytes, limits);
  const names = [...files.keys()].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
  const manifestName = names.find((n) => n === BUNDLE_FILES.manifest || n.endsWith(`/${BUNDLE_FILES.manifest}`));
  if (manifestName !== undefined) {
    const root = manifestName.slice(0, manifestName.length - BUNDLE_FILES.manifest.length);
    const manifest = parseManifest(decode(files.get(manifestName)));
    const b = new NativeBundleBuilder(manifest);
    let n = 0;
    for (const l of iterateLines(decode(files.get(root + BUNDLE_FILES.events)))) b.pushEvent(l, ++n);
    n = 0;
    for (const l of iterateLines(decode(files.get(root + BUNDLE_FILES.network)))) b.pushNetwork(l, ++n);
    const tPath = manifest.transcript?.path.replace(/\\/g, "/").replace(/^\.\//, "");
    if (tPath && !tPath.startsWith("/") && !tPath.split("/").includes("..")) {
      n = 0;
      for (const l of iterateLines(decode(files.get(root + tPath)))) b.pushTranscript(l, ++n);
    }
    return { manifest, format: "native", trace: b.finish() };
  }
  for (const name of names.filter((x) => /\.(jsonl|ndjson|json)$/i.test(x))) {
    const text = decode(files.get(name));
    const head: string[] = [];
    for (const l of iterateLines(text)) {
      head.push(l);
      if (head.length >= 50) break;
    }
    const format = detectFormat(head) ?? detectFormat([text]);
    if (!format) continue;
    if (format === "native") {
      const parser = createParser("native");
      let n = 0;
      for (const l of iterateLines(text)) parser.push(l, ++n);
      return { manifest: null, format, trace: parser.finish() };
    }
    return { manifest: null, format, trace: parseTranscript(text, format) };
  }
  throw new TelemetryError("unknown_format", "the artifact holds no manifest.json and no recognisable transcript (.jsonl or .json)");
}
