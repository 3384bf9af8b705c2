# The gateway image: built for the platform it runs on (linux/arm64 for Fargate ARM64, or
# linux/amd64), e.g.  docker buildx build --platform linux/arm64,linux/amd64 -t gateway:dev .
# Stage 1 compiles only the gateway crate in release mode; stage 2 is a small runtime with the
# binary, CA certificates and a non-root user. The ECS health check runs `gateway health`.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# Manifests first, so a change to the sources alone reuses the dependency layer.
COPY Cargo.toml Cargo.lock ./
COPY gateway/Cargo.toml gateway/Cargo.toml
COPY provisioner/Cargo.toml provisioner/Cargo.toml
COPY tests/Cargo.toml tests/Cargo.toml
RUN mkdir -p gateway/src provisioner/src tests/src \
    && echo 'fn main() {}' > gateway/src/main.rs && touch gateway/src/lib.rs \
    && echo 'fn main() {}' > provisioner/src/main.rs && touch provisioner/src/lib.rs tests/src/lib.rs \
    && cargo build --release --locked -p gateway \
    && rm -rf gateway/src provisioner/src tests/src
COPY gateway gateway
# The fake sources above left fingerprints newer than nothing: touch makes cargo rebuild ours.
RUN touch gateway/src/main.rs gateway/src/lib.rs \
    && cargo build --release --locked -p gateway \
    && install -m 0755 target/release/gateway /usr/local/bin/gateway

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/gateway --create-home gateway
COPY --from=build /usr/local/bin/gateway /usr/local/bin/gateway
USER 10001:10001
WORKDIR /var/lib/gateway
# Kong's defaults: proxy on 8000; the Admin API stays on loopback unless KONG_ADMIN_LISTEN says.
ENV KONG_PROXY_LISTEN=0.0.0.0:8000 \
    KONG_ADMIN_LISTEN=127.0.0.1:8001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["gateway", "health"]
ENTRYPOINT ["gateway"]
CMD ["start"]
