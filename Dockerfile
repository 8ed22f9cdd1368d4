# ttsd image: build stage compiles with the project's own dependency script; the runtime stage carries
# only the shared libraries and tools ttsd needs at run time. Debian bookworm, CPU LibTorch 1.13.
#   docker build -t ttsd .
#   docker run --rm -v $PWD/corpus:/data ttsd data check --config /data/config.yaml
#   docker run -d --name ttsd -v ttsd-data:/var/lib/ttsd -v $PWD/corpus:/data ttsd    # the daemon
#   docker exec ttsd ttsctl submit /data/config.yaml ; docker exec ttsd ttsctl watch 1
FROM debian:bookworm AS build
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN bash deploy/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTTSD_BUILD_TESTS=OFF \
 && cmake --build /build -j "$(nproc)" \
 && install -D /build/server/ttsd /out/usr/local/bin/ttsd \
 && install -D /build/client/ttsctl /out/usr/local/bin/ttsctl \
 && install -D tools/make-corpus /out/usr/local/bin/ttsd-make-corpus

FROM debian:bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libtorch1.13 libopenblas0-pthread libgrpc++1.51 libprotobuf32 libyaml-cpp0.7 libsndfile1 libsoxr0 \
      libespeak-ng1 espeak-ng-data libspdlog1.10 libabsl20220623 libssl3 libsqlite3-0 zlib1g \
      libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us \
      espeak-ng flite sox python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/ttsd ttsd
COPY --from=build /out/ /
USER ttsd
ENV XDG_DATA_HOME=/var/lib/ttsd
# Jobs, checkpoints and the store live here: keep them on a volume.
VOLUME ["/var/lib/ttsd"]
# The gRPC health service over the default socket; NOT_SERVING during a graceful shutdown.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["ttsctl", "ping", "--timeout", "3"]
ENTRYPOINT ["ttsd"]
CMD ["serve"]
