#!/usr/bin/env bash
# Regenerates the small real-speech WAVs the tests use and the torchaudio golden mel. Run from the
# repository root after deploy/install-deps.sh. The outputs are committed; tests never run this.
set -euo pipefail
out=tests/data
# Three flite (16 kHz, exercises resampling) and one espeak-ng (22.05 kHz) utterance.
flite -voice slt -t "The quick brown fox." -o $out/wavs/slt-a.wav
flite -voice slt -t "Seven heavy boxes." -o $out/wavs/slt-b.wav
flite -voice rms -t "A quiet garden." -o $out/wavs/rms-a.wav
espeak-ng -v en-us -w $out/wavs/espeak-a.wav "Hello world, this is a test."
# Golden log-mel from torchaudio (Debian's python3-torchaudio).
/usr/bin/python3 tests/data/golden_mel.py $out/wavs/espeak-a.wav $out/golden_mel_espeak-a.npy
