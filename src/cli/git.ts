import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import type { ChangedFile } from "../policy/types.js";
import { CliError, EXIT_USAGE } from "./errors.js";

/**
 * The CLI's window on a local repository: plain `git` through execFile (no shell), with the flags that make
 * its output independent of the user's configuration (no colour, no external diff, fixed prefixes).
 */

const MAX_BUFFER = 1024 * 1024 * 1024;

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

export function runGit(cwd: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd,
        encoding: "buffer",
        maxBuffer: MAX_BUFFER,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
      },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (err && typeof err.code === "string") {
          // Spawning failed (git missing, cwd gone): an environment problem, not a git answer.
          reject(new CliError(EXIT_USAGE, err.code === "ENOENT" ? "git is not installed or not on PATH" : `cannot run git: ${err.message}`, { cause: err }));
          return;
        }
        if (err && /maxBuffer/i.test(err.message)) {
          reject(new CliError(EXIT_USAGE, "git produced more output than the CLI can read (over 1 GiB)", { cause: err }));
          return;
        }
        resolve({ stdout, stderr: stderr.toString("utf8"), code: err ? Number(err.code ?? 1) : 0 });
      },
    );
  });
}

async function gitText(cwd: string, args: string[], what: string): Promise<string> {
  const r = await runGit(cwd, args);
  if (r.code !== 0) throw new CliError(EXIT_USAGE, `${what}: ${firstLine(r.stderr) || `git exited with ${r.code}`}`);
  return r.stdout.toString("utf8");
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0]?.replace(/^fatal: /, "") ?? "";
}

/** The repository's top-level folder. @throws CliError(2) when `dir` is missing or not inside a work tree. */
export async function openRepository(dir: string): Promise<string> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new CliError(EXIT_USAGE, `not a directory: ${dir}`);
  }
  const r = await runGit(dir, ["rev-parse", "--show-toplevel"]);
  if (r.code !== 0) throw new CliError(EXIT_USAGE, `not a git repository: ${dir}`);
  return r.stdout.toString("utf8").trim();
}

/** The commit a ref names. @throws CliError(2) for an unknown ref. */
export async function resolveCommit(repo: string, ref: string): Promise<string> {
  if (ref.startsWith("-") || ref.length === 0) throw new CliError(EXIT_USAGE, `invalid ref: ${ref}`);
  const r = await runGit(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  if (r.code !== 0) throw new CliError(EXIT_USAGE, `unknown ref: ${ref}`);
  return r.stdout.toString("utf8").trim();
}

/** origin's default branch (`refs/remotes/origin/HEAD`) when the clone knows it, else `main`. */
export async function defaultBaseRef(repo: string): Promise<string> {
  const r = await runGit(repo, ["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"]);
  const ref = r.code === 0 ? r.stdout.toString("utf8").trim() : "";
  return ref ? ref.replace(/^refs\/remotes\//, "") : "main";
}

/** The branch name for a ref when it is one (`HEAD` -> `feature/x`), else the ref as given. */
export async function branchName(repo: string, ref: string): Promise<string> {
  const r = await runGit(repo, ["rev-parse", "--abbrev-ref", ref]);
  const name = r.code === 0 ? r.stdout.toString("utf8").trim() : "";
  return name && name !== "HEAD" ? name : ref;
}

/**
 * Who authored or committed `from..to`, as GitHub logins where git can tell: GitHub's noreply addresses
 * (`123+login@users.noreply.github.com`) name the login. The App reads logins from GitHub instead; locally this is
 * the best a repository knows, so the simulation refuses at least those approvals the App would (invariant 4).
 */
export async function commitLogins(repo: string, from: string, to: string): Promise<string[]> {
  const out = await gitText(repo, ["log", "--format=%ae%n%ce", `${from}..${to}`], "the commits' authors");
  const logins = new Set<string>();
  for (const email of out.split("\n")) {
    const m = /^(?:\d+\+)?([A-Za-z0-9-]+)@users\.noreply\.github\.com$/i.exec(email.trim());
    if (m) logins.add(m[1]!.toLowerCase());
  }
  return [...logins];
}

/** @throws CliError(2) when the two commits share no history. */
export async function mergeBase(repo: string, a: string, b: string): Promise<string> {
  const r = await runGit(repo, ["merge-base", a, b]);
  if (r.code !== 0) throw new CliError(EXIT_USAGE, `no common ancestor between ${a.slice(0, 12)} and ${b.slice(0, 12)}`);
  return r.stdout.toString("utf8").trim();
}

export interface Blob {
  /** Git file mode, e.g. 100644, 120000 for a symlink. */
  mode: string;
  size: number;
  /** Undefined when the caller chose not to read it (see `readBlob`'s maxBytes). */
  text?: string;
}

/**
 * A file as stored at a commit, or undefined when the commit has no file there. Files of `maxBytes` or more
 * are described (mode, size) but not read.
 */
export async function readBlob(repo: string, commit: string, path: string, maxBytes = Infinity): Promise<Blob | undefined> {
  const ls = await gitText(repo, ["ls-tree", "-z", "--long", "--full-tree", commit, "--", path], `cannot list ${path}`);
  const entry = ls.split("\0").find((e) => e.endsWith(`\t${path}`));
  if (!entry) return undefined;
  const m = /^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t/.exec(entry);
  if (!m || m[2] !== "blob") return undefined;
  const size = m[4] === "-" ? 0 : Number(m[4]);
  const blob: Blob = { mode: m[1]!, size };
  if (size < maxBytes) {
    const r = await runGit(repo, ["cat-file", "blob", m[3]!]);
    if (r.code !== 0) throw new CliError(EXIT_USAGE, `cannot read ${path} at ${commit.slice(0, 12)}: ${firstLine(r.stderr)}`);
    blob.text = r.stdout.toString("utf8");
  }
  return blob;
}

const STATUS: Record<string, string> = { A: "added", D: "removed", M: "modified", R: "renamed", C: "copied", T: "changed" };

const DIFF_FLAGS = ["-M", "-C", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "--ignore-submodules=none", "--submodule=short"];

interface RawEntry {
  oldMode: string;
  newMode: string;
  status: string;
  oldPath: string;
  newPath: string;
}

function parseRaw(out: string): RawEntry[] {
  const tokens = out.split("\0");
  const entries: RawEntry[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const meta = tokens[i]!;
    if (!meta.startsWith(":")) continue;
    const [oldMode = "", newMode = "", , , status = "X"] = meta.slice(1).split(" ");
    const letter = status[0] ?? "X";
    if (letter === "R" || letter === "C") {
      entries.push({ oldMode, newMode, status: letter, oldPath: tokens[i + 1] ?? "", newPath: tokens[i + 2] ?? "" });
      i += 2;
    } else {
      const p = tokens[i + 1] ?? "";
      entries.push({ oldMode, newMode, status: letter, oldPath: p, newPath: p });
      i += 1;
    }
  }
  return entries;
}

function parseNumstat(out: string): Array<{ additions: number; deletions: number; binary: boolean }> {
  const tokens = out.split("\0");
  const rows: Array<{ additions: number; deletions: number; binary: boolean }> = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(t);
    if (!m) continue;
    const binary = m[1] === "-" && m[2] === "-";
    rows.push({ additions: binary ? 0 : Number(m[1]), deletions: binary ? 0 : Number(m[2]), binary });
    if (m[3] === "") i += 2; // rename or copy: old and new path follow as their own tokens
  }
  return rows;
}

/** Split `git diff` output into per-file chunks; a line starting `diff --git ` can only be a file header. */
function splitPatches(out: string): string[] {
  const chunks: string[] = [];
  let current: string[] | null = null;
  for (const line of out.split("\n")) {
    if (line.startsWith("diff --git ")) {
      if (current) chunks.push(current.join("\n"));
      current = [];
    } else if (current) {
      current.push(line);
    }
  }
  if (current) chunks.push(current.join("\n"));
  return chunks.map((c) => {
    const at = c.startsWith("@@") ? 0 : c.indexOf("\n@@");
    return at < 0 ? "" : c.slice(at === 0 ? 0 : at + 1).replace(/\n+$/, "");
  });
}

/**
 * The changes from `from` to `to`, shaped like GitHub's pull-request files, with what git knows beyond the
 * API: certain binary detection (numstat `-`) and file modes. Renames and copies keep their old path.
 */
export async function changedFiles(repo: string, from: string, to: string): Promise<ChangedFile[]> {
  const range = [from, to];
  const [raw, numstat, patch] = await Promise.all([
    gitText(repo, ["diff", "--raw", "-z", "--no-abbrev", ...DIFF_FLAGS, ...range, "--"], "cannot diff"),
    gitText(repo, ["diff", "--numstat", "-z", ...DIFF_FLAGS, ...range, "--"], "cannot diff"),
    gitText(repo, ["diff", "--unified=3", "--src-prefix=a/", "--dst-prefix=b/", ...DIFF_FLAGS, ...range, "--"], "cannot diff"),
  ]);
  const entries = parseRaw(raw);
  const stats = parseNumstat(numstat);
  const patches = splitPatches(patch);
  // The three listings come from the same diff queue, so they line up one to one. If they ever do not,
  // drop the counts and patches: the engine then reports the files as not fully evaluable (fail closed).
  const aligned = stats.length === entries.length && patches.length === entries.length;
  return entries.map((e, i) => {
    const stat = aligned ? stats[i] : undefined;
    const additions = stat?.additions ?? 0;
    const deletions = stat?.deletions ?? 0;
    const file: ChangedFile = {
      filename: e.status === "D" ? e.oldPath : e.newPath,
      status: STATUS[e.status] ?? (e.status === "U" ? "unmerged" : "unknown"),
      additions,
      deletions,
      changes: aligned ? additions + deletions : 1,
      binary: stat?.binary ?? false,
      mode: { old: e.oldMode === "000000" ? undefined : e.oldMode, new: e.newMode === "000000" ? undefined : e.newMode },
    };
    if (e.status === "R" || e.status === "C") file.previous_filename = e.oldPath;
    const p = aligned ? patches[i] : undefined;
    if (p && !stat?.binary) file.patch = p;
    return file;
  });
}
