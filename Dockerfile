# flashsize in a container (docs/server.md, "Docker"): a build stage with the
# -dev packages, a slim runtime stage with only the shared libraries, running
# as a non-root user.  By default it serves the size database on a volume:
#   docker build -t flashsize .
#   docker run -d -p 127.0.0.1:8080:8080 -v flashsize-data:/data --name flashsize flashsize
#   docker exec flashsize flashsize token create --db /data/sizes.db --project mpy
# The CLI works too:
#   docker run --rm -v "$PWD:/work" flashsize analyze /work/build/firmware.elf
# Base image pinned to a Debian point release (pin a digest for reproducible builds).
ARG DEBIAN_TAG=12.7-slim

# The packages come from the one list, scripts/deps.txt (groups build and run).
FROM debian:${DEBIAN_TAG} AS build
WORKDIR /src
COPY scripts/deps.txt scripts/install-deps.sh ./scripts/
RUN sh scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY Makefile ./
COPY analyzer ./analyzer
COPY server ./server
RUN make -j"$(nproc)" build/flashsize build/flashsize-full

FROM debian:${DEBIAN_TAG}
COPY scripts/deps.txt scripts/install-deps.sh /tmp/deps/
RUN sh /tmp/deps/install-deps.sh run \
 && rm -rf /var/lib/apt/lists/* /tmp/deps \
 && useradd --system --uid 10001 --no-create-home flashsize \
 && install -d -o flashsize -g flashsize -m 0750 /data
COPY --from=build /src/build/flashsize /src/build/flashsize-full /usr/local/bin/
COPY rules /usr/local/share/flashsize/rules
COPY web /usr/local/share/flashsize/web
USER flashsize
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/flashsize"]
CMD ["serve", "--db", "/data/sizes.db", "--listen", "0.0.0.0:8080"]
