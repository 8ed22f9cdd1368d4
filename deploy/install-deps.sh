#!/usr/bin/env bash
# Installs every Debian package that building, testing and the demo need.
# Idempotent: a second run on a machine that has everything does no apt work.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git libssl-dev zlib1g-dev
  # LibTorch (CPU) and the headers its distributed code includes
  libtorch-dev libgloo-dev libopenblas0-pthread
  # gRPC / protobuf
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # libraries
  libabsl-dev libspdlog-dev libsqlite3-dev libyaml-cpp-dev libsndfile1-dev libsoxr-dev
  libespeak-ng-dev libicu-dev libcli11-dev nlohmann-json3-dev
  # tests and benchmarks; clang and its runtimes for the libFuzzer targets (make fuzz)
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # speech tools: corpus generation, recognition, audio conversion
  espeak-ng flite sox pocketsphinx pocketsphinx-en-us libpocketsphinx-dev libsphinxbase-dev
  # Python side: torchaudio golden values and the reference benchmark, example gRPC client
  python3 python3-numpy python3-torchaudio python3-grpcio python3-protobuf
  # the daemon tests: a self-signed certificate for the TLS listener
  openssl
  # the authors' Glow-TTS alignment search (Cython), for bench/train_step_vs_reference.sh
  cython3 python3-dev jq
)

# PyPI, for what Debian lacks: the real TensorBoard, whose event reader checks the event files ttsd writes
# (tests/core/tensorboard). Installed for the `python3` first on PATH, the one the tests run.
install_pypi() {
  python3 -c 'import tensorboard' 2>/dev/null && return 0
  echo "install-deps: pip install tensorboard"
  python3 -m pip --version >/dev/null 2>&1 || { $SUDO apt-get install -y -qq --no-install-recommends python3-pip; }
  python3 -m pip install -q tensorboard 2>/dev/null || python3 -m pip install -q --break-system-packages tensorboard
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  install_pypi
  exit 0
fi

if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_pypi
echo "install-deps: done"
