/**
 * Lists functions longer than a limit (default 80 lines) in the given folders: the house's "short enough to read
 * at once" rule, measured. `npx tsx scripts/long-functions.ts src action/src [--max 80]`. Exits 0; prints offenders.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const args = process.argv.slice(2);
const maxAt = args.indexOf("--max");
const max = maxAt >= 0 ? Number(args[maxAt + 1]) : 80;
const roots = args.filter((_, i) => maxAt < 0 || (i !== maxAt && i !== maxAt + 1));

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith(".ts") && !path.endsWith(".d.ts")) yield path;
  }
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  return "(anonymous)";
}

const offenders: Array<{ where: string; name: string; lines: number }> = [];
for (const root of roots.length > 0 ? roots : ["src"]) {
  for (const path of files(root)) {
    const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && "body" in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = end - start + 1;
        if (lines > max) offenders.push({ where: `${path}:${start + 1}`, name: nameOf(node, source), lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}
offenders.sort((a, b) => b.lines - a.lines);
for (const o of offenders) console.log(`${String(o.lines).padStart(4)}  ${o.name}  ${o.where}`);
console.log(offenders.length === 0 ? `no function over ${max} lines` : `${offenders.length} function(s) over ${max} lines`);
