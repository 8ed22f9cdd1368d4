// `ttsd audio mel` (WAV -> .npy log-mel) and `ttsd audio griffin-lim` (.npy log-mel -> WAV).
#include <cstdio>

#include "core/audio/griffin_lim.h"
#include "core/audio/mel.h"
#include "core/audio/npy.h"
#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct AudioOptions {
  std::string config;  // optional: audio defaults when empty
  std::string in;
  std::string out;
  int iters = 0;
  int threads = 0;
};

// Audio settings from --config when given (only its audio section matters here), else defaults.
std::optional<core::AudioConfig> AudioSettings(const AudioOptions& opt, int* code) {
  if (opt.config.empty()) return core::AudioConfig{};
  auto parsed = LoadConfigOrReport(opt.config, code);
  if (!parsed) return std::nullopt;
  return parsed->config.audio;
}

int RunMel(const AudioOptions& opt) {
  int code = kExitOk;
  auto cfg = AudioSettings(opt, &code);
  if (!cfg) return code;
  ConfigureThreads(opt.threads, 0);
  auto audio = core::ReadAudio(opt.in);
  if (!audio.ok()) return ReportError(audio.status());
  core::Audio mono = core::ToMono(*std::move(audio));
  auto resampled = core::Resample(mono.samples, mono.sample_rate, cfg->sample_rate);
  if (!resampled.ok()) return ReportError(resampled.status());
  core::MelExtractor mel(*cfg);
  core::FloatMatrix m = mel.Compute(*resampled);
  if (auto st = core::WriteNpy(opt.out, m); !st.ok()) return ReportError(st);
  std::printf("%s: [%lld mels, %lld frames] float32 log-mel (%d Hz, hop %d)\n", opt.out.c_str(),
              static_cast<long long>(m.rows), static_cast<long long>(m.cols), cfg->sample_rate, cfg->hop_length);
  return kExitOk;
}

int RunGriffinLim(const AudioOptions& opt) {
  int code = kExitOk;
  auto cfg = AudioSettings(opt, &code);
  if (!cfg) return code;
  ConfigureThreads(opt.threads, 0);
  auto m = core::ReadNpy(opt.in);
  if (!m.ok()) return ReportError(m.status());
  if (m->rows != cfg->n_mels) {
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat(opt.in, " has ", m->rows, " rows but audio.n_mels is ", cfg->n_mels,
                     "; pass the --config the mel was made with")));
  }
  auto wave = core::GriffinLim(*m, *cfg, opt.iters > 0 ? opt.iters : cfg->griffin_lim_iters);
  if (auto st = core::WriteWav16(opt.out, wave, cfg->sample_rate); !st.ok()) return ReportError(st);
  std::printf("%s: %.2f s at %d Hz\n", opt.out.c_str(), static_cast<double>(wave.size()) / cfg->sample_rate,
              cfg->sample_rate);
  return kExitOk;
}

}  // namespace

void RegisterAudioCommands(CLI::App& app, int* exit_code) {
  auto* audio = app.add_subcommand("audio", "Audio debugging tools");
  audio->require_subcommand(1);
  auto opt = std::make_shared<AudioOptions>();

  auto* mel = audio->add_subcommand("mel", "Write a WAV's log-mel spectrogram as NumPy .npy [n_mels, frames]");
  mel->add_option("--config", opt->config, "Config whose audio section to use (default settings if omitted)");
  mel->add_option("--in", opt->in, "Input WAV")->required();
  mel->add_option("--out", opt->out, "Output .npy")->required();
  mel->add_option("--threads", opt->threads, "LibTorch threads");
  mel->callback([opt, exit_code] { *exit_code = RunMel(*opt); });

  auto* gl = audio->add_subcommand("griffin-lim", "Vocode a log-mel .npy to WAV with Griffin-Lim");
  gl->add_option("--config", opt->config, "Config whose audio section to use (default settings if omitted)");
  gl->add_option("--in", opt->in, "Input .npy [n_mels, frames]")->required();
  gl->add_option("--out", opt->out, "Output WAV")->required();
  gl->add_option("--iters", opt->iters, "Iterations (default audio.griffin_lim_iters)");
  gl->add_option("--threads", opt->threads, "LibTorch threads");
  gl->callback([opt, exit_code] { *exit_code = RunGriffinLim(*opt); });
}

}  // namespace ttsd::server
