import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` writes migrations/ from src/store/schema.ts; the App and `agent-gate migrate`
// apply them to Postgres or PGlite alike. No credentials here: generation needs no database.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./migrations",
  strict: true,
  verbose: true,
});
