// `ttsd bench features`: log-mel throughput on the config's own dataset, in frames per second per core.
// (`ttsd bench train-step` lives in bench_train_step.cc.)
// bench/torchaudio_mel.py measures torchaudio on the same clips; bench/features.sh runs both.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/audio/mel.h"
#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "core/data/manifest.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct BenchOptions {
  std::string config;
  int clips = 20;
  double clip_seconds = 10.0;
  int repeats = 5;
  int threads = 1;
};

// The dataset's utterances in manifest order, concatenated and cut into clips of clip_seconds.
absl::StatusOr<std::vector<std::vector<float>>> BuildClips(const core::TrainConfig& cfg, const BenchOptions& opt) {
  auto manifest = core::ReadManifest(cfg.data);
  if (!manifest.ok()) return manifest.status();
  const size_t clip_len = static_cast<size_t>(opt.clip_seconds * cfg.audio.sample_rate);
  std::vector<std::vector<float>> clips;
  std::vector<float> pending;
  for (const auto& u : manifest->utterances) {
    if (static_cast<int>(clips.size()) >= opt.clips) break;
    auto audio = core::ReadAudio(u.audio_path);
    if (!audio.ok()) continue;  // `ttsd data check` reports these; the benchmark just skips them
    auto mono = core::ToMono(*std::move(audio));
    auto samples = core::Resample(mono.samples, mono.sample_rate, cfg.audio.sample_rate);
    if (!samples.ok()) continue;
    pending.insert(pending.end(), samples->begin(), samples->end());
    while (pending.size() >= clip_len && static_cast<int>(clips.size()) < opt.clips) {
      clips.emplace_back(pending.begin(), pending.begin() + clip_len);
      pending.erase(pending.begin(), pending.begin() + clip_len);
    }
  }
  if (clips.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("the dataset holds less than one ", opt.clip_seconds,
                                                      " s clip of readable audio"));
  }
  return clips;
}

int RunFeatures(const BenchOptions& opt) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  const auto& cfg = parsed->config;
  torch::set_num_threads(std::max(1, opt.threads));
  auto clips = BuildClips(cfg, opt);
  if (!clips.ok()) return ReportError(clips.status());
  core::MelExtractor mel(cfg.audio);
  mel.Compute((*clips)[0]);  // warm-up: allocator, FFT plans

  double best = 1e30;
  int64_t frames = 0;
  for (int r = 0; r < std::max(1, opt.repeats); ++r) {
    frames = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (const auto& clip : *clips) frames += mel.Compute(clip).cols;
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double fps = frames / best;
  std::printf("ttsd mel: %zu clips x %.1f s, %lld frames, best of %d: %.3f s -> %.4g frames/s "
              "(%d thread%s, %.4g frames/s per core)\n",
              clips->size(), opt.clip_seconds, static_cast<long long>(frames), opt.repeats, best, fps, opt.threads,
              opt.threads == 1 ? "" : "s", fps / std::max(1, opt.threads));
  return kExitOk;
}

}  // namespace

void RegisterBenchCommands(CLI::App& app, int* exit_code) {
  auto* bench = app.add_subcommand("bench", "Benchmarks (results and commands in bench/BENCHMARKS.md)");
  bench->require_subcommand(1);
  auto opt = std::make_shared<BenchOptions>();
  auto* features = bench->add_subcommand("features", "Log-mel frames per second per core on the dataset's audio");
  features->add_option("--config", opt->config, "Training config (YAML)")->required();
  features->add_option("--clips", opt->clips, "Number of clips")->check(CLI::PositiveNumber);
  features->add_option("--clip-seconds", opt->clip_seconds, "Clip length in seconds")->check(CLI::PositiveNumber);
  features->add_option("--repeats", opt->repeats, "Timed passes; the best is reported")->check(CLI::PositiveNumber);
  features->add_option("--threads", opt->threads, "LibTorch threads")->check(CLI::PositiveNumber);
  features->callback([opt, exit_code] { *exit_code = RunFeatures(*opt); });
  RegisterBenchTrainStep(*bench, exit_code);
  RegisterBenchStore(*bench, exit_code);
}

}  // namespace ttsd::server
