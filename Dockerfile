# ttsd image: the build stage compiles with the project's own dependency script; the runtime stage
# carries only the shared libraries and tools ttsd needs at run time (tests/deploy/dockerfile_test.py
# checks both lists against install-deps.sh and the binaries' ldd). Debian bookworm.
#   docker build -t ttsd .                                  # CPU: Debian's LibTorch 1.13
#   docker build -t ttsd:cuda --build-arg LIBTORCH_URL=https://download.pytorch.org/libtorch/cu121/libtorch-cxx11-abi-shared-with-deps-2.3.1%2Bcu121.zip .
#   docker run --rm -v $PWD/corpus:/data ttsd data check --config /data/config.yaml
#   docker run -d --name ttsd -v ttsd-data:/var/lib/ttsd -v $PWD/corpus:/data ttsd    # the daemon
#   docker run -d --gpus all ... ttsd:cuda serve --allowed-roots /var/lib/ttsd,/data --devices cuda:0
#   docker exec ttsd ttsctl submit /data/config.yaml ; docker exec ttsd ttsctl watch 1

# An official LibTorch zip (cxx11 ABI, "shared-with-deps": it carries the CUDA runtime, cuDNN and NCCL)
# builds a GPU image against it; the build stage then also installs the matching CUDA toolkit from
# NVIDIA's Debian 12 repository (LibTorch's CMake config needs nvcc and the headers). Empty: CPU.
ARG LIBTORCH_URL=
ARG CUDA_TOOLKIT=cuda-toolkit-12-1

FROM debian:bookworm AS build
ARG LIBTORCH_URL
ARG CUDA_TOOLKIT
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN bash deploy/install-deps.sh && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /opt/libtorch/lib && if [ -n "$LIBTORCH_URL" ]; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends curl unzip ca-certificates gnupg \
      && curl -fsSL https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/cuda-keyring_1.1-1_all.deb -o /tmp/keyring.deb \
      && dpkg -i /tmp/keyring.deb && apt-get update -qq && apt-get install -y -qq --no-install-recommends "$CUDA_TOOLKIT" \
      && curl -fsSL "$LIBTORCH_URL" -o /tmp/libtorch.zip && rm -rf /opt/libtorch && unzip -q /tmp/libtorch.zip -d /opt \
      && rm -rf /tmp/libtorch.zip /var/lib/apt/lists/*; \
    fi
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTTSD_BUILD_TESTS=OFF \
      ${LIBTORCH_URL:+-DCMAKE_PREFIX_PATH=/opt/libtorch -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc} \
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
# Empty for the CPU image; the official LibTorch and its CUDA libraries for a GPU image.
COPY --from=build /opt/libtorch/lib /opt/libtorch/lib
ENV LD_LIBRARY_PATH=/opt/libtorch/lib
COPY --from=build /out/ /
USER ttsd
ENV XDG_DATA_HOME=/var/lib/ttsd
# Jobs, checkpoints and the store live here: keep them on a volume.
VOLUME ["/var/lib/ttsd"]
# The gRPC health service over the default socket; NOT_SERVING during a graceful shutdown.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["ttsctl", "ping", "--timeout", "3"]
ENTRYPOINT ["ttsd"]
# Jobs may read and write only under these: the data volume and the datasets mounted at /data.
CMD ["serve", "--allowed-roots", "/var/lib/ttsd,/data"]
