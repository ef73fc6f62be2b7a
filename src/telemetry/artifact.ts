/**
 * The uploaded artifact (a zip): a native bundle folder, or a bare transcript (any format of formats.ts) uploaded by
 * a workflow that does not use our action. Pure: bytes in, trace out; the caller downloads the zip.
 *
 * Nothing is unpacked whole. Entries are inflated in small pieces (fflate's streaming Unzip, fed a few KiB of
 * compressed bytes at a time, so one piece inflates to at most a few MiB even for a zip bomb), the bytes that
 * actually come out are counted against the limit (a zip's declared sizes are not trusted), and the text goes
 * straight into the streaming readers. Memory stays flat whatever the artifact unpacks to.
 */
import { Unzip, UnzipInflate } from "fflate";
import type { UnzipFile } from "fflate";
import { BUNDLE_FILES } from "./bundle.js";
import type { BundleManifest } from "./bundle.js";
import { CAPS, TelemetryError } from "./model.js";
import type { TelemetryFormat, Trace } from "./model.js";
import { NativeBundleBuilder, parseManifest } from "./parse.js";
import { TranscriptReader } from "./stream.js";
import { LineSplitter } from "./util.js";

export interface ArtifactLimits {
  /** Entries in the zip. */
  maxEntries: number;
  /** Bytes the artifact may inflate to, all entries read together (zip-bomb guard). */
  maxTotalBytes: number;
}

export const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = { maxEntries: 1000, maxTotalBytes: 128 * 1024 * 1024 };

/** Compressed bytes per push into the unzipper: bounds what one inflate step can produce (deflate expands ≤ 1032×). */
const SLICE = 4096;
const MAX_MANIFEST_BYTES = 1024 * 1024;

type Sink = (chunk: Uint8Array, final: boolean) => void;

/** `a\b` → `a/b`, `./x` → `x`; directories, absolute paths and `..` are not entries we read. */
function cleanName(name: string): string | null {
  const clean = name.replace(/\\/g, "/").replace(/^\.\//, "");
  if (clean === "" || clean.endsWith("/") || clean.startsWith("/") || clean.split("/").includes("..")) return null;
  return clean;
}

/** Why these bytes are not a whole zip (a local header first, an end-of-central-directory record last), or null. */
function notAZip(bytes: Uint8Array): string | null {
  if (!(bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) return "it does not start with a zip entry header";
  // The end record is 22 bytes plus a comment of at most 65,535; a download cut short has none.
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && bytes[i + 2] === 0x05 && bytes[i + 3] === 0x06) return null;
  }
  return "it has no end-of-central-directory record (truncated?)";
}

/**
 * One pass over the zip: `pick` gets every entry's clean name and returns where its inflated bytes go (or null to
 * skip it). `budget.used` counts inflated bytes across passes.
 * @throws TelemetryError("invalid_artifact" | "too_large")
 */
function scanZip(bytes: Uint8Array, limits: ArtifactLimits, budget: { used: number }, pick: (name: string) => Sink | null): void {
  const why = notAZip(bytes);
  if (why !== null) throw new TelemetryError("invalid_artifact", "the artifact is not a readable zip file", [why]);
  let entries = 0;
  // fflate hands an exception thrown in a data callback back to that callback: keep the first failure, stop, rethrow.
  let failure: unknown = null;
  const onFile = (file: UnzipFile) => {
    if (failure !== null) return;
    if (++entries > limits.maxEntries) {
      failure = new TelemetryError("too_large", `artifact has more than ${limits.maxEntries} entries`);
      return;
    }
    const name = cleanName(file.name);
    const sink = name === null ? null : pick(name);
    if (!sink) return;
    file.ondata = (err, data, final) => {
      if (failure !== null) return;
      if (err) {
        failure = new TelemetryError("invalid_artifact", `cannot inflate ${name ?? "an entry"}`, [err.message]);
        return;
      }
      budget.used += data.length;
      if (budget.used > limits.maxTotalBytes) {
        failure = new TelemetryError("too_large", `artifact unpacks to more than ${limits.maxTotalBytes} bytes`);
        file.terminate();
        return;
      }
      try {
        sink(data, final);
      } catch (e) {
        failure = e;
      }
    };
    file.start();
  };
  const unzip = new Unzip(onFile);
  unzip.register(UnzipInflate);
  try {
    for (let i = 0; i < bytes.length && failure === null; i += SLICE) unzip.push(bytes.subarray(i, i + SLICE), i + SLICE >= bytes.length);
  } catch (e) {
    failure ??= e instanceof TelemetryError ? e : new TelemetryError("invalid_artifact", "the artifact is not a readable zip file", [e instanceof Error ? e.message : String(e)], { cause: e });
  }
  if (failure !== null) throw failure;
}

/** A sink decoding UTF-8 as it streams (a character split across pieces is kept whole) and handing on text. */
function textSink(onText: (text: string) => void, onEnd: () => void = () => undefined): Sink {
  const decoder = new TextDecoder("utf-8");
  return (chunk, final) => {
    const text = decoder.decode(chunk, { stream: !final });
    if (text !== "") onText(text);
    if (final) onEnd();
  };
}

/** The names of the files in the zip (nothing inflated). */
export function listArtifactEntries(bytes: Uint8Array, limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS): string[] {
  const names: string[] = [];
  scanZip(bytes, limits, { used: 0 }, (name) => (names.push(name), null));
  return names;
}

export interface ParsedArtifact {
  manifest: BundleManifest | null;
  format: TelemetryFormat;
  trace: Trace;
}

/**
 * Parses an artifact zip: the shallowest `manifest.json` makes it a native bundle (events, network and the
 * transcript the manifest names are read from its folder); otherwise the first recognisable .jsonl/.ndjson/.json file
 * (by depth, then name) is parsed as a transcript.
 * @throws TelemetryError when nothing in the artifact is recognisable, the manifest is invalid, or a limit is hit.
 */
export function parseTelemetryArtifact(bytes: Uint8Array, limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS): ParsedArtifact {
  const budget = { used: 0 };
  const names = [...new Set(listArtifactEntries(bytes, limits))].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
  const manifestName = names.find((n) => n === BUNDLE_FILES.manifest || n.endsWith(`/${BUNDLE_FILES.manifest}`));
  if (manifestName !== undefined) return parseBundle(bytes, limits, budget, manifestName);
  for (const name of names.filter((x) => /\.(jsonl|ndjson|json)$/i.test(x))) {
    const reader = new TranscriptReader({ name });
    try {
      scanZip(bytes, limits, budget, (n) => (n === name ? textSink((t) => reader.write(t)) : null));
      const trace = reader.end();
      return { manifest: null, format: reader.detected ?? trace.run.format, trace };
    } catch (e) {
      if (!(e instanceof TelemetryError) || e.code !== "unknown_format") throw e;
    }
  }
  throw new TelemetryError("unknown_format", "the artifact holds no manifest.json and no recognisable transcript (.jsonl, .ndjson or .json)");
}

function parseBundle(bytes: Uint8Array, limits: ArtifactLimits, budget: { used: number }, manifestName: string): ParsedArtifact {
  const root = manifestName.slice(0, manifestName.length - BUNDLE_FILES.manifest.length);
  const parts: string[] = [];
  let size = 0;
  scanZip(bytes, limits, budget, (n) =>
    n === manifestName
      ? textSink((t) => {
          size += t.length;
          if (size > MAX_MANIFEST_BYTES) throw new TelemetryError("too_large", `manifest.json is over ${MAX_MANIFEST_BYTES} bytes`);
          parts.push(t);
        })
      : null,
  );
  const manifest = parseManifest(parts.join(""));
  const b = new NativeBundleBuilder(manifest);
  const tPath = manifest.transcript?.path.replace(/\\/g, "/").replace(/^\.\//, "");
  const transcript = tPath && cleanName(tPath) !== null ? root + tPath : null;
  const lines = (push: (line: string | null, n: number) => void): Sink => {
    let n = 0;
    const splitter = new LineSplitter(CAPS.lineChars, (line) => push(line, ++n));
    return textSink(
      (t) => splitter.write(t),
      () => splitter.end(),
    );
  };
  scanZip(bytes, limits, budget, (n) => {
    if (n === root + BUNDLE_FILES.events) return lines((l, i) => b.pushEvent(l, i));
    if (n === root + BUNDLE_FILES.network) return lines((l, i) => b.pushNetwork(l, i));
    if (n === transcript) return lines((l, i) => b.pushTranscript(l, i));
    return null;
  });
  return { manifest, format: "native", trace: b.finish() };
}

/**
 * Unzips an artifact into memory within limits (tests and small artifacts; ingestion streams instead).
 * @throws TelemetryError("invalid_artifact" | "too_large")
 */
export function readArtifactZip(bytes: Uint8Array, limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array[]>();
  scanZip(bytes, limits, { used: 0 }, (name) => {
    const parts: Uint8Array[] = [];
    out.set(name, parts);
    return (chunk) => parts.push(chunk);
  });
  return new Map([...out].map(([name, parts]) => [name, concat(parts)]));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
