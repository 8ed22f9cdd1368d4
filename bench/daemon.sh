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
DAEMON=""
trap '[ -n "$DAEMON" ] && { kill -TERM "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; }; rm -rf "$TMP"' EXIT

# quickstart's model and data, fixed length, a log line every step, no validation until the end.
sed -e "s|path: ../corpus/slt|path: $CORPUS|" -e "s|max_steps: .*|max_steps: $STEPS|" \
    -e "s|log_interval: .*|log_interval: 1|" -e "s|^output_dir: .*|output_dir: $TMP/unused|" \
    -e "/^validation:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" \
    -e "/^checkpoint:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" examples/quickstart.yaml > "$TMP/step.yaml"
sed -e "s|preset: small|preset: tiny|" -e "s|max_steps: .*|max_steps: 400|" "$TMP/step.yaml" > "$TMP/latency.yaml"

"$TTSD" serve --data-dir "$TMP/dd" --allowed-roots "$TMP,$PWD" > "$TMP/serve.log" 2>&1 &
DAEMON=$!
export TTSD_ADDR="unix://$TMP/dd/ttsd.sock"
for _ in $(seq 1 100); do "$TTSCTL" ping --timeout 1 > /dev/null 2>&1 && break; sleep 0.2; done

# Both runs train on the same batches in the same order (same seed), so step i costs the same work in
# each: the median over steps of daemon/standalone is a paired ratio, robust to a noisy moment in one run.
paired() {  # standalone metrics.jsonl, daemon metrics.jsonl, round
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, statistics, sys
def steps(path):
    return {r["step"]: r["step_s"] for r in map(json.loads, open(path)) if "step_s" in r and r["step"] > 10}
s, d = steps(sys.argv[1]), steps(sys.argv[2])
common = sorted(set(s) & set(d))
ratio = statistics.median(d[i] / s[i] for i in common)
print(f"round {sys.argv[3]}: standalone {statistics.median(s.values()):.4f} s/step, "
      f"daemon {statistics.median(d.values()):.4f} s/step, paired per-step ratio {ratio:.3f} ({len(common)} steps)")
PY
}

cpu_seconds() {  # user+system CPU seconds of a process so far
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

run_standalone() { "$TTSD" train --config "$TMP/step.yaml" --output-dir "$TMP/standalone-$1" > /dev/null 2>&1; }
# Also what the daemon itself spent on the CPU during the job (its share of the cores is what it can
# take from training): a bound on the overhead that does not depend on the run-to-run noise.
run_daemon() {
  local job before after
  before=$(cpu_seconds "$DAEMON")
  job=$("$TTSCTL" submit "$TMP/step.yaml" 2>/dev/null)
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
  paired "$TMP/standalone-$r/metrics.jsonl" "$TMP/daemon-$r/metrics.jsonl" "$r"
done

echo "== event latency, worker -> watcher (tiny model, 400 steps, a progress event per step)"
for w in 1 100; do
  "$LAT" --addr "$TTSD_ADDR" --config "$TMP/latency.yaml" --watchers "$w"
done
"$LAT" --addr "$TTSD_ADDR" --config "$TMP/latency.yaml" --watchers 100 --separate
