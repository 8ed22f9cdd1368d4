#!/usr/bin/python3
"""The authors' VITS training step, timed exactly as `ttsd bench train-step` times ours.

Imports the model from a checkout of github.com/jaywalnut310/vits (give its folder with --vits-dir; build
its monotonic_align extension first, see bench/vits_step_vs_reference.sh), builds SynthesizerTrn and
MultiPeriodDiscriminator with the hyperparameters of its configs/ljs_base.json, and runs the step of its
train.py in fp32 (its GradScaler is a no-op without CUDA): the discriminators' update on real vs
generated windows, then the generator's on mel L1 x 45, KL, duration, adversarial and feature-matching
losses, AdamW (0.8, 0.99, 1e-9) on both, clip_grad_value_(None) norms as train.py logs them. The batch is
synthetic, of the same shape as ours: random symbols and random audio, full lengths. The linear
spectrogram, which their data loader computes, is computed inside the step, as ours is. Prints one JSON
line with the same fields as ours.

Nothing of the authors' code lives in this repository. Their mel_processing imports librosa only for the
mel filter bank; where librosa is absent, a stand-in builds the same Slaney filter bank with torchaudio.
"""
import argparse
import json
import os
import sys
import time
import types

import torch
from torch.nn import functional as F

# configs/ljs_base.json of the authors' repository
LJS_BASE = dict(inter_channels=192, hidden_channels=192, filter_channels=768, n_heads=2, n_layers=6, kernel_size=3,
                p_dropout=0.1, resblock="1", resblock_kernel_sizes=[3, 7, 11],
                resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5], [1, 3, 5]], upsample_rates=[8, 8, 2, 2],
                upsample_initial_channel=512, upsample_kernel_sizes=[16, 16, 4, 4])
SAMPLE_RATE, N_FFT, HOP, WIN, N_MELS, SEGMENT = 22050, 1024, 256, 1024, 80, 8192


def stand_in_librosa():
    try:
        import librosa.filters  # noqa: F401
        return
    except ImportError:
        pass
    import torchaudio

    def mel(sr, n_fft, n_mels=128, fmin=0.0, fmax=None, *args, **kwargs):
        fb = torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, float(fmin), float(fmax or sr / 2.0), n_mels, sr,
                                                   norm="slaney", mel_scale="slaney")
        return fb.T.contiguous().numpy()

    librosa = types.ModuleType("librosa")
    filters = types.ModuleType("librosa.filters")
    filters.mel = mel
    librosa.filters = filters
    sys.modules["librosa"] = librosa
    sys.modules["librosa.filters"] = filters


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vits-dir", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--text-length", type=int, default=100)
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-symbols", type=int, default=160)  # as `ttsd bench train-step`
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.abspath(args.vits_dir))
    stand_in_librosa()
    import commons  # noqa: E402  (the authors' modules)
    import losses
    import mel_processing
    import models

    torch.manual_seed(1234)
    net_g = models.SynthesizerTrn(args.n_symbols, N_FFT // 2 + 1, SEGMENT // HOP, **LJS_BASE)
    net_d = models.MultiPeriodDiscriminator(False)
    optim_g = torch.optim.AdamW(net_g.parameters(), 2e-4, betas=(0.8, 0.99), eps=1e-9)
    optim_d = torch.optim.AdamW(net_d.parameters(), 2e-4, betas=(0.8, 0.99), eps=1e-9)
    params_g = sum(p.numel() for p in net_g.parameters())
    params_d = sum(p.numel() for p in net_d.parameters())

    b, tl, fr = args.batch_size, args.text_length, args.frames
    x = torch.randint(1, args.n_symbols, (b, tl), dtype=torch.long)
    x_lengths = torch.full((b,), tl, dtype=torch.long)
    y = (torch.rand(b, 1, fr * HOP) - 0.5) * 0.6
    spec_lengths = torch.full((b,), fr, dtype=torch.long)
    net_g.train()
    net_d.train()

    def step():  # the body of train.py's train_and_evaluate() loop, fp32
        spec = mel_processing.spectrogram_torch(y.squeeze(1), N_FFT, SAMPLE_RATE, HOP, WIN, center=False)
        y_hat, l_length, attn, ids_slice, x_mask, z_mask, (z, z_p, m_p, logs_p, m_q, logs_q) = net_g(
            x, x_lengths, spec, spec_lengths)
        mel = mel_processing.spec_to_mel_torch(spec, N_FFT, N_MELS, SAMPLE_RATE, 0.0, None)
        y_mel = commons.slice_segments(mel, ids_slice, SEGMENT // HOP)
        y_hat_mel = mel_processing.mel_spectrogram_torch(y_hat.squeeze(1), N_FFT, N_MELS, SAMPLE_RATE, HOP, WIN,
                                                         0.0, None)
        y_seg = commons.slice_segments(y, ids_slice * HOP, SEGMENT)

        y_d_hat_r, y_d_hat_g, _, _ = net_d(y_seg, y_hat.detach())
        loss_disc, _, _ = losses.discriminator_loss(y_d_hat_r, y_d_hat_g)
        optim_d.zero_grad()
        loss_disc.backward()
        commons.clip_grad_value_(net_d.parameters(), None)
        optim_d.step()

        y_d_hat_r, y_d_hat_g, fmap_r, fmap_g = net_d(y_seg, y_hat)
        loss_dur = torch.sum(l_length.float())
        loss_mel = F.l1_loss(y_mel, y_hat_mel) * 45
        loss_kl = losses.kl_loss(z_p, logs_q, m_p, logs_p, z_mask) * 1.0
        loss_fm = losses.feature_loss(fmap_r, fmap_g)
        loss_gen, _ = losses.generator_loss(y_d_hat_g)
        loss_gen_all = loss_gen + loss_fm + loss_mel + loss_dur + loss_kl
        optim_g.zero_grad()
        loss_gen_all.backward()
        commons.clip_grad_value_(net_g.parameters(), None)
        optim_g.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    step_s = (time.perf_counter() - t0) / args.steps
    print(json.dumps({"model": "jaywalnut310/vits ljs_base (PyTorch %s)" % torch.__version__,
                      "params_generator": params_g, "params_discriminator": params_d, "batch": b,
                      "text_length": tl, "frames": b * fr, "segment_size": SEGMENT, "threads": args.threads,
                      "step_s": step_s, "frames_per_s": b * fr / step_s}))


if __name__ == "__main__":
    main()
