// `ttsd synthesize --checkpoint CKPT|RUN_DIR --text "..." --out x.wav`: listen to a checkpoint.
// `--resynthesize in.wav` instead of text: the recording through the voice's vocoder alone.
#include <cstdio>

#include "core/audio/npy.h"
#include "core/audio/wav.h"
#include "core/inference/synthesizer.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct SynthesizeOptions {
  std::string checkpoint;
  std::string text;
  std::vector<int64_t> ids;  // symbol ids, instead of text
  std::string resynthesize;  // a recording, instead of text
  std::string out;
  std::string mel_out;
  std::string wave_npy;  // the samples as float32 .npy (the WAV is 16-bit)
  core::inference::SynthesisOptions synth;
  int threads = 0;
};

int RunSynthesize(const SynthesizeOptions& opt) {
  const int inputs = !opt.text.empty() + !opt.resynthesize.empty() + !opt.ids.empty();
  if (inputs != 1) {
    std::fprintf(stderr, "error: give one of a sentence (--text), symbol ids (--ids) or a recording (--resynthesize), not %s\n",
                 inputs == 0 ? "none" : "several");
    return kExitBadConfig;
  }
  ConfigureThreads(opt.threads, 0);
  auto synth = core::inference::Synthesizer::Create(opt.checkpoint);
  if (!synth.ok()) return ReportError(synth.status());
  auto result = !opt.resynthesize.empty() ? (*synth)->Resynthesize(opt.resynthesize, opt.synth)
                : !opt.ids.empty()        ? (*synth)->SynthesizeIds(opt.ids, opt.synth)
                                          : (*synth)->Synthesize(opt.text, opt.synth);
  if (!result.ok()) return ReportError(result.status());
  if (auto st = core::WriteWav16(opt.out, result->wave, result->sample_rate); !st.ok()) return ReportError(st);
  if (!opt.mel_out.empty()) {
    if (auto st = core::WriteNpy(opt.mel_out, result->mel); !st.ok()) return ReportError(st);
  }
  if (!opt.wave_npy.empty()) {
    core::FloatMatrix samples{1, static_cast<int64_t>(result->wave.size()), result->wave};
    if (auto st = core::WriteNpy(opt.wave_npy, samples); !st.ok()) return ReportError(st);
  }
  const bool vits = (*synth)->config().model.type == "vits";
  if (!opt.resynthesize.empty()) {
    std::printf("%s: %.2f s, %s resynthesized by %s from %s\nMCD to the recording: %.2f dB\n", opt.out.c_str(),
                static_cast<double>(result->wave.size()) / result->sample_rate, opt.resynthesize.c_str(),
                vits ? "the posterior encoder and VITS generator" : "Griffin-Lim of its log-mel",
                (*synth)->checkpoint_path().c_str(), result->mcd_db);
    return kExitOk;
  }
  std::printf("%s: %.2f s (%lld mel frames, %s) from %s\nsymbols: %s\n", opt.out.c_str(),
              static_cast<double>(result->wave.size()) / result->sample_rate, static_cast<long long>(result->mel.cols),
              vits ? "VITS generator" : "Griffin-Lim", (*synth)->checkpoint_path().c_str(), result->symbols.c_str());
  return kExitOk;
}

void AddSynthesizeOptions(CLI::App* s, const std::shared_ptr<SynthesizeOptions>& opt, int* exit_code) {
  s->add_option("--checkpoint", opt->checkpoint, "ckpt-*.pt file or a run folder (uses checkpoints/latest)")->required();
  s->add_option("--resynthesize", opt->resynthesize,
                 "Instead of text: a recording to pass through the voice's vocoder alone (VITS: posterior encoder "
                 "and generator; Glow-TTS: Griffin-Lim of its log-mel), the ceiling of what the voice can sound like")
      ->check(CLI::ExistingFile);
  s->add_option("--ids", opt->ids, "Instead of text: the symbol ids the model reads, comma-separated (another "
                                    "tool's ids, to compare its output with ttsd's)")
      ->delimiter(',');
  s->add_option("--mel-out", opt->mel_out, "Also write the log-mel as .npy");
  s->add_option("--wave-npy", opt->wave_npy, "Also write the samples as float32 .npy (exact, for comparing with "
                                              "another tool's output; the WAV is 16-bit)");
  s->add_option("--speaker", opt->synth.speaker, "Speaker name (multi-speaker voices)");
  s->add_option("--noise-scale", opt->synth.noise_scale, "Prior temperature, >= 0 (default: the config's)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--length-scale", opt->synth.length_scale, "> 1 speaks slower (default: the config's)")
      ->check(CLI::PositiveNumber);
  s->add_option("--noise-scale-w", opt->synth.noise_scale_w,
                "VITS: duration noise of the stochastic duration predictor, >= 0; 0 gives the same rhythm every "
                "time (default: the config's)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--griffin-lim-iters", opt->synth.griffin_lim_iters, "Iterations (default: the config's)");
  s->add_option("--seed", opt->synth.seed, "Noise seed");
  s->add_option("--threads", opt->threads, "LibTorch threads");
  s->callback([opt, exit_code] { *exit_code = RunSynthesize(*opt); });
}

}  // namespace

void RegisterSynthesizeCommands(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<SynthesizeOptions>();
  auto* s = app.add_subcommand("synthesize", "Speak a sentence with a trained checkpoint (Glow-TTS through Griffin-Lim, VITS through its own generator)");
  s->add_option("--text", opt->text, "The sentence");
  s->add_option("--out", opt->out, "Output WAV")->required();
  AddSynthesizeOptions(s, opt, exit_code);
  // The short form: `ttsd synth --checkpoint F "text" -o out.wav`.
  auto short_opt = std::make_shared<SynthesizeOptions>();
  auto* short_form = app.add_subcommand("synth", "Same as synthesize: ttsd synth --checkpoint F \"text\" -o out.wav");
  short_form->add_option("text", short_opt->text, "The sentence");
  short_form->add_option("-o,--out", short_opt->out, "Output WAV")->required();
  AddSynthesizeOptions(short_form, short_opt, exit_code);
}

}  // namespace ttsd::server
