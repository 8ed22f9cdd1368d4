#!/bin/bash
# `make demo`'s main act: a real daemon trains the quickstart voice. Starts `ttsd serve` on a demo data
# dir, submits examples/quickstart.yaml for N steps, follows it with `ttsctl watch` to the end (progress,
# validation, checkpoints), shows where everything is, synthesizes a sentence from the newest
# checkpoint, and stops the daemon.
#   tools/demo-daemon.sh TTSD TTSCTL STEPS
set -euo pipefail
TTSD=$1
TTSCTL=$2
STEPS=${3:-300}
DATA="$PWD/runs/daemon"
mkdir -p "$DATA"
# Jobs may only read under --allowed-roots; the corpus and examples are in this repository.
"$TTSD" serve --data-dir "$DATA" --allowed-roots "$DATA,$PWD" >>"$DATA/serve.log" 2>&1 &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null || true' EXIT
export TTSD_ADDR="unix://$DATA/ttsd.sock"
for _ in $(seq 1 100); do
  "$TTSCTL" ping --timeout 1 >/dev/null 2>&1 && break
  sleep 0.2
done
"$TTSCTL" ping
echo "== ttsctl submit examples/quickstart.yaml --max-steps $STEPS"
JOB=$("$TTSCTL" submit examples/quickstart.yaml --max-steps "$STEPS")
echo "== ttsctl watch $JOB"
"$TTSCTL" watch "$JOB" --samples-dir samples/daemon
echo "== ttsctl checkpoints $JOB"
"$TTSCTL" checkpoints "$JOB"
JOB_DIR=$("$TTSCTL" --output json status "$JOB" | sed -n 's/.*"job_dir":"\([^"]*\)".*/\1/p')
mkdir -p samples/daemon
"$TTSD" synthesize --checkpoint "$JOB_DIR" --text "The quiet garden was bright this morning." \
  --out "samples/daemon/job$JOB-synthesized.wav"
echo "== daemon demo done: job $JOB in $JOB_DIR (checkpoints/, train.log, metrics.jsonl),"
echo "   the daemon's data in $DATA (ttsd.db, serve.log), audio in samples/daemon/."
echo "   Try: TTSD_ADDR=$TTSD_ADDR $TTSCTL metrics $JOB --key train/loss --key val/loss"
