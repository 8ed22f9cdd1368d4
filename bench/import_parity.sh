#!/usr/bin/env bash
# Parity of `ttsd import` with the source's own inference: for each fixture folder (model.ckpt or
# G_*.pth, config.json, reference.json + reference.npy from tests/data/interop/fixtures.py),
# import it, speak reference.json's ids with noise 0 through `ttsd synthesize`, and compare the float
# samples with the source's: length and SI-SDR (dB).
#   bench/import_parity.sh build/server/ttsd tests/data/interop/piper-*          # the suite's fixtures
#   tests/data/interop/make_fixtures.sh --full /tmp/full && bench/import_parity.sh build/server/ttsd /tmp/full/*
set -euo pipefail
ttsd="$1"
shift
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%-28s %-6s %10s %10s %8s %8s\n' fixture format samples ttsd si_sdr_db import_s
for dir in "$@"; do
  name="$(basename "$dir")"
  format=piper
  source="$dir/model.ckpt"
  extra=()
  if [ -f "$dir/G.pth" ]; then
    format=vits
    source="$dir/G.pth"
    [ -f "$dir/D.pth" ] && extra=(--discriminator "$dir/D.pth")
  elif [ -f "$dir/model.pth" ]; then
    format=coqui
    source="$dir/model.pth"
  fi
  start=$(date +%s.%N)
  "$ttsd" import "$format" "$source" --config "$dir/config.json" "${extra[@]}" --out "$work/$name.pt" > "$work/$name.log"
  end=$(date +%s.%N)
  ids=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['ids'])))" "$dir/reference.json")
  speaker=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); s=r['speaker_id']; print('' if s is None else r.get('speaker_name') or 'speaker_%d' % s)" "$dir/reference.json")
  "$ttsd" synthesize --checkpoint "$work/$name.pt" --ids "$ids" ${speaker:+--speaker "$speaker"} --noise-scale 0 \
    --noise-scale-w 0 --length-scale 1 --out "$work/$name.wav" --wave-npy "$work/$name.npy" > /dev/null
  python3 - "$dir/reference.npy" "$work/$name.npy" "$name" "$format" "$(echo "$end - $start" | bc)" <<'PY'
import sys
import numpy as np
ref = np.load(sys.argv[1]).astype(np.float64).ravel()
got = np.load(sys.argv[2]).astype(np.float64).ravel()
n = min(len(ref), len(got))
a = np.dot(got[:n], ref[:n]) / np.dot(ref[:n], ref[:n])
err = got[:n] - a * ref[:n]
sdr = 10 * np.log10(np.sum((a * ref[:n]) ** 2) / np.sum(err ** 2)) if len(ref) == len(got) else float("nan")
print(f"{sys.argv[3]:<28} {sys.argv[4]:<6} {len(ref):>10} {len(got):>10} {sdr:>8.1f} {float(sys.argv[5]):>8.2f}")
PY
done
