#!/usr/bin/env bash
# Log-mel throughput, ttsd vs torchaudio, on the same clips in one run (results: bench/BENCHMARKS.md).
#   bash bench/features.sh examples/quickstart.yaml [build-dir]
set -euo pipefail
config=${1:-examples/quickstart.yaml}
build=${2:-build}
data=$(cd "$(dirname "$config")" && cd "$(sed -n 's/^  path: //p' "$(basename "$config")" | head -1)" && pwd)
args="--clips 20 --clip-seconds 10 --repeats 5"
for round in 1 2; do
  echo "round $round"
  "$build/server/ttsd" bench features --config "$config" $args --threads 1 | tee /tmp/ttsd-bench-$$.txt
  /usr/bin/python3 bench/torchaudio_mel.py --data "$data" $args --threads 1 | tee /tmp/ta-bench-$$.txt
  t=$(grep -o '[0-9.e+]* frames/s per core' /tmp/ttsd-bench-$$.txt | cut -d' ' -f1)
  a=$(grep -o '[0-9.e+]* frames/s per core' /tmp/ta-bench-$$.txt | cut -d' ' -f1)
  awk -v t="$t" -v a="$a" 'BEGIN { printf "ratio ttsd/torchaudio: %.2f\n", t / a }'
done
rm -f /tmp/ttsd-bench-$$.txt /tmp/ta-bench-$$.txt
