#!/usr/bin/env bash
# Intelligibility of a trained voice: synthesize held-out sentences, transcribe them with pocketsphinx
# (an offline English recogniser), report the word error rate. The same sentences read by the voice the
# corpus came from (flite) give the recogniser's own ceiling, side by side; those recordings passed
# through the voice's vocoder alone (`ttsd synthesize --resynthesize`: VITS's posterior encoder and
# generator, Glow-TTS's Griffin-Lim) give the vocoder's ceiling, so the gap splits into vocoder and text side.
#   bash bench/intelligibility.sh CHECKPOINT_OR_RUN_DIR [flite-voice] [sentences-file] [build-dir]
# SYNTH_ARGS adds `ttsd synthesize` options, e.g. SYNTH_ARGS="--noise-scale-w 0.3" for a VITS voice.
# SEEDS="0 1 2" reads every sentence once per noise seed and pools them (a VITS voice's sampled
# durations and prior make one reading of eight sentences a noisy measure); default "0".
set -euo pipefail
ckpt=$1
voice=${2:-slt}
sentences=${3:-bench/sentences.txt}
build=${4:-build}
seeds=${SEEDS:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
transcribe() {  # WAV -> TXT: what pocketsphinx hears, at its 16 kHz
  sox -D "$1" -r 16000 -b 16 -c 1 "$1.16k.wav"
  pocketsphinx_continuous -infile "$1.16k.wav" 2>/dev/null | tr -d '\n' > "$2"
}
i=0
while IFS= read -r text; do
  [ -n "$text" ] || continue
  i=$((i + 1))
  for seed in $seeds; do
    "$build/server/ttsd" synthesize --checkpoint "$ckpt" --text "$text" --out "$work/ttsd$seed-$i.wav" --threads 1 \
      --seed "$seed" ${SYNTH_ARGS:-} >/dev/null
    transcribe "$work/ttsd$seed-$i.wav" "$work/ttsd$seed-$i.txt"
  done
  flite -voice "$voice" -t "$text" -o "$work/ref-$i.wav"
  "$build/server/ttsd" synthesize --checkpoint "$ckpt" --resynthesize "$work/ref-$i.wav" --out "$work/copy-$i.wav" \
    --threads 1 >/dev/null
  for kind in ref copy; do transcribe "$work/$kind-$i.wav" "$work/$kind-$i.txt"; done
  printf '%s\n' "$text" > "$work/text-$i.txt"
done < "$sentences"
python3 - "$work" "$i" $seeds <<'PY'
import re, sys
work, n, seeds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def words(s): return re.sub(r"[^a-z' ]", " ", s.lower()).split()
def edits(a, b):
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[len(b)]
# [word edits, words, character edits, characters]: CER moves before WER does while a voice is learning.
kinds = [f"ttsd{s}" for s in seeds] + ["ref", "copy"]
totals = {k: [0, 0, 0, 0] for k in kinds}
for i in range(1, n + 1):
    ref = words(open(f"{work}/text-{i}.txt").read())
    for kind in kinds:
        hyp = words(open(f"{work}/{kind}-{i}.txt").read())
        t = totals[kind]
        t[0] += edits(ref, hyp)
        t[1] += len(ref)
        t[2] += edits(" ".join(ref), " ".join(hyp))
        t[3] += len(" ".join(ref))
    print(f"{' '.join(ref)}\n   ttsd: {open(f'{work}/ttsd{seeds[0]}-{i}.txt').read().strip()}")
def line(label, e, w, ce, c):
    print(f"WER {label}: {e}/{w} = {100.0 * e / w:.1f}%  CER {ce}/{c} = {100.0 * ce / c:.1f}%")
if len(seeds) > 1:
    for s in seeds: line(f"ttsd voice, seed {s}", *totals[f"ttsd{s}"])
line("ttsd voice" + (f" ({len(seeds)} seeds pooled)" if len(seeds) > 1 else ""),
     *[sum(totals[f"ttsd{s}"][k] for s in seeds) for k in range(4)])
line("flite (corpus voice, ceiling)", *totals["ref"])
line("flite resynthesized by the voice's vocoder (its ceiling)", *totals["copy"])
PY
