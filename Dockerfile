# One image for every Fairlead service, built to JavaScript and run with plain node:
#   docker run … fairlead node dist/<service>/main.js      (operator-api, intake, rotation, …)
#   docker run … fairlead node dist/fairlead-init/main.js <dir>…   (docker-compose.yml's one-shots)
#   docker run … fairlead node dist/fairlead-bootstrap/main.js credentials|servers <dir>
#   docker run … fairlead fairlead verify|replay|audit|events|projections …   (the operator's CLI: dist/fairlead/main.js;
#                                                     docker-compose.yml's `fairlead` tool runs it as its own database role)
# Configuration comes from the environment (.env.example lists every variable).
#
# Stages: manifests (package.json files and the lockfile only) → deps (npm ci, all) →
# build (sources, npm run build) → prod-deps (npm ci --omit=dev) → runtime. A change to the
# sources re-runs the build stage only: the npm ci layers depend on the manifests alone.

ARG NODE_IMAGE=node:20-bookworm-slim

# ── manifests: what npm ci needs, nothing else ────────────────────────────────
# Docker's COPY cannot keep the folders of a glob (services/*/package.json), so the
# manifests are picked out here; the next stages copy this stage's output, whose
# content (and so their cache) changes only when a manifest or the lockfile does.
# /out/runtime holds the production dependencies of libs/* and services/* only: the
# tooling workspaces (infra: npm start; libs/local-servers: its embedded PostgreSQL and
# nats-server; libs/testing, tests, benchmarks) stay out of the image.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /out/all /out/runtime \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /out/all/ \; \
 && cp package-lock.json /out/all/ \
 && cd /out/all \
 && find libs services -name package.json -not -path 'libs/testing/*' -not -path 'libs/local-servers/*' -exec cp --parents {} /out/runtime/ \; \
 && cp package-lock.json /out/runtime/ \
 && node -e 'const p = require("./package.json"); p.workspaces = ["libs/*", "services/*"]; delete p.devDependencies; delete p.scripts; require("fs").writeFileSync("/out/runtime/package.json", JSON.stringify(p, null, 2));'

# ── deps: every dependency, for the build ─────────────────────────────────────
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /out/all/ ./
# No install scripts: nothing the build uses needs one (esbuild's binary comes as an optional dependency).
RUN npm ci --ignore-scripts --no-audit --no-fund

# ── build: the sources, bundled to dist/<service>/main.js ─────────────────────
FROM deps AS build
COPY . .
RUN npm run build

# ── prod-deps: production dependencies only ───────────────────────────────────
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /out/runtime/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ── runtime ───────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service user: a compromised process cannot change its code.
COPY --from=prod-deps /app/ ./
COPY --from=build /app/dist ./dist
# Files the services read at run time, where their sources expect them (see infra/src/build/bundle.ts).
COPY --from=build /app/services/notification/templates ./services/notification/templates
# The state volume's mount point, the service user's (a new named volume mounted here takes
# its owner and mode); docker-compose.yml's fairlead-init prepares what is inside. The same for
# the secrets volume, which fairlead-bootstrap fills (infra/src/deploy/secrets.ts).
RUN install -d -o node -g node -m 0700 /var/lib/fairlead /var/lib/fairlead-secrets
# The operator's CLI on the PATH, as `fairlead` (its bundle: dist/fairlead/main.js, made by npm run build).
RUN printf '#!/bin/sh\nexec node --enable-source-maps /app/dist/fairlead/main.js "$@"\n' > /usr/local/bin/fairlead && chmod 0755 /usr/local/bin/fairlead
USER node
# The services' default HTTP ports (HTTP_PORT sets each); containers bind 0.0.0.0 (HTTP_HOST).
ENV HTTP_HOST=0.0.0.0
EXPOSE 7100-7107
# No default service: the orchestrator chooses (node dist/<service>/main.js).
CMD ["node", "-e", "console.error('run a service: node dist/<service>/main.js (operator-api, intake, rotation, fairness, billing, notification, ticket-workflow, relay)'); process.exit(64)"]
