"""Golden log-mel for tests/core/audio/mel_test.cc, made with torchaudio 0.13 (Debian python3-torchaudio):

  /usr/bin/python3 tests/data/golden_mel.py IN.wav OUT.npy

MelSpectrogram(sample_rate=22050, n_fft=1024, win_length=1024, hop_length=256, f_min=0, f_max=8000,
n_mels=80, power=1, norm="slaney", mel_scale="slaney") with its defaults center=True, pad_mode="reflect",
periodic Hann window; then log(clamp(x, min=1e-5)). Saved as float32 [n_mels, frames].
"""
import sys

import numpy as np
import torch
import torchaudio

wave, sr = torchaudio.load(sys.argv[1])
assert sr == 22050, f"expected 22050 Hz, got {sr}"
mel = torchaudio.transforms.MelSpectrogram(
    sample_rate=22050, n_fft=1024, win_length=1024, hop_length=256, f_min=0.0, f_max=8000.0,
    n_mels=80, power=1.0, norm="slaney", mel_scale="slaney")(wave[0])
log_mel = torch.log(torch.clamp(mel, min=1e-5))
np.save(sys.argv[2], np.ascontiguousarray(log_mel.numpy(), dtype=np.float32))  # C order
print(sys.argv[2], tuple(log_mel.shape))
