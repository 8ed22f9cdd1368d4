#!/usr/bin/env bash
# Trains a Piper voice with Piper's own trainer (piper-tts[train] 1.8.0, `python -m piper.train fit`) on a
# corpus in LJSpeech layout, as a real base for `ttsd import piper` and the "Fine-tune a Piper voice"
# walkthrough. CPU, x_low size by default (hidden 96, Piper's --quality x_low). Stop it any time: Lightning
# keeps lightning_logs/version_0/checkpoints/last.ckpt, and config.json is written at the start.
#   bench/piper_base.sh corpus/slt runs/piper-slt [max_steps]
# Uses the virtual environment of tests/data/interop/make_fixtures.sh (.venv-interop).
#
# piper-tts's wheel lacks its compiled monotonic alignment (core.pyx is in its git repository only), so
# this script supplies maximum_path_c, the alignment search of the VITS paper, written here in NumPy.
set -euo pipefail
corpus="$(cd "$1" && pwd)"
out="$2"
steps="${3:-3000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${INTEROP_VENV:-$root/.venv-interop}"
[ -x "$venv/bin/python" ] || { echo "run tests/data/interop/make_fixtures.sh first (it makes $venv)" >&2; exit 2; }
shim="$("$venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("piper").submodule_search_locations[0])')/train/vits/monotonic_align/monotonic_align"
if [ ! -f "$shim/core.py" ]; then
  mkdir -p "$shim"
  touch "$shim/__init__.py"
  cat > "$shim/core.py" <<'PY'
import numpy as np


def maximum_path_c(paths, values, t_ys, t_xs):
    """Monotonic alignment search: for each item, the path through values[y, x] (frames y, symbols x) that
    maximises the summed log-likelihood, each frame on one symbol, symbols in order, none skipped."""
    for b in range(paths.shape[0]):
        t_y, t_x = int(t_ys[b]), int(t_xs[b])
        v = values[b, :t_y, :t_x].astype(np.float64)
        x = np.arange(t_x)
        neg = -1e9
        for y in range(t_y):
            stay = np.where(x == y, neg, v[y - 1] if y > 0 else neg)
            step = np.empty(t_x)
            step[0] = 0.0 if y == 0 else neg
            if y > 0:
                step[1:] = v[y - 1, :-1]
            else:
                step[1:] = neg
            band = (x <= y) & (x >= t_x + y - t_y)
            v[y] = np.where(band, v[y] + np.maximum(step, stay), neg)
        index = t_x - 1
        for y in range(t_y - 1, -1, -1):
            paths[b, y, index] = 1
            if index != 0 and (index == y or v[y - 1, index] < v[y - 1, index - 1]):
                index -= 1
PY
fi
mkdir -p "$out"
cut -d'|' -f1,2 "$corpus/metadata.csv" > "$out/metadata.csv"
cd "$out"
exec "$venv/bin/python" -m piper.train fit --data.voice_name "$(basename "$corpus")" --data.csv_path metadata.csv \
  --data.audio_dir "$corpus/wavs" --model.sample_rate 22050 --data.espeak_voice en-us --data.cache_dir cache \
  --data.config_path config.json --data.batch_size 16 --data.num_workers 1 --model.mos_metric none \
  --model.hidden_channels 96 --model.inter_channels 96 --model.filter_channels 384 \
  --trainer.accelerator cpu --trainer.devices 1 --trainer.max_steps "$steps" --trainer.check_val_every_n_epoch 5
