/**
 * Every content detector of the registry, and the parsers of the gate files a pull request can propose, timed on
 * inputs of 1,000, 10,000 and 100,000 lines (issue 11: "every detector must be linear in the patch size"). The
 * last columns are the time ratios for ten times the input: near 10 means linear; the package.json detector
 * before issue 11 walked back through the hunk for every line and showed ~100 (quadratic: 12 s at 20,000 lines).
 *
 * Each input is a realistic worst case for its detector: every line is one it must look at closely.
 */
import { DETECTOR_REGISTRY } from "../src/policy/detectors/index.js";
import { parseCodeowners } from "../src/policy/codeowners.js";
import { parsePolicy } from "../src/policy/config.js";
import { parsePatch } from "../src/policy/patch.js";
import type { ChangedFile } from "../src/policy/types.js";
import { ms, quantile, table } from "./util.js";

type Input = (n: number) => string;

/** A patch of `n` added lines of one kind, in one hunk (a detector's look-back, if any, spans all of them). */
const added =
  (line: (i: number) => string): Input =>
  (n) => {
    const out = [`@@ -0,0 +1,${n} @@`];
    for (let i = 0; i < n; i++) out.push(`+${line(i)}`);
    return out.join("\n");
  };

const PATCHES: Record<string, { file: string; patch: Input; note: string }> = {
  secrets: {
    file: "src/config.ts",
    note: "assignments with random-looking values, one in ten a real token format",
    patch: added((i) => (i % 10 === 0 ? `export const k${i} = "ghp_${String(i).padStart(36, "a")}";` : `  api_key_${i}: "Zq8vL2mN9xR4tY7wK1pB${i}",`)),
  },
  "external-hosts": {
    file: "src/client.ts",
    note: "a URL on every line, a new host on every tenth, percent-encoded and numeric forms mixed in",
    patch: added((i) => (i % 10 === 0 ? `await fetch("https://h${i}%2eexample-cdn.io/v1?x=${i}");` : i % 10 === 5 ? `await fetch("http://${167772160 + i}/x");` : `await fetch("https://api.stripe.com/v1/charges/${i}");`)),
  },
  "package-scripts": {
    file: "package.json",
    note: "one hunk inside `dependencies` (the look-back's worst case), with a `scripts` change at the top; before issue 11 the walk-back took 24 s on 20,000 such lines here",
    patch: (n) => added((i) => (i === 0 ? '  "scripts": {' : i === 1 ? '    "postinstall": "node x.js",' : i === 2 ? "  }," : i === 3 ? '  "dependencies": {' : `    "pkg-${i}": "^1.0.${i}",`))(n),
  },
  submodules: {
    file: ".gitmodules",
    note: "a `.gitmodules` diff that replaces every URL (removed and added lines in one hunk, paired in order); a gitlink is one regex on its patch",
    patch: (n) => {
      const half = Math.floor(n / 2);
      const del = Array.from({ length: half }, (_, i) => `-\turl = https://github.com/acme/m${i}.git`);
      const add = Array.from({ length: n - half }, (_, i) => `+\turl = https://evil.example/m${i}.git`);
      return [`@@ -1,${half} +1,${n - half} @@`, ...del, ...add].join("\n");
    },
  },
};

/** Lines of `line(i)` until the text is `bytes` long (gate files are capped by size: 256 KB policy, 3 MB CODEOWNERS). */
const sized =
  (line: (i: number) => string, head = ""): Input =>
  (bytes) => {
    const out = [head];
    let length = head.length;
    for (let i = 0; length < bytes; i++) {
      const l = line(i);
      out.push(l);
      length += l.length + 1;
    }
    return out.join("\n").slice(0, bytes);
  };

const GATE_FILES: Record<string, { parse: (text: string) => unknown; text: Input; sizes: number[]; note: string }> = {
  "policy: unknown keys": {
    note: "a proposed .github/agent-gate.yml of unknown top-level keys (was quadratic: the yaml package's pairwise uniqueKeys, 14 s at 256 KB)",
    parse: (t) => parsePolicy(t),
    text: sized((i) => `k${i}: 1`),
    sizes: [2_500, 25_000, 250_000],
  },
  "policy: repeated keys": {
    note: "one rule whose key is repeated (was 16 s at 256 KB)",
    parse: (t) => parsePolicy(t),
    text: sized(() => "      x: 1", "risk:\n  rules:\n    - id: a"),
    sizes: [2_500, 25_000, 250_000],
  },
  "policy: valid rules": {
    note: "risk rules with a path glob each, all valid",
    parse: (t) => parsePolicy(t),
    text: sized((i) => `    - { id: r${i}, level: high, paths: ["src/m${i}/**"] }`, "risk:\n  rules:"),
    sizes: [2_500, 25_000, 250_000],
  },
  CODEOWNERS: {
    note: "a proposed CODEOWNERS, one line in ten invalid (GitHub's limit: 3 MB)",
    parse: (t) => parseCodeowners(t, { path: ".github/CODEOWNERS" }),
    text: sized((i) => (i % 10 === 0 ? `[bad ${i}` : `/src/m${i}/**/*.ts @org/team-${i % 50}`)),
    sizes: [29_000, 290_000, 2_900_000],
  },
};

function file(name: string, patch: string): ChangedFile {
  return { filename: name, status: "modified", additions: 1, deletions: 0, changes: 1, patch };
}

/** The fastest of `runs`: on a shared machine the other processes only ever add time, so the minimum is the detector's own. */
function fastest(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return quantile(times, 0);
}

export interface DetectorRow {
  name: string;
  kind: "detector" | "gate file";
  ms: number[];
  ratios: number[];
}

export function benchDetectors(sizes: number[], runs: number, smoke = false): { rows: DetectorRow[]; markdown: string } {
  const rows: DetectorRow[] = [];
  const notes: string[] = [];
  for (const detector of DETECTOR_REGISTRY) {
    const input = PATCHES[detector.id];
    if (!input) continue;
    const times = sizes.map((n) => {
      const patch = input.patch(n);
      const lines = parsePatch(patch);
      const changed = file(input.file, patch);
      detector.detect({ file: changed, lines: () => lines });
      return fastest(runs, () => detector.detect({ file: changed, lines: () => lines }));
    });
    rows.push({ name: `\`${detector.id}\``, kind: "detector", ms: times, ratios: ratios(times) });
    notes.push(`- \`${detector.id}\`: ${input.note}.`);
  }
  const gateRows: DetectorRow[] = [];
  for (const [name, gate] of Object.entries(GATE_FILES)) {
    const gateSizes = smoke ? gate.sizes.slice(0, 2).map((b) => Math.ceil(b / 10)) : gate.sizes;
    const times = gateSizes.map((bytes) => {
      const text = gate.text(bytes);
      gate.parse(text);
      return fastest(runs, () => gate.parse(text));
    });
    gateRows.push({ name: `${name} (${gateSizes.map(kb).join(", ")})`, kind: "gate file", ms: times, ratios: ratios(times) });
    notes.push(`- ${name}: ${gate.note}.`);
  }
  rows.push(...gateRows);
  const mode = DETECTOR_REGISTRY.filter((d) => !d.needsPatch).map((d) => `\`${d.id}\``);
  const label = (n: number) => `${n.toLocaleString("en")} lines (ms)`;
  const markdown = [
    "## 5. Detectors and gate files",
    "",
    `Fastest of ${runs} runs per size (other processes only add time), patch parsed beforehand (a detector's own time). The ratio columns divide the time at ten times the input by the time before it: near 10 is linear. ` +
      `${mode.filter((m) => !rows.some((r) => r.name === m)).join(" and ")} decide from the file's mode alone (constant per file) and are not listed.`,
    "",
    table(
      ["Detector", ...sizes.map(label), ...sizes.slice(1).map((n, i) => `${short(sizes[i]!)} → ${short(n)}: time ×`)],
      ["l", ...sizes.map(() => "r" as const), ...sizes.slice(1).map(() => "r" as const)],
      rows.filter((r) => r.kind === "detector").map((r) => [r.name, ...r.ms.map(ms), ...r.ratios.map((x) => x.toFixed(1))]),
    ),
    "",
    "Gate files a pull request proposes (parsed from its head to show their errors), at three sizes ten times apart:",
    "",
    table(
      ["Gate file (sizes)", "small (ms)", "10x (ms)", "100x (ms)", "small → 10x: time ×", "10x → 100x: time ×"],
      ["l", "r", "r", "r", "r", "r"],
      gateRows.map((r) => [r.name, ...r.ms.map(ms), ...(r.ms.length < 3 ? ["—"] : []), ...r.ratios.map((x) => x.toFixed(1)), ...(r.ratios.length < 2 ? ["—"] : [])]),
    ),
    "",
    ...notes,
  ].join("\n");
  return { rows, markdown };
}

function short(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

function kb(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${(bytes / 1000).toFixed(1)} KB`;
}

function ratios(times: number[]): number[] {
  return times.slice(1).map((t, i) => t / Math.max(times[i]!, 0.001));
}
