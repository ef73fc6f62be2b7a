/**
 * File modes through GraphQL, for the paths a pull request changes: the files API carries no modes, so the App
 * could not see a new executable, a new symlink or a gitlink (invariant 2).
 *
 * Why GraphQL's `Commit.file(path:)` (one alias per path) and not the git trees API: a recursive tree is the whole
 * repository (truncated past 100,000 entries or 7 MB, so a large monorepo could never be evaluated), and
 * non-recursive trees cost one request per directory per side. Here the answer is the size of the pull request,
 * every path is looked up at a fixed commit, nothing is truncated, and a query costs 1 point of the GraphQL
 * budget (apart from REST's 5,000 requests). Paths travel as variables, never spliced into the query text.
 */
import type { FileModeQuery } from "./port.js";

/** Paths (base and head together) per query: a 3,000-file pull request needs at most 6000 / 250 = 24. */
export const FILE_MODES_PER_QUERY = 250;

export interface ModeLookup {
  side: "base" | "head";
  path: string;
}

export interface ModeQueryText {
  query: string;
  variables: Record<string, string>;
  /** Alias (`p0`, `p1`…) → what it looks up. */
  aliases: ReadonlyMap<string, ModeLookup>;
}

/** Every lookup the query asks for, deduplicated per side, in chunks of FILE_MODES_PER_QUERY. */
export function modeLookups(query: FileModeQuery): ModeLookup[][] {
  const all: ModeLookup[] = [
    ...[...new Set(query.basePaths)].map((path) => ({ side: "base" as const, path })),
    ...[...new Set(query.headPaths)].map((path) => ({ side: "head" as const, path })),
  ];
  const chunks: ModeLookup[][] = [];
  for (let i = 0; i < all.length; i += FILE_MODES_PER_QUERY) chunks.push(all.slice(i, i + FILE_MODES_PER_QUERY));
  return chunks;
}

/** One GraphQL query for a chunk of lookups; a side without lookups is left out (GraphQL refuses unused variables). */
export function modeQueryText(owner: string, name: string, shas: { base: string; head: string }, lookups: readonly ModeLookup[]): ModeQueryText {
  const variables: Record<string, string> = { owner, name };
  const declarations = ["$owner: String!", "$name: String!"];
  const aliases = new Map<string, ModeLookup>();
  const blocks: string[] = [];
  for (const side of ["base", "head"] as const) {
    const fields: string[] = [];
    lookups.forEach((l, i) => {
      if (l.side !== side) return;
      const alias = `p${i}`;
      aliases.set(alias, l);
      variables[alias] = l.path;
      declarations.push(`$${alias}: String!`);
      fields.push(`${alias}: file(path: $${alias}) { mode }`);
    });
    if (fields.length === 0) continue;
    variables[side] = shas[side];
    declarations.push(`$${side}: GitObjectID!`);
    blocks.push(`${side}: object(oid: $${side}) { ... on Commit { ${fields.join(" ")} } }`);
  }
  return { query: `query AgentGateFileModes(${declarations.join(", ")}) { repository(owner: $owner, name: $name) { ${blocks.join(" ")} } }`, variables, aliases };
}

/** GraphQL's decimal mode (33188) as git writes it (`100644`); trees are `040000`. */
export function gitMode(mode: number): string {
  return mode.toString(8).padStart(6, "0");
}

/**
 * The modes a query's answer gives, or why it cannot be trusted: a missing repository or commit, or an alias the
 * answer leaves out, is an error (fail closed), not a file without a mode. `null` for an alias: no entry there.
 */
export function readModeAnswer(data: unknown, text: ModeQueryText): { modes: Array<ModeLookup & { mode: string | null }> } | { error: string } {
  const repository = field(data, "repository");
  if (repository === undefined || repository === null) return { error: "the repository is not visible" };
  const modes: Array<ModeLookup & { mode: string | null }> = [];
  for (const [alias, lookup] of text.aliases) {
    const commit = field(repository, lookup.side);
    if (commit === undefined || commit === null) return { error: `the ${lookup.side} commit is unknown to GitHub` };
    const entry = field(commit, alias);
    if (entry === undefined) return { error: `no answer for ${lookup.path} at the ${lookup.side} commit` };
    if (entry === null) {
      modes.push({ ...lookup, mode: null });
      continue;
    }
    const mode = field(entry, "mode");
    if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0) return { error: `no mode for ${lookup.path} at the ${lookup.side} commit` };
    modes.push({ ...lookup, mode: gitMode(mode) });
  }
  return { modes };
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
