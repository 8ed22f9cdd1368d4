#!/usr/bin/env bash
# The base training step, ttsd vs the authors' PyTorch implementation, side by side on one machine, same
# batch shape, same thread count, alternating rounds (results: bench/BENCHMARKS.md). The checkout decides
# the model: github.com/jaywalnut310/glow-tts (Glow-TTS) or github.com/jaywalnut310/vits (VITS, both
# optimizer steps in one step).
#   bash bench/train_step_vs_reference.sh REFERENCE_DIR [threads] [rounds] [build-dir]
# Their Cython alignment search is built here (cython3 and python3-dev come from deploy/install-deps.sh)
# with OpenMP, as in their setup, so their MAS is parallel over the batch like ours. Both sides run
# LibTorch 1.13.1 from Debian (python3-torch).
set -euo pipefail
ref=${1:?usage: bench/train_step_vs_reference.sh REFERENCE_DIR [threads] [rounds] [build-dir]}
threads=${2:-2}
rounds=${3:-3}
build=${4:-build}
if grep -q SynthesizerTrn "$ref/models.py"; then
  model="  type: vits\n  preset: base"; steps=1
  reference=(bench/reference_vits.py --vits-dir "$ref")
else
  model="  preset: base"; steps=3
  reference=(bench/reference_glow_tts.py --glow-tts-dir "$ref")
fi
shape="--batch-size 16 --text-length 100 --frames 400 --steps $steps --threads $threads"

ext=$(/usr/bin/python3-config --extension-suffix)
out=core$ext  # VITS's __init__ imports it from a package folder of the same name
grep -q "from .monotonic_align.core" "$ref/monotonic_align/__init__.py" && out=monotonic_align/core$ext
if [[ ! -f "$ref/monotonic_align/$out" ]]; then
  (cd "$ref/monotonic_align" && mkdir -p "$(dirname "$out")" && cython3 -3 core.pyx -o core.c >/dev/null &&
    gcc -O3 -fPIC -shared -fopenmp $(/usr/bin/python3-config --includes) \
      -I"$(/usr/bin/python3 -c 'import numpy; print(numpy.get_include())')" core.c -o "$out" 2>/dev/null)
fi

config=$(mktemp --suffix=.yaml -p examples)  # inside examples/ so the corpus path resolves
trap 'rm -f "$config"' EXIT
printf "model:\n$model\ndata:\n  path: ../corpus/slt\n" > "$config"

ours=(); theirs=()
for round in $(seq "$rounds"); do
  o=$("$build/server/ttsd" bench train-step --config "$config" $shape)
  t=$(/usr/bin/python3 -W ignore "${reference[@]}" $shape)
  echo "round $round"; echo "  ttsd:      $o"; echo "  reference: $t"
  ours+=("$(jq .frames_per_s <<<"$o")"); theirs+=("$(jq .frames_per_s <<<"$t")")
done
printf '%s\n' "${ours[@]}" | sort -g | awk '{a[NR]=$1} END {print "ttsd median frames/s: " a[int((NR+1)/2)]}'
printf '%s\n' "${theirs[@]}" | sort -g | awk '{a[NR]=$1} END {print "reference median frames/s: " a[int((NR+1)/2)]}'
paste <(printf '%s\n' "${ours[@]}") <(printf '%s\n' "${theirs[@]}") |
  awk '{r = $1 / $2; s += r; printf "round %d ratio %.3f\n", NR, r} END {printf "mean ratio ttsd/reference: %.3f\n", s / NR}'
