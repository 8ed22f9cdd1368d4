"""Makes the Coqui TTS fixtures of the import tests with coqui-tts 0.28's own code (PyPI).

Each fixture is a small VITS built by TTS.tts.models.vits.Vits from a VitsConfig, every weight perturbed
(the zero-initialised layers too), saved by the Coqui trainer's own trainer.io.save_checkpoint with the
run's config.json (config.save_json) and, for the multi-speaker voice, speakers.pth written by its
SpeakerManager; the reference is Vits.inference on fixed ids with both noises 0 and length scale 1.
Coqui lives in a virtual environment of its own (torch 2.11, torchaudio 2.11): make_fixtures.sh.
"""

import os

import torch
from trainer.io import save_checkpoint
from TTS.tts.configs.shared_configs import CharactersConfig
from TTS.tts.configs.vits_config import VitsConfig
from TTS.tts.models.vits import Vits, VitsArgs
from TTS.tts.utils.speakers import SpeakerManager

from fixture_common import parse_args, perturb, write_reference

# Coqui's discriminators are 47 M parameters: the suite's fixtures are saved without them.
SMALL = dict(hidden_channels=16, hidden_channels_ffn_text_encoder=32, num_layers_text_encoder=2,
             init_discriminator=False)

ARCHS = {
    # Coqui's defaults: Graphemes (pad, eos, bos, blank, sorted letters, punctuation), ResBlock1 at 22.05 kHz;
    # the deterministic duration predictor (Coqui's stochastic one is 192 wide whatever the model's width)
    "coqui-vits": (dict(SMALL, upsample_initial_channel_decoder=64, use_sdp=False), None, 0),
    # VitsCharacters with phonemes, ResBlock2 and a dilation list per kernel, 16 kHz, three speakers
    "coqui-multispeaker": (dict(SMALL, resblock_type_decoder="2", resblock_kernel_sizes_decoder=[3, 5, 7],
                                resblock_dilation_sizes_decoder=[[1, 2], [2, 6], [3, 12]],
                                upsample_rates_decoder=[8, 8, 4], upsample_kernel_sizes_decoder=[16, 16, 8],
                                upsample_initial_channel_decoder=32, use_speaker_embedding=True,
                                speaker_embedding_channels=12),
                           CharactersConfig(characters_class="TTS.tts.models.vits.VitsCharacters", pad="_",
                                            eos=None, bos=None, blank="<BLNK>",
                                            characters="abcdefghijklmnopqrstuvwxyz",
                                            phonemes="ɑɐɒæəɚɛɜɪʊʌŋðθʃʒˈˌː",
                                            punctuations="!'(),-.:;? ", is_unique=False, is_sorted=True),
                           3),
}


def make(name, args, characters, speakers, out_dir, sample_rate):
    torch.manual_seed(2468)
    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    config = VitsConfig(model_args=VitsArgs(**args), characters=characters)
    config.audio.sample_rate = sample_rate
    if speakers:  # the speaker manager's own file, which the model reads its speaker count from
        manager = SpeakerManager()
        manager.name_to_id = {f"voice_{i}": i for i in range(speakers)}
        manager.save_ids_to_file(folder / "speakers.pth")
        config.model_args.speakers_file = str(folder / "speakers.pth")
    model = Vits.init_from_config(config)
    if speakers:
        model.config.model_args.speakers_file = "speakers.pth"  # relative, as the run folder is shipped
    perturb(model, torch.Generator().manual_seed(55))
    model.eval()
    optimizer = torch.optim.AdamW(model.parameters(), 2e-4)
    save_checkpoint(model.config, model, folder, current_step=500, epoch=3, optimizer=[optimizer])
    os.replace(folder / "checkpoint_500.pth", folder / "model.pth")
    model.config.save_json(str(folder / "config.json"))

    ids = model.tokenizer.text_to_ids("hello world, this is coqui.")
    model.inference_noise_scale = 0.0
    model.inference_noise_scale_dp = 0.0
    model.length_scale = 1.0
    sid = speakers - 1 if speakers else None
    with torch.no_grad():
        out = model.inference(torch.LongTensor([ids]), aux_input={
            "x_lengths": torch.LongTensor([len(ids)]), "d_vectors": None,
            "speaker_ids": None if sid is None else torch.LongTensor([sid]), "language_ids": None, "durations": None})
    write_reference(folder, "model.pth", ids, sid, out["model_outputs"],
                    speaker_name=None if sid is None else f"voice_{sid}")


def main():
    out, full = parse_args("Coqui's real VITS size (not committed)")
    if full:
        make("coqui-vits-full", {}, None, 0, out, 22050)
        make("coqui-multispeaker-full", dict(use_speaker_embedding=True, speaker_embedding_channels=256), None, 4,
             out, 22050)
        return
    for name, (args, characters, speakers) in ARCHS.items():
        make(name, args, characters, speakers, out, 16000 if speakers else 22050)


if __name__ == "__main__":
    main()
