"""Makes the fixtures of the import tests with the sources' own code from PyPI.

Piper: piper-tts[train]'s training code.

Each fixture is a small VITS built by piper.train.vits.lightning.VitsModel, with every weight perturbed
(the zero-initialised layers too, so that no part of the network is trivially the identity), saved by
Lightning's Trainer.save_checkpoint exactly as `python -m piper.train` saves its .ckpt files, with the
voice config.json that piper's data module writes, and the generator's own inference on fixed phoneme ids
(noise 0, noise_w 0, length scale 1) as the reference waveform.

The suite's fixtures leave out the discriminators (Piper's are fixed at 47 M parameters, 180 MB); --full
makes real-size voices with them, for the one-time full-size parity check (bench/BENCHMARKS.md).

The authors' VITS (jaywalnut310/vits) is not on PyPI. Piper's training code is a fork of it that keeps
its SynthesizerTrn and MultiPeriodDiscriminator (same constructor, same module names), so its G_*.pth /
D_*.pth fixtures are built by that code and saved as the authors' utils.save_checkpoint does
({"model", "iteration", "optimizer", "learning_rate"}), with a config.json in the layout of their
configs/ljs_base.json and vctk_base.json.

Run through make_fixtures.sh, which builds the virtual environment.
"""

import json
import os
import pathlib
import sys

import numpy as np
import torch

import lightning as L
from piper.config import PhonemeType, PiperConfig
from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP
from piper.train.vits.lightning import VitsModel

from fixture_common import parse_args, perturb, write_reference

TINY = dict(hidden_channels=16, inter_channels=16, filter_channels=32, n_heads=2, n_layers=2)

# name -> (VitsModel arguments, number of speakers). Piper's quality presets, scaled down for the suite.
ARCHS = {
    # x_low: HiFi-GAN ResBlock2, a dilation list per kernel, rates 8,8,4 with kernels 16,16,8; 16 kHz
    "piper-xlow": dict(sample_rate=16000, resblock="2", resblock_kernel_sizes=(3, 5, 7),
                       resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)), upsample_rates=(8, 8, 4),
                       upsample_initial_channel=32, upsample_kernel_sizes=(16, 16, 8)),
    # high: ResBlock1, rates 8,8,2,2 (medium is x_low's generator at 22.05 kHz)
    "piper-high": dict(sample_rate=22050, resblock="1", resblock_kernel_sizes=(3, 7, 11),
                         resblock_dilation_sizes=((1, 3, 5), (1, 3, 5), (1, 3, 5)), upsample_rates=(8, 8, 2, 2),
                         upsample_initial_channel=64, upsample_kernel_sizes=(16, 16, 4, 4)),
    # multi-speaker (the speaker embedding conditions the posterior, flow, durations and generator)
    "piper-multispeaker": dict(sample_rate=22050, resblock="2", resblock_kernel_sizes=(3, 5, 7),
                               resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)), upsample_rates=(8, 8, 4),
                               upsample_initial_channel=32, upsample_kernel_sizes=(16, 16, 8),
                               num_speakers=3, gin_channels=24),
    # the deterministic duration predictor (use_sdp: false)
    "piper-deterministic": dict(sample_rate=22050, resblock="2", resblock_kernel_sizes=(3, 5, 7),
                                resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)), upsample_rates=(8, 8, 4),
                                upsample_initial_channel=32, upsample_kernel_sizes=(16, 16, 8), use_sdp=False),
}

# Piper's real sizes: its quality levels (piper.train's defaults are medium).
MEDIUM = dict(ARCHS["piper-xlow"], sample_rate=22050, upsample_initial_channel=256)
FULL = {
    "piper-xlow-full": dict(ARCHS["piper-xlow"], hidden_channels=96, inter_channels=96, filter_channels=384,
                            upsample_initial_channel=256),
    "piper-low-full": dict(MEDIUM, sample_rate=16000),
    "piper-medium-full": MEDIUM,
    "piper-high-full": dict(ARCHS["piper-high"], upsample_initial_channel=512),
    "piper-multispeaker512-full": dict(MEDIUM, num_speakers=4, gin_channels=512),
    "piper-multispeaker256-full": dict(MEDIUM, num_speakers=4, gin_channels=256),
    "piper-deterministic-full": dict(MEDIUM, use_sdp=False),
}

# Phoneme ids as piper's phonemes_to_ids gives them: ^, then each phoneme followed by _, then $.
PHONEMES = list("həlˈoʊ wˈɜːld, ðɪs ɪz pˈaɪpɚ.")


def phoneme_ids():
    ids = [1, 0]
    for p in PHONEMES:
        ids += DEFAULT_PHONEME_ID_MAP[p] + [0]
    return ids + [2]


def make(name, args, out_dir, keep_discriminator):
    torch.manual_seed(1234)
    speakers = args.get("num_speakers", 1)
    hparams = dict(args)
    hparams.setdefault("num_speakers", 1)
    model = VitsModel(num_symbols=256, mos_metric=None, dataset=[pathlib.PosixPath("/data/dataset.jsonl")],
                      **hparams)
    perturb(model.model_g, torch.Generator().manual_seed(99))
    if not keep_discriminator:
        model.model_d = torch.nn.Module()  # saves without model_d.* (Piper's are 180 MB)
    model.eval()

    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(folder / "model.ckpt")

    speaker_map = {f"speaker_{i}": i for i in range(speakers)} if speakers > 1 else {}
    config = PiperConfig(num_symbols=256, num_speakers=speakers, sample_rate=args["sample_rate"],
                         espeak_voice="en-us", phoneme_id_map=DEFAULT_PHONEME_ID_MAP,
                         phoneme_type=PhonemeType.ESPEAK, piper_version="1.5.0", speaker_id_map=speaker_map,
                         hop_length=int(np.prod(args["upsample_rates"])))
    with open(folder / "config.json", "w", encoding="utf-8") as f:
        json.dump(config.to_dict(), f, ensure_ascii=False, indent=2)

    ids = phoneme_ids()
    sid = speakers - 1 if speakers > 1 else None
    x = torch.LongTensor([ids])
    with torch.no_grad():
        audio, *_ = model.model_g.infer(x, torch.LongTensor([len(ids)]),
                                        sid=None if sid is None else torch.LongTensor([sid]),
                                        noise_scale=0.0, length_scale=1.0, noise_scale_w=0.0)
    write_reference(folder, "model.ckpt", ids, sid, audio, lightning=L.__version__)


# The authors' English symbol table (text/symbols.py): the id of each symbol is its last position.
VITS_SYMBOLS = (["_"] + list(';:,.!?¡¿—…"«»“” ') + list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
                + list("ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘'̩'ᵻ"))
VITS_IDS = {s: i for i, s in enumerate(VITS_SYMBOLS)}

# name -> (the config.json "model" section, n_speakers): ljs_base and vctk_base, text side scaled down.
VITS_ARCHS = {
    "vits-ljs": (dict(resblock="1", resblock_kernel_sizes=[3, 7, 11],
                      resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5], [1, 3, 5]], upsample_rates=[8, 8, 2, 2],
                      upsample_initial_channel=64, upsample_kernel_sizes=[16, 16, 4, 4]), 0),
    "vits-vctk": (dict(resblock="1", resblock_kernel_sizes=[3, 7, 11],
                       resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5], [1, 3, 5]], upsample_rates=[8, 8, 2, 2],
                       upsample_initial_channel=64, upsample_kernel_sizes=[16, 16, 4, 4], gin_channels=16), 4),
}
VITS_FULL = {
    "vits-ljs-full": (dict(VITS_ARCHS["vits-ljs"][0], upsample_initial_channel=512, hidden_channels=192,
                           inter_channels=192, filter_channels=768, n_layers=6), 0),
    "vits-vctk-full": (dict(VITS_ARCHS["vits-vctk"][0], upsample_initial_channel=512, hidden_channels=192,
                            inter_channels=192, filter_channels=768, n_layers=6, gin_channels=256), 109),
}


def make_vits(name, model_args, n_speakers, out_dir, keep_discriminator):
    from piper.train.vits.models import MultiPeriodDiscriminator, SynthesizerTrn

    torch.manual_seed(4321)
    model = dict(inter_channels=16, hidden_channels=16, filter_channels=32, n_heads=2, n_layers=2, kernel_size=3,
                 p_dropout=0.1, n_layers_q=3, use_spectral_norm=False)
    model.update(model_args)
    data = dict(text_cleaners=["english_cleaners2"], max_wav_value=32768.0, sampling_rate=22050, filter_length=1024,
                hop_length=256, win_length=1024, n_mel_channels=80, mel_fmin=0.0, mel_fmax=None, add_blank=True,
                n_speakers=n_speakers, cleaned_text=True)
    train = dict(segment_size=8192, learning_rate=2e-4, betas=[0.8, 0.99], eps=1e-9, batch_size=64)
    ctor = {k: v for k, v in model.items() if k not in ("n_layers_q", "use_spectral_norm")}
    net_g = SynthesizerTrn(len(VITS_SYMBOLS), data["filter_length"] // 2 + 1,
                           train["segment_size"] // data["hop_length"], n_speakers=max(n_speakers, 1), **ctor)
    perturb(net_g, torch.Generator().manual_seed(77))
    net_g.eval()
    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    # utils.save_checkpoint of the authors' code
    optim_g = torch.optim.AdamW(net_g.parameters(), train["learning_rate"], betas=train["betas"], eps=train["eps"])
    torch.save({"model": net_g.state_dict(), "iteration": 1000, "optimizer": optim_g.state_dict(),
                "learning_rate": train["learning_rate"]}, folder / "G.pth")
    if keep_discriminator:
        net_d = MultiPeriodDiscriminator(model["use_spectral_norm"])
        torch.save({"model": net_d.state_dict(), "iteration": 1000, "optimizer": None,
                    "learning_rate": train["learning_rate"]}, folder / "D.pth")
    with open(folder / "config.json", "w", encoding="utf-8") as f:
        json.dump({"train": train, "data": data, "model": model}, f, indent=2)

    phonemes = "həlˈoʊ wˈɜːld, ðɪs ɪz vˈaɪts."
    ids = [0]
    for p in phonemes:
        ids += [VITS_IDS[p], 0]  # commons.intersperse(text, 0)
    sid = n_speakers - 1 if n_speakers > 1 else None
    with torch.no_grad():
        audio, *_ = net_g.infer(torch.LongTensor([ids]), torch.LongTensor([len(ids)]),
                                sid=None if sid is None else torch.LongTensor([sid]), noise_scale=0.0,
                                length_scale=1.0, noise_scale_w=0.0)
    write_reference(folder, "G.pth", ids, sid, audio)


def make_pickle_oddities(out_dir):
    """A torch.save file with what checkpoints pickle besides tensors, for the reader's tests."""
    import collections
    from lightning.fabric.utilities.data import AttributeDict

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    obj = {
        "path": pathlib.PosixPath("/data/voice/train.csv"),
        "hparams": AttributeDict(sample_rate=22050, resblock="2", rates=(8, 8, 4)),
        "numpy_scalar": np.float64(0.5),
        "ordered": collections.OrderedDict([("b", 2), ("a", torch.ones(2, dtype=torch.int64))]),
        "half": torch.tensor([1.5, -2.0], dtype=torch.float16),
        "bf16": torch.tensor([3.0], dtype=torch.bfloat16),
        "view": base.t(),  # non-contiguous, shares base's storage
        "row": base[1],    # an offset into the same storage
        "base": base,
        "nested": {"deep": {"x": torch.full((2, 2), 7.0)}},
        "big_int": 2**40,
        "neg": -3,
        "text": "ɲ ŋ",
    }
    torch.save(obj, out_dir / "oddities.pt")
    print(f"oddities.pt: {os.path.getsize(out_dir / 'oddities.pt')} bytes")


def main():
    out, full = parse_args("real-size voices with discriminators (not committed)")
    archs = {k: v for k, v in FULL.items()} if full else {k: dict(v, **TINY) for k, v in ARCHS.items()}
    for name, args in archs.items():
        make(name, args, out, keep_discriminator=full)
    for name, (model_args, speakers) in (VITS_FULL if full else VITS_ARCHS).items():
        make_vits(name, model_args, speakers, out, keep_discriminator=full)
    if not full:
        make_pickle_oddities(out)


if __name__ == "__main__":
    sys.exit(main())
