/**
 * The diff secret scan on real `git diff` output (made by git in a temp repository, not written by hand):
 * quoted paths, a `-diff` attribute, deletions and renames. The AWS key is AWS's own documented example id.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventLog, Shell } from "../src/exec.js";
import { Git } from "../src/git.js";
import { findSecretsInDiff, splitDiff, unquoteGitPath } from "../src/secret-scan.js";
import { git, makeRepo, type Fixture } from "./helpers.js";

const AWS_EXAMPLE_ID = "AKIAIOSFODNN7EXAMPLE";
const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

async function stagedDiff(edit: (workspace: string) => void): Promise<string> {
  const fx = makeRepo();
  fixtures.push(fx);
  edit(fx.workspace);
  const g = new Git(new Shell(new EventLog()), fx.workspace);
  await g.stageAll();
  return g.stagedDiff();
}

describe("the diff secret scan", () => {
  it("names file and line of each secret the catalogue knows, never the text", async () => {
    const diff = await stagedDiff((ws) => {
      writeFileSync(path.join(ws, "src", "app.js"), `console.log('v1');\nconst id = "${AWS_EXAMPLE_ID}";\n`);
      writeFileSync(path.join(ws, "key.pem"), "notes\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n");
    });
    const hits = findSecretsInDiff(diff);
    expect(hits).toEqual([
      { path: "key.pem", line: 2, what: "a private key" },
      { path: "src/app.js", line: 2, what: "an AWS access key id" },
    ]);
    expect(JSON.stringify(hits)).not.toContain(AWS_EXAMPLE_ID);
  });

  it("finds the run's own secret values even when the catalogue does not know their format", async () => {
    const value = "zq81-custom-vendor-credential-77";
    const diff = await stagedDiff((ws) => writeFileSync(path.join(ws, "config.txt"), `a\nb\nendpoint_secret_like ${value}\n`));
    expect(findSecretsInDiff(diff)).toEqual([]);
    expect(findSecretsInDiff(diff, [{ label: "the value of agent-env VENDOR_KEY", value }])).toEqual([{ path: "config.txt", line: 3, what: "the value of agent-env VENDOR_KEY" }]);
  });

  it("a -diff attribute in .gitattributes cannot hide a file as binary", async () => {
    const diff = await stagedDiff((ws) => {
      writeFileSync(path.join(ws, ".gitattributes"), "hidden.txt -diff\n");
      writeFileSync(path.join(ws, "hidden.txt"), `id=${AWS_EXAMPLE_ID}\n`);
    });
    expect(findSecretsInDiff(diff)).toEqual([{ path: "hidden.txt", line: 1, what: "an AWS access key id" }]);
  });

  it("reads quoted paths (tab, quote, non-ASCII) and skips deleted files; a rename is scanned under its new name", async () => {
    const diff = await stagedDiff((ws) => {
      mkdirSync(path.join(ws, "dir"));
      writeFileSync(path.join(ws, "dir", 'caf\u00e9 "q"\tx.txt'), `${AWS_EXAMPLE_ID}\n`);
      rmSync(path.join(ws, "old.txt"));
      renameSync(path.join(ws, "README.md"), path.join(ws, "READ.md"));
      writeFileSync(path.join(ws, "READ.md"), `# Demo\n${AWS_EXAMPLE_ID}\n`);
    });
    expect(diff).toContain('"b/dir/caf\u00e9 \\"q\\"\\tx.txt"');
    expect(findSecretsInDiff(diff).map((h) => `${h.path}:${h.line}`)).toEqual(["READ.md:2", 'dir/caf\u00e9 "q"\tx.txt:1']);
    expect(splitDiff(diff).some((f) => f.path === null)).toBe(true);
  });

  it("unquotes git's C-style escapes, octal bytes included", () => {
    expect(unquoteGitPath('"b/caf\\303\\251\\tx\\\\y"')).toBe("b/caf\u00e9\tx\\y");
    expect(unquoteGitPath("b/plain name")).toBe("b/plain name");
  });

  it("scans nothing but the staged diff: a secret already committed is not reported again", async () => {
    const fx = makeRepo();
    fixtures.push(fx);
    writeFileSync(path.join(fx.workspace, "old-secret.txt"), `${AWS_EXAMPLE_ID}\n`);
    git(fx.workspace, "add", "-A");
    git(fx.workspace, "commit", "-q", "-m", "history");
    writeFileSync(path.join(fx.workspace, "old-secret.txt"), `${AWS_EXAMPLE_ID}\nmore\n`);
    const g = new Git(new Shell(new EventLog()), fx.workspace);
    await g.stageAll();
    expect(findSecretsInDiff(await g.stagedDiff())).toEqual([]);
  });
});
