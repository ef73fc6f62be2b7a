// `npm run schema`: regenerates schema/agent-gate.schema.json from the zod policy schema.
// test/policy/schema.test.ts fails when the committed file is stale.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { policyJsonSchemaText } from "../src/policy/config.js";

const target = fileURLToPath(new URL("../schema/agent-gate.schema.json", import.meta.url));
writeFileSync(target, policyJsonSchemaText());
console.log(`wrote ${target}`);
