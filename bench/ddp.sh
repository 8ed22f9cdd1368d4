#!/bin/bash
# Data-parallel scaling on one machine (results in bench/BENCHMARKS.md): the quickstart model for STEPS
# steps as one process with one thread, as two ranks (Gloo on loopback) with one thread each, on the
# same global batches, and as one process with two threads; median step time of each (rank 0's step
# includes the gradient all-reduce) and the speed-ups, the order rotated over ROUNDS rounds.
#   bash bench/ddp.sh [BUILD_DIR] [STEPS] [ROUNDS]
set -euo pipefail
BUILD=${1:-build}
STEPS=${2:-40}
ROUNDS=${3:-2}
TTSD=$BUILD/server/ttsd
CORPUS=$PWD/corpus/slt
[ -f "$CORPUS/metadata.csv" ] || { echo "no corpus: run make corpus first" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sed -e "s|path: ../corpus/slt|path: $CORPUS|" -e "s|max_steps: .*|max_steps: $STEPS|" \
    -e "s|log_interval: .*|log_interval: 1|" -e "s|^output_dir: .*|output_dir: $TMP/unused|" \
    -e "/^validation:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" \
    -e "/^checkpoint:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" examples/quickstart.yaml > "$TMP/one.yaml"
cp "$TMP/one.yaml" "$TMP/two.yaml"
printf "distributed:\n  world_size: 2\n" >> "$TMP/two.yaml"

one() { "$TTSD" train --config "$TMP/one.yaml" --output-dir "$TMP/one-$1" --threads 1 > /dev/null 2>&1; }
threads() { "$TTSD" train --config "$TMP/one.yaml" --output-dir "$TMP/threads-$1" --threads 2 > /dev/null 2>&1; }
two() {
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$((29600 + $1)) WORLD_SIZE=2 RANK=1 \
    "$TTSD" train --config "$TMP/two.yaml" --output-dir "$TMP/two-$1" --threads 1 > /dev/null 2>&1 &
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$((29600 + $1)) WORLD_SIZE=2 RANK=0 \
    "$TTSD" train --config "$TMP/two.yaml" --output-dir "$TMP/two-$1" --threads 1 > /dev/null 2>&1
  wait
}
echo "== $STEPS steps, quickstart model: 1 process x 1 thread, 2 ranks x 1 thread, 1 process x 2 threads ($ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
  case $((r % 3)) in
    1) one "$r"; two "$r"; threads "$r" ;;
    2) two "$r"; threads "$r"; one "$r" ;;
    0) threads "$r"; one "$r"; two "$r" ;;
  esac
  /usr/bin/python3 - "$TMP/one-$r/metrics.jsonl" "$TMP/two-$r/metrics.jsonl" "$TMP/threads-$r/metrics.jsonl" "$r" <<'PY'
import json, statistics, sys
def steps(p):
    return {r["step"]: r for r in map(json.loads, open(p)) if "step_s" in r and r["step"] > 5}
a, b, c = steps(sys.argv[1]), steps(sys.argv[2]), steps(sys.argv[3])
sa, sb, sc = (statistics.median(r["step_s"] for r in x.values()) for x in (a, b, c))
last = max(set(a) & set(b))
print(f"round {sys.argv[4]}: 1 rank {sa:.3f} s/step, 2 ranks {sb:.3f} s/step ({sa / sb:.2f}x), "
      f"1 process x 2 threads {sc:.3f} s/step ({sa / sc:.2f}x); "
      f"train/loss at step {last}: 1 rank {a[last]['train/loss']:.4f}, 2 ranks {b[last]['train/loss']:.4f}")
PY
done
