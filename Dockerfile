# flashsize in a container: build stage with the -dev packages, a slim
# runtime stage with only the shared libraries, running as a non-root user.
#   docker build -t flashsize .
#   docker run --rm -v "$PWD:/work" flashsize analyze /work/build/firmware.elf
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends make gcc libc6-dev pkg-config \
        libelf-dev libjansson-dev libinih-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY analyzer ./analyzer
RUN make -j"$(nproc)" build/flashsize

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libelf1 libjansson4 libinih1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home flashsize
COPY --from=build /src/build/flashsize /usr/local/bin/flashsize
COPY rules /usr/local/share/flashsize/rules
USER flashsize
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/flashsize"]
CMD ["--help"]
