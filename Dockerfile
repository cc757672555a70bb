# syntax=docker/dockerfile:1.7
# ortline gateway image, for those who build with a registry at hand: build the Rust addon and
# the TypeScript packages with the same script CI and developers run (scripts/setup.sh), then copy
# only what serving needs into a slim runtime: the gateway, its production dependencies, the
# addon, ONNX Runtime's library (from the onnxruntime-node package) and the model repository
# (models/, training pipeline excluded). Without a registry or an engine, scripts/image.sh builds
# the smaller, distroless image from Debian's packages instead (README: "Container image").
#
#   docker build -t ortline/gateway:0.1.0 .
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp ortline/gateway:0.1.0
#
# Build arguments:
#   RUNTIME_BASE  the runtime stage's base: Debian with Node at /usr/local/bin/node (the chart's
#                 preStop hook runs it), useradd and a shell for RUN.
#   APP           where the app comes from: the build stage (default), or an image that holds it
#                 at /app already (the image scripts/image.sh builds does), in which case the
#                 build stages are skipped. scripts/test/image.test.ts builds this file with
#                 `podman build --pull=never` from the Debian base that scripts/image.sh makes.
#
# linux/amd64 only: the addon's napi target is x86_64-unknown-linux-gnu (packages/scorer).
# The runtime is Node 20 because the uWebSockets.js build in use ships binaries for Node 20's ABI.
# Checked in CI by hadolint and charts/test/dockerfile.test.ts; see charts/README.md.

ARG NODE_VERSION=20.20.2
ARG RUST_VERSION=1.95.0
ARG RUNTIME_BASE=node:${NODE_VERSION}-bookworm-slim
ARG APP=build

# Rust toolchain, taken whole from the official image (same Debian release as the build stage).
FROM rust:${RUST_VERSION}-bookworm AS rust

FROM node:${NODE_VERSION}-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=rust /usr/local/cargo /usr/local/cargo
COPY --from=rust /usr/local/rustup /usr/local/rustup
# CI=true: pnpm and napi run non-interactively, as in CI.
ENV CARGO_HOME=/usr/local/cargo \
    RUSTUP_HOME=/usr/local/rustup \
    PATH=/usr/local/cargo/bin:$PATH \
    CI=true
WORKDIR /src
COPY . .
# The same set-up as CI: pnpm (pinned), `pnpm install --frozen-lockfile`, napi build of the addon,
# tsc. Caches keep the pnpm store, cargo's registry and the Rust target dir between builds.
RUN --mount=type=cache,target=/root/.local/share/pnpm/store \
    --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    bash scripts/setup.sh
# A self-contained copy of @ortline/cli (the `ortline` command, with the gateway it serves) with
# production dependencies only (workspace packages copied by their `files`: dist/, bin/, the
# scorer's native/*.node), then drop the binaries of
# other platforms that onnxruntime-node and uWebSockets.js ship (about 300 MB).
RUN --mount=type=cache,target=/root/.local/share/pnpm/store \
    pnpm --filter @ortline/cli deploy --prod --legacy /app \
 && ort=$(echo /app/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6) \
 && find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} + \
 && find /app/node_modules/.pnpm -name 'uws_*.node' ! -path '*/binaries/uws_linux_x64_115.node' -delete \
 && test -f "$ort/linux/x64/libonnxruntime.so.1" \
 && test -f /app/node_modules/@ortline/scorer/native/ortline.linux-x64-gnu.node \
 && chmod -R a+rX,go-w /app

# The app: the build stage above, or a prebuilt image given as APP.
FROM ${APP} AS app

FROM ${RUNTIME_BASE} AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# A numeric, unprivileged user (> 10000, so it matches no host account) that owns nothing in the
# image: the app and the models are root-owned and read-only to it, so the container runs with a
# read-only root filesystem (the gateway writes only to stdout; /tmp is a tmpfs or emptyDir).
RUN groupadd --system --gid 10001 ortline \
 && useradd --system --uid 10001 --gid ortline --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ortline
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MODELS_DIR=/app/models
WORKDIR /app
COPY --from=app --chown=root:root /app /app
COPY --chown=root:root models /app/models
USER 10001:10001
EXPOSE 8080
# /healthz answers as soon as the process listens; Kubernetes uses its own probes (/healthz for
# liveness, /readyz for readiness) and ignores this one.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec form: node is PID 1 and gets SIGTERM itself; the gateway handles it (drain, then exit 0).
ENTRYPOINT ["node", "/app/bin/ortline.js"]
CMD ["serve"]
