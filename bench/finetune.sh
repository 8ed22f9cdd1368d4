#!/bin/bash
# A real fine-tune on generated speech: a base voice trained on two flite voices (slt, rms), then
# fine-tuned onto a third (awb) from ~100 utterances with the encoder frozen. Prints val/mcd and val/wer
# (pocketsphinx) of the base (the fine-tune's step-0 validation) and of the fine-tuned model, on the same
# held-out awb utterances and sentences. Results: bench/BENCHMARKS.md.
#   bash bench/finetune.sh [BUILD_DIR] [BASE_STEPS] [FINETUNE_STEPS] [OUT_DIR]
set -euo pipefail
BUILD=${1:-build}
BASE_STEPS=${2:-800}
FT_STEPS=${3:-300}
OUT=${4:-runs/finetune-bench}
TTSD=$BUILD/server/ttsd
mkdir -p "$OUT"
[ -f corpus/base2/metadata.csv ] || tools/make-corpus --voices slt,rms --sentences 300 --seed 1 --out corpus/base2
[ -f corpus/awb110/metadata.csv ] || tools/make-corpus --voices awb --sentences 110 --seed 7 --out corpus/awb110

SENTENCES=$(head -4 bench/sentences.txt | sed 's/.*/    - "&"/')
common() {  # validation and model settings shared by both runs
  cat <<YAML
seed: 1234
threads: 2
audio:
  sample_rate: 22050
text:
  mode: phonemes
  language: en-us
batch:
  max_frames: 8000
model:
  preset: small
validation:
  samples: 4
  asr: pocketsphinx
  sentences:
$SENTENCES
YAML
}
{ common; cat <<YAML
name: base-slt-rms
data:
  format: multispeaker
  path: $PWD/corpus/base2
  validation:
    count: 20
training:
  max_steps: $BASE_STEPS
  learning_rate: 0.5
  warmup_steps: 800
  log_interval: 50
checkpoint:
  interval_steps: $((BASE_STEPS / 2))
YAML
} > "$OUT/base.yaml"
# validation.interval_steps goes into the shared validation section.
sed -i "s|^  samples: 4|  interval_steps: $((BASE_STEPS / 2))\n  samples: 4|" "$OUT/base.yaml"

{ common; cat <<YAML
name: finetune-awb
data:
  format: ljspeech
  path: $PWD/corpus/awb110
  validation:
    count: 10
training:
  max_steps: $FT_STEPS
  scheduler: constant
  learning_rate: 1.0e-4
  log_interval: 50
checkpoint:
  interval_steps: $((FT_STEPS / 2))
finetune:
  pretrained_model_path: $PWD/$OUT/base
  speaker_name: awb
  freeze: [encoder]
YAML
} > "$OUT/finetune.yaml"
sed -i "s|^  samples: 4|  interval_steps: $((FT_STEPS / 2))\n  samples: 4|" "$OUT/finetune.yaml"

[ -f "$OUT/base/checkpoints/latest" ] || "$TTSD" train --config "$OUT/base.yaml" --output-dir "$OUT/base" > "$OUT/base.out" 2>&1
rm -rf "$OUT/finetune"
"$TTSD" train --config "$OUT/finetune.yaml" --output-dir "$OUT/finetune" > "$OUT/finetune.out" 2>&1
echo "== base (slt+rms, $BASE_STEPS steps): its own validations"
grep "validation step" "$OUT/base/train.log" | sed 's/^[0-9-]* [0-9:]* //'
echo "== fine-tune onto awb (110 sentences, encoder frozen, $FT_STEPS steps); step 0 = the base model"
grep "validation step" "$OUT/finetune/train.log" | sed 's/^[0-9-]* [0-9:]* //'
