# syntax=docker/dockerfile:1
#
# One image per service, built from the whole workspace:
#
#   docker build --build-arg SERVICE=auth -t platform/auth .
#
# and the same for every other folder services/NAME (SERVICE=NAME, image platform/NAME),
# those added with `just new-service NAME` included.
#
# Needs BuildKit (the default builder of current Docker) for the cache mounts: the cargo
# registry and the target directory survive between builds, so a code change recompiles only
# the workspace crates, not every dependency.
#
# librdkafka (in every service but the gateway) is compiled from source by rdkafka-sys with the rust image's C
# toolchain and linked statically, without TLS, SASL, zlib or zstd (the workspace turns those
# features off), so the runtime image needs nothing beyond glibc.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
ARG SERVICE
WORKDIR /src
COPY . .
# The target directory is a cache mount and is not part of the image, so the binary is
# copied out in the same step. `sharing=locked` serialises parallel builds (compose builds
# every service at once) instead of letting them corrupt one target directory. Every
# service's binary is named after its directory (services/<SERVICE>), so `--bin` alone picks
# the package; for an unknown SERVICE cargo lists the binaries there are.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    set -eu; \
    if [ -z "${SERVICE:-}" ]; then echo "build arg SERVICE is required, e.g. --build-arg SERVICE=auth" >&2; exit 1; fi; \
    cargo build --release --locked --bin "$SERVICE"; \
    install -D -m 0755 "target/release/$SERVICE" /out/service

# glibc and libgcc, CA certificates and tzdata; no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/service /app/service
# Containers log one JSON object per line; override with LOG_FORMAT=pretty.
ENV LOG_FORMAT=json
# glibc's mmap threshold fixed at its initial 128 KiB: otherwise it rises after the first large
# free, and later large buffers (the gateway meets them in uploads) stay in heap arenas glibc
# keeps, so RSS drifts from load to load. No throughput cost measured (docs/benchmarks.md, "Memory under
# load: every service"); devstack processes sets the same for its children.
ENV MALLOC_MMAP_THRESHOLD_=131072
# 65532 is distroless's `nonroot`; numeric so Kubernetes' runAsNonRoot can check it.
USER 65532:65532
# No HEALTHCHECK: health is the orchestrator's job (Kubernetes probes the ops port; compose
# runs `/app/service health`, which asks the process's own /healthz).
ENTRYPOINT ["/app/service"]
