#!/bin/bash
# Writes the starting inputs of each fuzz target into OUT/<target>/: the example configs, tiny audio
# files in the formats libsndfile reads, manifests of each format, framed worker events and submit
# requests. The committed corpus (fuzz/corpus) grew from these; run this to start one afresh.
#   fuzz/seeds.sh OUT
set -euo pipefail
OUT=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"/{config,wav,manifest,worker_pipe,submit_request,pickle}
cp "$ROOT"/examples/quickstart.yaml "$ROOT"/examples/multispeaker.yaml "$ROOT"/examples/finetune.yaml "$ROOT"/examples/vits.yaml \
  "$ROOT"/examples/finetune-vi.yaml "$OUT/config/"

i=0
for fmt in "-b 16" "-b 8 -e unsigned" "-b 24" "-e floating-point -b 32" "-c 2 -b 16"; do
  # shellcheck disable=SC2086
  sox -n -r 8000 $fmt "$OUT/wav/$i.wav" synth 0.01 sine 440
  i=$((i + 1))
done
sox -n -r 16000 "$OUT/wav/s.flac" synth 0.01 sine 440
sox -n -r 16000 "$OUT/wav/s.aiff" synth 0.01 sine 440

printf '\x00u0|Hello world.|hello world\nu1|Second line.\n' > "$OUT/manifest/ljspeech"
printf '\x01u0|alice|Hello world.\nu1|bob|Second line.\n' > "$OUT/manifest/multispeaker"
printf '\x02{"audio": "wavs/u0.wav", "text": "Hello.", "speaker": "a", "id": "u0"}\n{"audio": "b.wav", "text": "x"}\n' \
  > "$OUT/manifest/jsonl"

# protoc --encode turns text format into a message; the pipe frames each with its varint length.
encode() {  # TYPE TEXT -> binary on stdout
  printf '%s' "$2" | protoc --encode="$1" -I "$ROOT/proto" ttsd/v1/worker.proto ttsd/v1/ttsd.proto
}
frame() {  # the varint length, then the message (all seeds are < 128 bytes)
  local msg
  msg=$(mktemp)
  cat > "$msg"
  printf "\\x$(printf '%02x' "$(stat -c %s "$msg")")"
  cat "$msg"
  rm -f "$msg"
}
{
  encode ttsd.v1.WorkerEvent 'started { pid: 42 total_steps: 100 }' | frame
  encode ttsd.v1.WorkerEvent 'progress { step: 7 total_steps: 100 losses { key: "train/loss" value: 1.5 } }' | frame
  encode ttsd.v1.WorkerEvent 'log { text: "hello" }' | frame
  encode ttsd.v1.WorkerEvent 'finished { outcome: OUTCOME_COMPLETED step: 100 }' | frame
} > "$OUT/worker_pipe/events"
encode ttsd.v1.SubmitJobRequest "config_yaml: \"data:\\n  path: voice\\nmodel:\\n  preset: tiny\\n\" name: \"x\"" \
  > "$OUT/submit_request/tiny"
encode ttsd.v1.SubmitJobRequest "config_yaml: \"$(sed 's/"/\\"/g' "$ROOT/examples/quickstart.yaml" | awk '{printf "%s\\n", $0}')\"" \
  > "$OUT/submit_request/quickstart"

# The data.pkl of real torch.save files (tests/data/interop): a Lightning checkpoint, the authors' VITS,
# Coqui's, and one with what checkpoints pickle besides tensors.
for f in oddities.pt piper-xlow/model.ckpt vits-ljs/G.pth coqui-vits/model.pth; do
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = [x for x in z.namelist() if x.endswith("/data.pkl")][0]; sys.stdout.buffer.write(z.read(n))' \
    "$ROOT/tests/data/interop/$f" > "$OUT/pickle/$(echo "$f" | tr / -).pkl"
done
