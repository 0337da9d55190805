# Sluice built from this repository.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts
COPY core core
COPY connectors connectors
COPY olap olap
COPY api api
COPY cli cli
COPY bench bench
RUN npx tsc -p . && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The web console's static files, read by dist/api/console at ../../../api/console/static.
COPY --from=build /app/api/console/static api/console/static
COPY package.json ./
EXPOSE 8080 6875
VOLUME /data
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run", "--config", "/etc/sluice/sluice.yaml"]
