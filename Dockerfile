# syntax=docker/dockerfile:1
# The Agent Gate App as a container: docs/deploy.md. Build: `docker build -t agent-gate .`
# test/release/dockerfile.test.ts runs these same instructions (each COPY and RUN, then the CMD and the
# HEALTHCHECK) in clean directories, since Docker itself does not run on the project's CI machines. Keep RUN
# commands relative to WORKDIR so that test can run them as written.
ARG NODE_VERSION=24

# Compile TypeScript to dist/ with the development dependencies.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/clean-dist.mjs scripts/clean-dist.mjs
COPY src src
RUN npm run build

# Production dependencies only (npm's cache stays in this stage, out of the image).
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
# The embedded database's directory (used when DATABASE_URL is not set; mount a volume there).
RUN mkdir data

# The runtime: compiled code, production dependencies, migrations and the manifest, run as the `node` user.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=deps --chown=node:node /app/data data
COPY --from=build /app/dist dist
COPY migrations migrations
COPY app.yml app.yml
ENV PORT=3000 AGENT_GATE_DATA_DIR=/app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/app/server.js"]
