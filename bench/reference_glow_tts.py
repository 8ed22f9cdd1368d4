#!/usr/bin/python3
"""The authors' Glow-TTS training step, timed exactly as `ttsd bench train-step` times ours.

Imports the model from a checkout of github.com/jaywalnut310/glow-tts (give its folder with --glow-tts-dir;
build its monotonic_align extension first, see bench/train_step_vs_reference.sh), builds FlowGenerator with
the hyperparameters of its configs/base.json, and runs the step of its train.py: forward, mle_loss +
duration_loss, backward, clip_grad_value_(5), Adam (0.9, 0.98, 1e-9). The batch is synthetic, of the same
shape as ours: random symbols and mels, full lengths. Prints one JSON line with the same fields.

Nothing of the authors' code lives in this repository; their modules import librosa and friends for
their STFT, which the training step never calls, so empty stand-ins are registered when those are absent.
"""
import argparse
import json
import os
import sys
import time
import types

import torch


def stand_in_missing(names):
    for name in names:
        try:
            __import__(name)
        except ImportError:
            module = types.ModuleType(name)
            module.mel = module.STFT = None
            module.dynamic_range_compression = module.dynamic_range_decompression = None
            sys.modules[name] = module


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glow-tts-dir", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--text-length", type=int, default=100)
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-symbols", type=int, default=160)  # as `ttsd bench train-step`
    ap.add_argument("--n-mels", type=int, default=80)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.abspath(args.glow_tts_dir))
    stand_in_missing(["scipy", "librosa", "librosa.filters", "audio_processing", "stft"])
    import commons  # noqa: E402  (the authors' modules)
    import models

    with open(os.path.join(args.glow_tts_dir, "configs", "base.json")) as f:
        hps = json.load(f)
    torch.manual_seed(hps["train"]["seed"])
    generator = models.FlowGenerator(n_vocab=args.n_symbols, out_channels=args.n_mels, **hps["model"])
    t = hps["train"]
    optimizer = commons.Adam(generator.parameters(), scheduler=t["scheduler"], dim_model=hps["model"]["hidden_channels"],
                             warmup_steps=t["warmup_steps"], lr=t["learning_rate"], betas=t["betas"], eps=t["eps"])
    params = sum(p.numel() for p in generator.parameters())

    b, tl, fr = args.batch_size, args.text_length, args.frames
    x = torch.randint(1, args.n_symbols, (b, tl), dtype=torch.long)
    x_lengths = torch.full((b,), tl, dtype=torch.long)
    y = torch.randn(b, args.n_mels, fr) - 4.0
    y_lengths = torch.full((b,), fr, dtype=torch.long)
    generator.train()

    def step():  # the body of train.py's train() loop, fp32
        optimizer.zero_grad()
        (z, z_m, z_logs, logdet, z_mask), _, (attn, logw, logw_) = generator(x, x_lengths, y, y_lengths, gen=False)
        l_mle = commons.mle_loss(z, z_m, z_logs, logdet, z_mask)
        l_length = commons.duration_loss(logw, logw_, x_lengths)
        loss_g = sum([l_mle, l_length])
        loss_g.backward()
        commons.clip_grad_value_(generator.parameters(), 5)
        optimizer.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    step_s = (time.perf_counter() - t0) / args.steps
    print(json.dumps({"model": "jaywalnut310/glow-tts base (PyTorch %s)" % torch.__version__, "params": params,
                      "batch": b, "text_length": tl, "frames": b * fr, "threads": args.threads,
                      "step_s": step_s, "frames_per_s": b * fr / step_s}))


if __name__ == "__main__":
    main()
