#!/usr/bin/env bash
# Glow-TTS base training step: ttsd vs the authors' PyTorch implementation, side by side on one machine,
# same batch shape, same thread count, alternating rounds (results: bench/BENCHMARKS.md).
#   bash bench/train_step_vs_reference.sh GLOW_TTS_DIR [threads] [rounds] [build-dir]
# GLOW_TTS_DIR: a checkout of github.com/jaywalnut310/glow-tts. Its Cython alignment search is built here
# (cython3 and python3-dev come from deploy/install-deps.sh) with OpenMP, as in their setup, so their MAS
# is parallel over the batch like ours. Both sides run LibTorch 1.13.1 from Debian (python3-torch).
set -euo pipefail
ref=${1:?usage: bench/train_step_vs_reference.sh GLOW_TTS_DIR [threads] [rounds] [build-dir]}
threads=${2:-2}
rounds=${3:-3}
build=${4:-build}
shape="--batch-size 16 --text-length 100 --frames 400 --steps 3 --threads $threads"

ext=$(/usr/bin/python3-config --extension-suffix)
if [[ ! -f "$ref/monotonic_align/core$ext" ]]; then
  (cd "$ref/monotonic_align" && cython3 -3 core.pyx -o core.c >/dev/null &&
    gcc -O3 -fPIC -shared -fopenmp $(/usr/bin/python3-config --includes) \
      -I"$(/usr/bin/python3 -c 'import numpy; print(numpy.get_include())')" core.c -o "core$ext" 2>/dev/null)
fi

config=$(mktemp --suffix=.yaml -p examples)  # inside examples/ so the corpus path resolves
trap 'rm -f "$config"' EXIT
printf 'model:\n  preset: base\ndata:\n  path: ../corpus/slt\n' > "$config"

ours=(); theirs=()
for round in $(seq "$rounds"); do
  o=$("$build/server/ttsd" bench train-step --config "$config" $shape)
  t=$(/usr/bin/python3 -W ignore bench/reference_glow_tts.py --glow-tts-dir "$ref" $shape)
  echo "round $round"; echo "  ttsd:      $o"; echo "  reference: $t"
  ours+=("$(jq .frames_per_s <<<"$o")"); theirs+=("$(jq .frames_per_s <<<"$t")")
done
printf '%s\n' "${ours[@]}" | sort -g | awk '{a[NR]=$1} END {print "ttsd median frames/s: " a[int((NR+1)/2)]}'
printf '%s\n' "${theirs[@]}" | sort -g | awk '{a[NR]=$1} END {print "reference median frames/s: " a[int((NR+1)/2)]}'
paste <(printf '%s\n' "${ours[@]}") <(printf '%s\n' "${theirs[@]}") |
  awk '{r = $1 / $2; s += r; printf "round %d ratio %.3f\n", NR, r} END {printf "mean ratio ttsd/reference: %.3f\n", s / NR}'
