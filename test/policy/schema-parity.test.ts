// The JSON Schema editors use (schema/agent-gate.schema.json, draft-07) and `agent-gate validate` must agree:
// the same files go to the CLI and to ajv (a JSON Schema validator that implements draft-07), and both must
// say valid or both invalid. `cli-only/` holds what JSON Schema cannot express (duplicate rule ids): the CLI
// rejects those, ajv accepts them, and docs/app.md says so.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { POLICY_SCHEMA_ID } from "../../src/policy/config.js";
import { cli } from "../cli/git-repo.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const CORPUS = path.join(ROOT, "test", "fixtures", "policy", "parity");
const schema = JSON.parse(readFileSync(path.join(ROOT, "schema", "agent-gate.schema.json"), "utf8")) as Record<string, unknown>;
// strict: any keyword ajv's draft-07 does not know (a 2020-12 leftover) fails compilation. strictRequired is off:
// `anyOf: [{ required: ["paths"] }, …]` is the standard way to say "one of these keys", the keys being declared
// in the rule's `properties` next to it rather than inside each branch.
const validate = new Ajv({ strict: true, strictRequired: false, allErrors: true }).compile(schema);

const files = (folder: string) => readdirSync(path.join(CORPUS, folder)).filter((f) => f.endsWith(".yml")).map((f) => path.join(CORPUS, folder, f));
const valid = [...files("valid"), path.join(ROOT, "examples", "agent-gate.yml")];
const invalid = files("invalid");
const cliOnly = files("cli-only");

/** What an editor validates: the YAML document as data (an empty document is no settings, as for the CLI). */
function ajvVerdict(file: string): boolean {
  return validate(parseYaml(readFileSync(file, "utf8")) ?? {});
}

/** `# error at line N: fragment` at the top of each invalid file: where and what the CLI must say. */
function expectedError(file: string): { line: number; fragment: string } {
  const match = /^# error at line (\d+): (.*)$/m.exec(readFileSync(file, "utf8"));
  if (!match) throw new Error(`${file} has no "# error at line N: …" header`);
  return { line: Number(match[1]), fragment: match[2]!.trim() };
}

describe("JSON Schema parity with agent-gate validate", () => {
  it("the schema is draft-07 with an $id, and compiles in ajv's strict mode", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.$id).toBe(POLICY_SCHEMA_ID);
    expect(invalid.length).toBeGreaterThanOrEqual(15);
  });

  it.each(valid.map((f) => [path.relative(ROOT, f), f]))("valid for both: %s", async (_name, file) => {
    const run = await cli(["validate", path.relative(ROOT, file)], ROOT);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(ajvVerdict(file), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(invalid.map((f) => [path.relative(CORPUS, f), f]))("invalid for both: %s", async (_name, file) => {
    const run = await cli(["validate", path.relative(ROOT, file)], ROOT);
    const { line, fragment } = expectedError(file);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(`${path.relative(ROOT, file)}:${line}: `);
    expect(run.stdout + run.stderr).toContain(fragment);
    expect(ajvVerdict(file)).toBe(false);
  });

  it.each(cliOnly.map((f) => [path.relative(CORPUS, f), f]))("what JSON Schema cannot say, only the CLI rejects: %s", async (_name, file) => {
    const run = await cli(["validate", path.relative(ROOT, file)], ROOT);
    const { line, fragment } = expectedError(file);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(`${path.relative(ROOT, file)}:${line}: `);
    expect(run.stdout + run.stderr).toContain(fragment);
    expect(ajvVerdict(file)).toBe(true);
  });
});
