/**
 * The guard against postgres.js's uncatchable write to a closed connection (porsager/postgres#1208), driven with
 * the real throw: `nextWrite` in the installed postgres.js, reached through its module's own connection code on a
 * socket that is gone, in a child Node process (an uncaught exception ends a process; vitest's must not be it).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isPostgresJsClosedSocketWrite } from "../../src/store/postgres-js-guard.js";

const connectionJs = join(process.cwd(), "node_modules", "postgres", "src", "connection.js");

/** An error whose stack is the one Node prints for the crash (porsager/postgres#1154). */
function crashLike(file: string, fn = "nextWrite"): TypeError {
  const error = new TypeError("Cannot read properties of null (reading 'write')");
  error.stack = `TypeError: Cannot read properties of null (reading 'write')\n    at Immediate.${fn} (file://${file}:255:22)\n    at process.processImmediate (node:internal/timers:485:21)`;
  return error;
}

describe("postgres.js closed-socket guard", () => {
  it("the installed postgres.js still has the unguarded deferred write the guard is for (remove the guard when not)", () => {
    const source = readFileSync(connectionJs, "utf8");
    expect(source).toMatch(/function nextWrite\(fn\) \{\n\s+const x = socket\.write\(chunk, fn\)/);
    expect(source).toContain("setImmediate(nextWrite)");
  });

  it("recognises exactly the nextWrite throw from postgres.js's connection.js", () => {
    expect(isPostgresJsClosedSocketWrite(crashLike(connectionJs))).toBe(true);
    expect(isPostgresJsClosedSocketWrite(crashLike("/app/node_modules/postgres/cjs/src/connection.js"))).toBe(true);
    // The same message from our code, another function, another package, or another error type: not ours to swallow.
    expect(isPostgresJsClosedSocketWrite(crashLike("/app/src/store/store.ts"))).toBe(false);
    expect(isPostgresJsClosedSocketWrite(crashLike(connectionJs, "write"))).toBe(false);
    expect(isPostgresJsClosedSocketWrite(crashLike("/app/node_modules/pg/lib/connection.js"))).toBe(false);
    expect(isPostgresJsClosedSocketWrite(new Error("Cannot read properties of null (reading 'write')"))).toBe(false);
    expect(isPostgresJsClosedSocketWrite(new TypeError("Cannot read properties of null (reading 'end')"))).toBe(false);
  });

  const script = (throwWhat: string) => `
    import { guardPostgresJsClosedSocketWrite } from ${JSON.stringify(new URL("../../src/store/postgres-js-guard.ts", import.meta.url).pathname)};
    guardPostgresJsClosedSocketWrite(process, (e) => process.stdout.write("guarded: " + e.message + "\\n"));
    setImmediate(() => { ${throwWhat} });
    setTimeout(() => { process.stdout.write("still running\\n"); process.exit(0); }, 200);
  `;
  const run = (code: string) =>
    spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8", timeout: 60_000 });

  it("keeps the process running through the postgres.js throw, and ends it with code 1 on any other", () => {
    const fake = JSON.stringify(crashLike(connectionJs).stack);
    const guarded = run(script(`const e = new TypeError("Cannot read properties of null (reading 'write')"); e.stack = ${fake}; throw e;`));
    expect(guarded.stdout).toContain("guarded: Cannot read properties of null (reading 'write')");
    expect(guarded.stdout).toContain("still running");
    expect(guarded.status).toBe(0);

    const other = run(script(`throw new RangeError("something else broke");`));
    expect(other.stdout).not.toContain("still running");
    expect(other.stderr).toContain("RangeError: something else broke");
    expect(other.status).toBe(1);
  });
});
