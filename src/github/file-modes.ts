/**
 * File modes through GraphQL, for the paths a pull request changes: the files API carries no modes, so the App
 * could not see a new executable, a new symlink or a gitlink (invariant 2).
 *
 * Why GraphQL's `Commit.file(path:)` (one alias per path) and not the git trees API: a recursive tree is the whole
 * repository (truncated past 100,000 entries or 7 MB, so a large monorepo could never be evaluated), and
 * non-recursive trees cost one request per directory per side. Here the answer is the size of the pull request,
 * every path is looked up at a fixed commit, nothing is truncated, and a query costs 1 point of the GraphQL
 * budget (apart from REST's 5,000 requests). Paths travel as variables, never spliced into the query text.
 *
 * The first query can also read the pull request's commits (who authored and committed them: invariant 4), so the
 * first review's REST `GET pulls/N/commits` is not needed (issue 12): `pullRequest(number:) { headRefOid commits(first: 100) }`.
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
  /** Paths and commits as strings; the pull request's number (`number`, with `commitsOf`) as a number. */
  variables: Record<string, string | number>;
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

/** Commits read with the modes: GitHub's page size. A pull request with more is listed through REST instead. */
export const COMMITS_WITH_MODES = 100;

/**
 * One GraphQL query for a chunk of lookups; a side without lookups is left out (GraphQL refuses unused variables).
 * With `commitsOf` (a pull request number) it also asks for that PR's head and its first 100 commits' authors and committers.
 */
export function modeQueryText(owner: string, name: string, shas: { base: string; head: string }, lookups: readonly ModeLookup[], commitsOf?: number): ModeQueryText {
  const variables: Record<string, string | number> = { owner, name };
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
  if (commitsOf !== undefined) {
    variables.number = commitsOf;
    declarations.push("$number: Int!");
    blocks.push(
      `pullRequest(number: $number) { headRefOid commits(first: ${COMMITS_WITH_MODES}) { totalCount nodes { commit { oid author { user { login } } committer { user { login } } } } } }`,
    );
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

/** The pull request's commits as the file-modes query read them: all of them, oldest first. */
export interface CommitsAnswer {
  headRefOid: string;
  /** Every author's and committer's linked GitHub account (GitActor.user.login), as REST's `author.login`. */
  logins: string[];
  /** The last commit listed (the head, when the listing is of the current head). */
  lastOid: string;
}

/**
 * The commits part of an answer to a query made with `commitsOf`, or null when it cannot stand in for the REST
 * listing: no pull request, a malformed answer, or more commits than one page holds (`totalCount` > 100).
 */
export function readCommitsAnswer(data: unknown): CommitsAnswer | null {
  const pullRequest = field(field(data, "repository"), "pullRequest");
  const headRefOid = field(pullRequest, "headRefOid");
  const commits = field(pullRequest, "commits");
  const totalCount = field(commits, "totalCount");
  const nodes = field(commits, "nodes");
  if (typeof headRefOid !== "string" || typeof totalCount !== "number" || !Array.isArray(nodes)) return null;
  if (totalCount > COMMITS_WITH_MODES || nodes.length !== totalCount) return null;
  const logins = new Set<string>();
  let lastOid = "";
  for (const node of nodes) {
    const commit = field(node, "commit");
    const oid = field(commit, "oid");
    if (typeof oid !== "string") return null;
    lastOid = oid;
    for (const who of [field(commit, "author"), field(commit, "committer")]) {
      const login = field(field(who, "user"), "login");
      if (typeof login === "string" && login !== "") logins.add(login);
    }
  }
  return { headRefOid, logins: [...logins], lastOid };
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
