# syntax=docker/dockerfile:1
# Build: docker build --build-arg VERSION=$(git describe --always --dirty) -t bankfeed .
# Run:   docker run -p 8080:8080 -v bankfeed-data:/data bankfeed serve --demo
#        (a trial on this machine: --demo refuses a public issuer or PostgreSQL, see README "Docker")
# Two replicas on PostgreSQL behind a TLS proxy: deploy/docker-compose.yml.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not re-download them.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# The SQLite driver is pure Go, so the binary is static and needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=${VERSION}" \
	-o /out/bankfeed ./cmd/bankfeed
# The data directory must exist and belong to the runtime user (distroless
# has no shell to create it later).
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bankfeed /usr/local/bin/bankfeed
COPY --from=build --chown=65532:65532 /out/data /data
ENV BANKFEED_DATA_DIR=/data \
	BANKFEED_ADDR=:8080
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
# Exec form: distroless has no shell (nor curl); the binary probes its own
# GET /readyz at BANKFEED_ADDR and exits 0 or 1.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
	CMD ["/usr/local/bin/bankfeed", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/bankfeed"]
CMD ["serve"]
