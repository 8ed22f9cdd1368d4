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
LAT=$BUILD/bench/event_latency_bench
source bench/daemon_common.sh
sed -e "s|preset: small|preset: tiny|" -e "s|max_steps: .*|max_steps: 400|" "$TMP/job.yaml" > "$TMP/latency.yaml"

cpu_seconds() {  # user+system CPU seconds of a process so far
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

run_standalone() { "$TTSD" train --config "$TMP/job.yaml" --output-dir "$TMP/standalone-$1" > /dev/null 2>&1; }
# Also what the daemon itself spent on the CPU during the job (its share of the cores is what it can
# take from training): a bound on the overhead that does not depend on the run-to-run noise.
run_daemon() {
  local job before after
  before=$(cpu_seconds "$DAEMON")
  job=$("$TTSCTL" submit "$TMP/job.yaml" 2>/dev/null)
  "$TTSCTL" watch "$job" > /dev/null
  after=$(cpu_seconds "$DAEMON")
  ln -s "$TMP/dd/jobs/$job" "$TMP/daemon-$1"
  /usr/bin/python3 -c "
import json
rows = [json.loads(l) for l in open('$TMP/dd/jobs/$job/metrics.jsonl') if '\"step_s\"' in l]
train = sum(r['step_s'] for r in rows)
print(f'  daemon CPU during the job: {$after - $before:.2f} s, {($after - $before) / len(rows) * 1000:.1f} ms per step, '
      f'{($after - $before) / train * 100:.2f}% of the time spent in training steps ({train:.1f} s)')"
}

echo "== step time: standalone ttsd train vs a daemon job ($STEPS steps, quickstart model, $ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then run_standalone "$r"; run_daemon "$r"; else run_daemon "$r"; run_standalone "$r"; fi
  /usr/bin/python3 bench/paired_step_ratio.py "$TMP/standalone-$r/metrics.jsonl" "$TMP/daemon-$r/metrics.jsonl" \
    standalone daemon "$r"
done

echo "== event latency, worker -> watcher (tiny model, 400 steps, a progress event per step)"
for w in 1 100; do
  "$LAT" --addr "$TTSD_ADDR" --config "$TMP/latency.yaml" --watchers "$w"
done
"$LAT" --addr "$TTSD_ADDR" --config "$TMP/latency.yaml" --watchers 100 --separate
