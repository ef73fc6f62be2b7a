// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const IO_MODULES = ["node:*", "fs", "fs/*", "net", "http", "https", "child_process", "probot", "@octokit/*", "drizzle-orm", "drizzle-orm/*", "postgres", "@electric-sql/*"];
const EDGES = ["app", "web", "cli", "action"];

/** Each room, the rooms it must not import, and whether it must stay pure (no I/O modules). */
const ROOMS = [
  { files: ["src/shared/**/*.ts"], forbid: ["policy", "telemetry", "github", "store", "services", ...EDGES], io: true, why: "src/shared is a pure leaf every room uses" },
  { files: ["src/policy/**/*.ts"], forbid: ["telemetry", "github", "store", "services", ...EDGES], io: true, why: "src/policy is pure" },
  { files: ["src/telemetry/**/*.ts"], forbid: ["policy", "github", "store", "services", ...EDGES], io: true, why: "src/telemetry is pure" },
  { files: ["src/github/**/*.ts"], forbid: ["telemetry", "store", "services", ...EDGES], io: false, why: "src/github is the GitHub adapter" },
  { files: ["src/store/**/*.ts"], forbid: ["telemetry", "github", "services", ...EDGES], io: false, why: "src/store is the storage room" },
  { files: ["src/services/**/*.ts"], forbid: EDGES, io: false, why: "src/services sits below the edges" },
  { files: ["src/cli/**/*.ts"], forbid: ["app", "web", "action"], io: false, why: "src/cli is an edge" },
  { files: ["src/app/**/*.ts"], forbid: ["cli", "action"], io: false, why: "src/app is an edge" },
  { files: ["src/web/**/*.ts"], forbid: ["cli", "action"], io: false, why: "src/web (the compliance pages) is an edge" },
  { files: ["action/src/**/*.ts"], forbid: ["src/github", "src/store", "src/services", "src/app", "src/web", "src/cli"], io: false, why: "the action may import only the pure rooms" },
];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "coverage/", ".data/", "action/dist/", "migrations/", "bench/.out/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JS entry points (bin/, action/build.mjs) run on Node: give eslint Node's globals.
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ["src/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  // Rooms (DESIGN.md "Rooms and the rules between them", docs/architecture.md): dependencies point inward,
  // app/cli/action -> services -> (github, store, policy, telemetry) -> shared. One block per room.
  ...ROOMS.map(({ files, forbid, io, why }) => ({
    files,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...(io ? [{ group: IO_MODULES, message: `${why}: no I/O, no GitHub, no database.` }] : []),
            { group: forbid.map((room) => `**/${room}/**`), message: `${why}: it may not import ${forbid.join(", ")}.` },
          ],
        },
      ],
    },
  })),
  {
    // Type-aware rules on the product code: a switch over a union handles every member (or says `default`),
    // no promise is dropped on the floor, no assertion says what the type already says.
    files: ["src/**/*.ts", "action/src/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
    },
  },
);
