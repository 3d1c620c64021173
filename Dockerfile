# One image for every Fairlead service; docker-compose.yml picks the process with
# `npx tsx services/<name>/src/main.ts`. TypeScript runs through tsx (no build step).
FROM node:20-bookworm-slim

WORKDIR /app
RUN chown node:node /app
USER node

# The whole tree before `npm ci`: npm workspaces need every workspace's package.json,
# and listing them one by one here would break each time a library or service is added.
# .dockerignore keeps node_modules, .data and .git out of the context.
COPY --chown=node:node . .
# Dev dependencies are installed too: tsx, which runs the services, is one of them.
RUN npm ci --no-audit --no-fund && npm cache clean --force

ENV NODE_ENV=production
# The services' HTTP ports (infra/src/services.ts).
EXPOSE 7100-7107
# No default service: docker-compose.yml (or `docker run … npx tsx services/<name>/src/main.ts`) chooses.
CMD ["node", "-e", "console.error('run a service: npx tsx services/<name>/src/main.ts'); process.exit(64)"]
