#!/bin/bash
# The daemon's costs, measured side by side (results in bench/BENCHMARKS.md):
#  1. step time of a job under `ttsd serve` vs the same config under standalone `ttsd train`, runs
#     alternated (median step_s from each run's metrics.jsonl, warm-up steps dropped);
#  2. event latency, worker log -> watcher receipt, p50/p99 with 1 and 100 watchers.
#   bash bench/daemon.sh [BUILD_DIR] [STEPS] [ROUNDS]
set -euo pipefail
BUILD=${1:-build}
STEPS=${2:-50}
ROUNDS=${3:-2}
TTSD=$BUILD/server/ttsd
TTSCTL=$BUILD/client/ttsctl
LAT=$BUILD/bench/event_latency_bench
CORPUS=$PWD/corpus/slt
[ -f "$CORPUS/metadata.csv" ] || { echo "no corpus: run make corpus first" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null; rm -rf "$TMP"' EXIT
DAEMON=0

# quickstart's model and data, fixed length, a log line every step, no validation until the end.
sed -e "s|path: ../corpus/slt|path: $CORPUS|" -e "s|max_steps: .*|max_steps: $STEPS|" \
    -e "s|log_interval: .*|log_interval: 1|" -e "s|^output_dir: .*|output_dir: $TMP/unused|" \
    -e "/^validation:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" \
    -e "/^checkpoint:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" examples/quickstart.yaml > "$TMP/step.yaml"
sed -e "s|preset: small|preset: tiny|" -e "s|max_steps: .*|max_steps: 400|" "$TMP/step.yaml" > "$TMP/latency.yaml"

"$TTSD" serve --data-dir "$TMP/dd" > "$TMP/serve.log" 2>&1 &
DAEMON=$!
export TTSD_ADDR="unix://$TMP/dd/ttsd.sock"
for _ in $(seq 1 100); do "$TTSCTL" ping --timeout 1 > /dev/null 2>&1 && break; sleep 0.2; done

median_step_s() {  # metrics.jsonl -> median step_s of steps > 10
  /usr/bin/python3 -c "
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '\"step_s\"' in l]
print(statistics.median(r['step_s'] for r in rows if r['step'] > 10))" "$1"
}

echo "== step time: standalone ttsd train vs a daemon job ($STEPS steps, quickstart model, $ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
  "$TTSD" train --config "$TMP/step.yaml" --output-dir "$TMP/standalone-$r" > /dev/null 2>&1
  s=$(median_step_s "$TMP/standalone-$r/metrics.jsonl")
  job=$("$TTSCTL" submit "$TMP/step.yaml" 2>/dev/null)
  "$TTSCTL" watch "$job" > /dev/null
  d=$(median_step_s "$TMP/dd/jobs/$job/metrics.jsonl")
  /usr/bin/python3 -c "print(f'round $r: standalone {$s:.4f} s/step, daemon {$d:.4f} s/step, ratio {$d/$s:.3f}')"
done

echo "== event latency, worker -> watcher (tiny model, 400 steps, a progress event per step)"
for w in 1 100; do
  "$LAT" --addr "$TTSD_ADDR" --config "$TMP/latency.yaml" --watchers "$w"
done
