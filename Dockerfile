# Cairn server image. Build: docker build -t cairn .   Run: see compose.yaml.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# .npmrc skips onnxruntime-node's optional GPU download (its CPU binaries are in the npm package).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# git serves Letta Code's git-backed memory (/v1/git/{agent_id}/state.git).
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production CAIRN_HOME=/data HOST=0.0.0.0 PORT=8283
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
VOLUME /data
EXPOSE 8283
USER node
# Binding 0.0.0.0 needs LETTA_SERVER_PASSWORD (or CAIRN_ALLOW_INSECURE_REMOTE=true); Cairn refuses otherwise.
CMD ["node", "dist/cli/main.js", "serve"]
