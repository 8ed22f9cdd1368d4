"""torchaudio's log-mel throughput on the same clips `ttsd bench features` uses, for a side-by-side ratio.

  /usr/bin/python3 bench/torchaudio_mel.py --data corpus/slt --clips 20 --clip-seconds 10 --repeats 5

Clips: the dataset's WAVs in metadata.csv order, concatenated and cut into clip-seconds pieces (as
ttsd does). Transform: MelSpectrogram(norm="slaney", mel_scale="slaney", power=1) + log(clamp 1e-5),
the settings ttsd's mel matches. One thread, like ttsd's per-core figure.
"""
import argparse
import os
import time

import torch
import torchaudio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--clip-seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sample-rate", type=int, default=22050)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    clip_len = int(args.clip_seconds * args.sample_rate)
    clips, pending = [], torch.zeros(0)
    with open(os.path.join(args.data, "metadata.csv"), encoding="utf-8") as f:
        for line in f:
            if len(clips) >= args.clips:
                break
            uid = line.split("|", 1)[0]
            wave, sr = torchaudio.load(os.path.join(args.data, "wavs", uid + ".wav"))
            if sr != args.sample_rate:
                wave = torchaudio.functional.resample(wave, sr, args.sample_rate)
            pending = torch.cat([pending, wave.mean(0)])
            while pending.numel() >= clip_len and len(clips) < args.clips:
                clips.append(pending[:clip_len].clone())
                pending = pending[clip_len:]

    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=args.sample_rate, n_fft=1024, win_length=1024, hop_length=256, f_min=0.0, f_max=8000.0,
        n_mels=80, power=1.0, norm="slaney", mel_scale="slaney")
    with torch.no_grad():
        torch.log(torch.clamp(mel(clips[0]), min=1e-5))  # warm-up
        best, frames = 1e30, 0
        for _ in range(args.repeats):
            frames = 0
            t0 = time.perf_counter()
            for c in clips:
                frames += torch.log(torch.clamp(mel(c), min=1e-5)).shape[-1]
            best = min(best, time.perf_counter() - t0)
    fps = frames / best
    print(f"torchaudio mel: {len(clips)} clips x {args.clip_seconds:.1f} s, {frames} frames, best of {args.repeats}: "
          f"{best:.3f} s -> {fps:.4g} frames/s ({args.threads} thread, {fps / args.threads:.4g} frames/s per core)")


if __name__ == "__main__":
    main()
