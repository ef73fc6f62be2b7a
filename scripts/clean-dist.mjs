// `npm run build` starts from an empty dist/ so a deleted source file cannot linger in the package.
import { rmSync } from "node:fs";
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
