#!/bin/bash
# "Fine-tune a Piper voice" (README) run end to end through the daemon: a Piper checkpoint is imported
# with `ttsd import piper --finetune-config`, the config it writes gets the demo corpus and a new
# speaker's name, and `ttsctl submit` trains it; prints val/mcd per validation (step 0 is the imported
# voice on the new data), the job's lineage and a sentence spoken by the best checkpoint.
#   bash bench/piper_finetune.sh [BUILD_DIR] [PIPER_CKPT] [STEPS] [OUT_DIR]
# PIPER_CKPT defaults to the suite's three-speaker fixture (tests/data/interop, made by piper-tts's own
# code with random weights): give a real voice's .ckpt (its config.json beside it or above) instead.
set -euo pipefail
BUILD=${1:-build}
PIPER=${2:-tests/data/interop/piper-multispeaker/model.ckpt}
STEPS=${3:-300}
OUT=$(mkdir -p "${4:-runs/piper-finetune}" && cd "${4:-runs/piper-finetune}" && pwd)
TTSD=$BUILD/server/ttsd
TTSCTL=$BUILD/client/ttsctl
[ -f corpus/slt/metadata.csv ] || make corpus
"$TTSD" import piper "$PIPER" --out "$OUT/voice.pt" --finetune-config "$OUT/finetune.yaml"
sed -i -e "s|^threads: .*|threads: 2|" -e "s|^  path: \"\"|  path: \"$PWD/corpus/slt\"|" \
    -e "/^  validation:/,/^[a-z]/ s|    count: 0|    count: 10|" -e "s|^  size: 0|  size: 8|" \
    -e "s|^  max_steps: .*|  max_steps: $STEPS|" -e "s|^  speaker_name: \"\"|  speaker_name: \"slt\"|" \
    -e "/^validation:/,/^[a-z]/ s|  interval_steps: .*|  interval_steps: 100|" \
    -e "/^checkpoint:/,/^[a-z]/ s|  interval_steps: .*|  interval_steps: 100|" "$OUT/finetune.yaml"

"$TTSD" serve --data-dir "$OUT/daemon" --allowed-roots "$OUT,$PWD" > "$OUT/serve.log" 2>&1 &
DAEMON=$!
trap 'kill -TERM "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null' EXIT
export TTSD_ADDR="unix://$OUT/daemon/ttsd.sock"
for _ in $(seq 1 100); do "$TTSCTL" ping --timeout 1 > /dev/null 2>&1 && break; sleep 0.2; done
JOB=$("$TTSCTL" --output json submit "$OUT/finetune.yaml" | sed -n 's/.*"id":"\{0,1\}\([0-9]*\).*/\1/p' | head -1)
start=$(date +%s)
"$TTSCTL" watch "$JOB" > "$OUT/watch.log" 2>&1 || true
echo "job $JOB: $(( $(date +%s) - start )) s"
"$TTSCTL" metrics "$JOB" --key val/mcd
"$TTSCTL" status "$JOB" | grep -E "state|parent|best"
"$TTSCTL" synth --job "$JOB" --checkpoint best --speaker slt "The tiny pigeon whispered softly in the evening." \
  -o "$OUT/best.wav"
