"""What fixtures.py (Piper, the VITS authors' layout) and coqui_fixtures.py (Coqui) share. Plain torch and
NumPy only: each script runs in its own virtual environment (make_fixtures.sh)."""

import argparse
import json
import os
import pathlib

import numpy as np
import torch


def perturb(module, generator):
    """Moves every weight by 20% of its layer's spread (0.1 for a constant one), so that no layer, the
    zero-initialised ones included, is the identity and every tensor's mapping matters to the output."""
    with torch.no_grad():
        for p in module.parameters():
            scale = float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.1
            p.add_(torch.randn(p.shape, generator=generator) * 0.2 * scale)


def write_reference(folder, checkpoint, ids, speaker_id, audio, **extra):
    """The source's own output on `ids` (noise 0, length scale 1): reference.npy and reference.json."""
    wave = audio[0, 0].detach().numpy().astype(np.float32)
    np.save(folder / "reference.npy", wave)
    with open(folder / "reference.json", "w", encoding="utf-8") as f:
        json.dump({"ids": ids, "speaker_id": speaker_id, **extra, "noise_scale": 0.0, "length_scale": 1.0,
                   "noise_w": 0.0, "samples": int(wave.shape[0]), "torch": torch.__version__}, f, indent=2)
    print(f"{folder.name}: {os.path.getsize(folder / checkpoint)} bytes, {wave.shape[0]} samples, "
          f"peak {np.abs(wave).max():.3f}")


def parse_args(full_help):
    """--out (default: this folder) and --full (real sizes, not committed)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent))
    parser.add_argument("--full", action="store_true", help=full_help)
    a = parser.parse_args()
    return pathlib.Path(a.out), a.full
