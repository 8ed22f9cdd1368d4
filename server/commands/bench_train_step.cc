// `ttsd bench train-step`: optimizer steps per second of the configured model on a synthetic batch of
// a fixed shape (random symbols and mels, full lengths): 1 warm-up step, then N timed steps. One JSON
// line, so runs can be compared by script (bench/BENCHMARKS.md).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/models/glow_tts/glow_tts.h"
#include "core/train/gradients.h"
#include "core/train/trainer.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct TrainStepOptions {
  std::string config;
  int batch_size = 16;
  int text_length = 100;
  int frames = 400;
  int steps = 5;
  int threads = 0;
};

int RunTrainStep(const TrainStepOptions& opt) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  const core::TrainConfig& cfg = parsed->config;
  int threads = ConfigureThreads(opt.threads, cfg.threads);
  torch::manual_seed(cfg.seed);
  const int64_t n_symbols = 160, n_mels = cfg.audio.n_mels;
  core::models::GlowTts model(cfg.model, n_symbols, n_mels, /*n_speakers=*/1);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-4).betas(std::make_tuple(0.9, 0.98)).eps(1e-9));
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  const int64_t b = opt.batch_size, t = opt.text_length, f = opt.frames;
  auto ids = torch::randint(1, n_symbols, {b, t}, torch::kInt64);
  auto id_lengths = torch::full({b}, t, torch::kInt64);
  auto mels = torch::randn({b, n_mels, f}) - 4.0;
  auto mel_lengths = torch::full({b}, f, torch::kInt64);
  auto speakers = torch::zeros({b}, torch::kInt64);
  model->train();
  auto step = [&] {
    auto l = model->Losses(model->forward(ids, id_lengths, mels, mel_lengths, speakers));
    core::ClearGradients(optimizer);
    (l.mle + l.duration).backward();
    torch::nn::utils::clip_grad_norm_(model->parameters(), 5.0);
    optimizer.step();
  };
  step();  // warm-up (also ActNorm's data-dependent init)
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < opt.steps; ++i) step();
  double step_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / opt.steps;
  nlohmann::json j = {{"model", "glow_tts/" + cfg.model.preset}, {"params", params}, {"batch", b},
                      {"text_length", t}, {"frames", b * f}, {"threads", threads},
                      {"step_s", step_s}, {"frames_per_s", static_cast<double>(b * f) / step_s}};
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

}  // namespace

void RegisterBenchTrainStep(CLI::App& bench, int* exit_code) {
  auto opt = std::make_shared<TrainStepOptions>();
  auto* s = bench.add_subcommand("train-step", "Training steps per second on a synthetic batch (one JSON line)");
  s->add_option("--config", opt->config, "Training config (YAML): its model section is benchmarked")->required();
  s->add_option("--batch-size", opt->batch_size, "Utterances per batch")->check(CLI::PositiveNumber);
  s->add_option("--text-length", opt->text_length, "Symbols per utterance")->check(CLI::PositiveNumber);
  s->add_option("--frames", opt->frames, "Mel frames per utterance")->check(CLI::PositiveNumber);
  s->add_option("--steps", opt->steps, "Timed steps")->check(CLI::PositiveNumber);
  s->add_option("--threads", opt->threads, "LibTorch threads");
  s->callback([opt, exit_code] { *exit_code = RunTrainStep(*opt); });
}

}  // namespace ttsd::server
