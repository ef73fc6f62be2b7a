// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

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
  {
    // Pure rooms: no I/O, no GitHub, no database (DESIGN.md "Rooms and the rules between them").
    files: ["src/policy/**/*.ts", "src/telemetry/**/*.ts", "src/shared/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["node:fs", "node:fs/*", "fs", "fs/*", "node:net", "node:http", "node:https", "node:child_process"], message: "src/policy and src/telemetry are pure: no I/O." },
            { group: ["probot", "@octokit/*", "drizzle-orm", "drizzle-orm/*", "postgres", "@electric-sql/*"], message: "src/policy and src/telemetry are pure: no GitHub or database." },
            { group: ["**/github/**", "**/store/**", "**/app/**", "**/cli/**", "**/services/**", "**/action/**"], message: "src/policy and src/telemetry import nothing of the other rooms." },
          ],
        },
      ],
    },
  },
  {
    // src/shared: pure leaf helpers (limits, the secret catalogue, the Markdown escaper) every room may use; it uses none.
    files: ["src/shared/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["node:*", "fs", "fs/*", "probot", "@octokit/*", "drizzle-orm", "drizzle-orm/*", "postgres", "@electric-sql/*"], message: "src/shared is pure: no I/O, no GitHub, no database." },
            { group: ["../*", "**/policy/**", "**/telemetry/**", "**/github/**", "**/store/**", "**/app/**", "**/cli/**", "**/services/**", "**/action/**"], message: "src/shared imports no other room: every room imports it." },
          ],
        },
      ],
    },
  },
);
