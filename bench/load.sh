#!/bin/bash
# Load on the daemon while a job trains (results in bench/BENCHMARKS.md): the same job alone (one
# `ttsctl watch`) and under load_bench (W watchers on connections of their own + N submit/list/status
# calls at R per second), alternated; the paired per-step ratio of the two, and load_bench's line
# (events missed, call latency, the daemon's peak RSS).
#   bash bench/load.sh [BUILD_DIR] [STEPS] [ROUNDS] [WATCHERS] [CALLS] [RATE]
# WATCHERS=0 and CALLS=0 is the control: both runs alone, so the ratio shows the machine's own noise.
# SERVE_FLAGS adds `ttsd serve` flags (e.g. --worker-threads 1); LOAD_PREFIX replaces the load
# generator's `nice -n 19` (e.g. "chrt --idle 0").
set -euo pipefail
BUILD=${1:-build}
STEPS=${2:-300}
ROUNDS=${3:-2}
WATCHERS=${4:-100}
CALLS=${5:-1000}
RATE=${6:-20}
source bench/daemon_common.sh

alone() {
  local job
  job=$("$TTSCTL" submit "$TMP/job.yaml" 2>/dev/null)
  "$TTSCTL" watch "$job" > "$TMP/watch-$1.log" || { tail -5 "$TMP/watch-$1.log"; exit 1; }
  ln -s "$TMP/dd/jobs/$job" "$TMP/alone-$1"
}
loaded() {
  # The load generator runs at the lowest priority: on a 2-core machine its own hundred streams would
  # otherwise take CPU from training that the daemon never used (it reports its CPU and the daemon's).
  ${LOAD_PREFIX:-nice -n 19} "$BUILD/bench/load_bench" --addr "$TTSD_ADDR" --config "$TMP/job.yaml" --daemon-pid "$DAEMON" \
    --watchers "$WATCHERS" --calls "$CALLS" --rate "$RATE" | tee "$TMP/load-$1.json"
  ln -s "$TMP/dd/jobs/$(/usr/bin/python3 -c "import json; print(json.load(open('$TMP/load-$1.json'))['job'])")" "$TMP/loaded-$1"
  # The 1-step jobs the calls submitted were cancelled; let the queue drain before the next round.
  sleep 2
}

echo "== $STEPS steps alone vs under $WATCHERS watchers + $CALLS calls at $RATE/s ($ROUNDS rounds, quickstart model)"
for r in $(seq 1 "$ROUNDS"); do
  if [ "$WATCHERS" -eq 0 ] && [ "$CALLS" -eq 0 ]; then
    alone "$r"; mv "$TMP/alone-$r" "$TMP/first-$r"; alone "$r"
    /usr/bin/python3 bench/paired_step_ratio.py "$TMP/first-$r/metrics.jsonl" "$TMP/alone-$r/metrics.jsonl" alone alone-again "$r"
    continue
  fi
  if [ $((r % 2)) -eq 1 ]; then alone "$r"; loaded "$r"; else loaded "$r"; alone "$r"; fi
  /usr/bin/python3 bench/paired_step_ratio.py "$TMP/alone-$r/metrics.jsonl" "$TMP/loaded-$r/metrics.jsonl" alone loaded "$r"
done
