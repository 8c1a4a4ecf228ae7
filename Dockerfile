# dialhub gateway. Built by docker-compose.yml; runs against the Redis and Postgres it names.

# Build stage: the whole toolchain, to bundle the gateway into dist/main.js (npm run build).
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Run stage: production dependencies only (the bundle leaves a few packages external: embedded
# Postgres, pino) and the bundle with its Lua scripts. No TypeScript compiler at run time.
FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist

# DATA_DIR holds generated secrets when DEVICE_TOKEN_SECRET / ADMIN_TOKEN are not given (and
# embedded Postgres when DATABASE_URL is not): a volume, owned by the unprivileged user.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node

EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# What `npm start` runs, without npm in between: npm does not pass SIGTERM on to the script (it
# exits and leaves the gateway running), so `docker stop` would never let the gateway drain.
# Node handles SIGTERM itself; compose adds an init process (init: true) to forward it.
CMD ["node", "dist/main.js"]
