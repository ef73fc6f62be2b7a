// Docker does not run on our machines, so this runs the Dockerfile's own instructions without it: the file is
// parsed with dockerfile-ast (the parser of VS Code's Docker language server), each stage gets a clean directory
// standing for its WORKDIR, COPY copies from the repository or from an earlier stage, RUN runs the command as
// written (sh -c), and the last stage's CMD is started twice, like compose.yaml's two replicas on one Postgres
// database, until the HEALTHCHECK command passes for both.
//
// Not verified here (needs Docker): the base image itself, USER (the `node` user does not exist on this machine;
// the test checks the instruction is there), `--chown` on COPY, EXPOSE and the HEALTHCHECK timings.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import type { Instruction } from "dockerfile-ast";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createPostgresDatabase } from "../helpers/db.js";
import type { PostgresTestDatabase } from "../helpers/db.js";
import { testPrivateKey } from "../helpers/github.js";
import { freePort } from "../helpers/net.js";
import { RELEASE_SKIP_REASON, RELEASE_TESTS, REPO_ROOT, cleanEnv, run, tempDir } from "./helpers.js";

const dockerfile = DockerfileParser.parse(readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8"));
const imageNode = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === "NODE_VERSION")?.getProperty()?.getValue() ?? "";
const sameNode = process.versions.node.split(".")[0] === imageNode;
const runIt = RELEASE_TESTS && sameNode;
const skipReason = !RELEASE_TESTS ? RELEASE_SKIP_REASON : `the image runs Node ${imageNode}, this is Node ${process.versions.node}`;

interface Stage {
  name: string;
  dir: string;
  workdir: string;
  env: Record<string, string>;
  instructions: Instruction[];
}

/** Splits the Dockerfile into its stages (FROM … AS name) with their instructions. */
function stages(root: string): Stage[] {
  const result: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === "FROM") {
      const name = /\bAS\s+(\S+)/i.exec(instruction.getArgumentsContent() ?? "")?.[1] ?? `stage${result.length}`;
      result.push({ name, dir: path.join(root, name), workdir: "", env: {}, instructions: [] });
    } else if (result.length > 0) {
      result.at(-1)!.instructions.push(instruction);
    }
  }
  return result;
}

const args = (instruction: Instruction) => instruction.getArguments().map((a) => a.getValue());
const flags = (instruction: Instruction): Record<string, string> =>
  Object.fromEntries(("getFlags" in instruction ? (instruction as Instruction & { getFlags(): Array<{ getName(): string; getValue(): string | null }> }).getFlags() : []).map((f) => [f.getName(), f.getValue() ?? ""]));

/** A path inside the image: under the stage's WORKDIR it is a path in the stage's directory. */
function hostPath(stage: Stage, imagePath: string): string {
  const absolute = path.posix.isAbsolute(imagePath) ? imagePath : path.posix.join(stage.workdir, imagePath);
  if (!stage.workdir || !(absolute === stage.workdir || absolute.startsWith(`${stage.workdir}/`))) throw new Error(`${imagePath} is outside WORKDIR ${stage.workdir}: this test cannot place it`);
  return path.join(stage.dir, path.posix.relative(stage.workdir, absolute));
}

function copy(stage: Stage, byName: Map<string, Stage>, instruction: Instruction): void {
  const [dest, ...sources] = args(instruction).reverse();
  const from = flags(instruction).from;
  for (const source of sources.reverse()) {
    const origin = from ? hostPath(byName.get(from)!, source) : path.join(REPO_ROOT, source);
    const target = dest!.endsWith("/") ? path.join(hostPath(stage, dest!), path.basename(source)) : hostPath(stage, dest!);
    expect(existsSync(origin), `COPY source ${source}`).toBe(true);
    cpSync(origin, target, { recursive: true });
  }
}

async function build(root: string): Promise<Stage> {
  const all = stages(root);
  const byName = new Map(all.map((s) => [s.name, s]));
  for (const stage of all) {
    mkdirSync(stage.dir, { recursive: true });
    for (const instruction of stage.instructions) {
      const keyword = instruction.getKeyword();
      if (keyword === "WORKDIR") stage.workdir = args(instruction)[0]!;
      if (keyword === "ENV") for (const p of (instruction as unknown as { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties()) stage.env[p.getName()] = p.getValue() ?? "";
      if (keyword === "COPY") copy(stage, byName, instruction);
      if (keyword === "RUN") {
        const command = instruction.getArgumentsContent()!;
        const result = await run("sh", ["-c", command], { cwd: stage.dir, env: cleanEnv(stage.env), timeoutMs: 600_000 });
        expect(result.code, `${stage.name}: RUN ${command}\n${result.stdout}\n${result.stderr}`).toBe(0);
      }
    }
  }
  return all.at(-1)!;
}

function jsonForm(instruction: Instruction, after = ""): string[] {
  const content = instruction.getArgumentsContent()!.replace(/\\\n\s*/g, "");
  return JSON.parse(content.slice(content.indexOf(after) + after.length).trim()) as string[];
}

describe("Dockerfile and compose.yaml, as far as they can be checked without Docker", () => {
  it("the Dockerfile is multi-stage, installs production dependencies only, runs as non-root, checks /healthz", () => {
    const names = stages("/").map((s) => s.name);
    expect(names).toEqual(["build", "deps", "runtime"]);
    const runtime = stages("/").at(-1)!;
    const keywords = runtime.instructions.map((i) => `${i.getKeyword()} ${i.getArgumentsContent()}`);
    expect(keywords).toContain("USER node");
    expect(stages("/")[1]!.instructions.map((i) => i.getArgumentsContent())).toContain("npm ci --omit=dev --no-audit --no-fund");
    expect(keywords.some((k) => /^COPY .*src/.test(k))).toBe(false);
    const healthcheck = runtime.instructions.find((i) => i.getKeyword() === "HEALTHCHECK")!;
    expect(jsonForm(healthcheck, "CMD").join(" ")).toMatch(/\/healthz/);
    expect(jsonForm(runtime.instructions.find((i) => i.getKeyword() === "CMD")!)).toEqual(["node", "dist/src/app/server.js"]);
  });

  it("compose.yaml: Postgres and two App replicas that reach it by service name, behind one port", () => {
    const compose = parseYaml(readFileSync(path.join(REPO_ROOT, "compose.yaml"), "utf8")) as { services: Record<string, Record<string, unknown>>; secrets: Record<string, unknown> };
    const app = compose.services.app as { build: string; deploy: { replicas: number }; environment: Record<string, string>; depends_on: Record<string, unknown> };
    expect(app.build).toBe(".");
    expect(app.deploy.replicas).toBe(2);
    expect(Object.keys(app.environment).sort()).toEqual(["APP_ID", "DATABASE_URL", "LOG_LEVEL", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET"]);
    const database = new URL(app.environment.DATABASE_URL!.replace("${POSTGRES_PASSWORD}", "pw"));
    expect([database.protocol, database.hostname, database.pathname]).toEqual(["postgres:", "postgres", "/agent_gate"]);
    expect(app.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(compose.services.postgres).toMatchObject({ environment: { POSTGRES_DB: "agent_gate", POSTGRES_USER: "agent_gate" } });
    const nginx = readFileSync(path.join(REPO_ROOT, "docs", "examples", "nginx.conf"), "utf8");
    expect(nginx).toMatch(/server app:3000;/);
    expect(readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8")).toMatch(/^EXPOSE 3000$/m);
  });

  describe.skipIf(!runIt)(`its commands, run in clean directories${runIt ? "" : ` (skipped: ${skipReason})`}`, () => {
    let root: string | undefined;
    let database: PostgresTestDatabase | undefined;
    const replicas: ChildProcess[] = [];
    afterAll(async () => {
      for (const child of replicas) child.kill("SIGKILL");
      await database?.drop();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it("builds each stage, then two replicas of the CMD on one Postgres database pass the HEALTHCHECK and stop on SIGTERM", async () => {
      root = tempDir("agent-gate-image-");
      const runtime = await build(root);
      expect(existsSync(path.join(runtime.dir, "node_modules", "typescript"))).toBe(false);
      expect(existsSync(path.join(runtime.dir, "node_modules", "probot"))).toBe(true);

      database = await createPostgresDatabase();
      const instructions = runtime.instructions;
      const [command, ...commandArgs] = jsonForm(instructions.find((i) => i.getKeyword() === "CMD")!);
      const healthcheck = jsonForm(instructions.find((i) => i.getKeyword() === "HEALTHCHECK")!, "CMD");
      const replicaEnv = async () =>
        cleanEnv({ ...runtime.env, AGENT_GATE_DATA_DIR: hostPath(runtime, runtime.env.AGENT_GATE_DATA_DIR!), PORT: String(await freePort()), APP_ID: "4242", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET: "compose-secret", DATABASE_URL: database!.url });
      const envs = [await replicaEnv(), await replicaEnv()];
      const output: string[] = [];
      for (const env of envs) {
        const child = spawn(command === "node" ? process.execPath : command!, commandArgs, { cwd: runtime.dir, env, stdio: ["ignore", "pipe", "pipe"] });
        child.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
        child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
        replicas.push(child);
      }
      for (const env of envs) {
        await expect
          .poll(async () => (await run(process.execPath, healthcheck.slice(1), { cwd: runtime.dir, env })).code, { timeout: 120_000, interval: 1_000 })
          .toBe(0);
      }
      expect(output.join("")).toMatch(/"msg":"Agent Gate is listening"/);
      for (const child of replicas) {
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        child.kill("SIGTERM");
        expect(await exited).toBe(0);
      }
    }, 900_000);
  });
});
