// `ttsd bench train-step`: optimizer steps per second of the configured model on a synthetic batch of
// a fixed shape (random symbols and mels, or for VITS random audio of frames x hop samples; full
// lengths): 1 warm-up step, then N timed steps. A VITS step is both optimizer steps (discriminators,
// then generator). One JSON line, so runs can be compared by script (bench/BENCHMARKS.md).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/models/glow_tts/glow_tts.h"
#include "core/models/vits/vits.h"
#include "core/train/finetune.h"
#include "core/train/gradients.h"
#include "core/train/trainer.h"
#include "core/train/vits_step.h"
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
  std::vector<std::string> freeze;  // finetune.freeze patterns (VITS)
};

int64_t Params(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

template <class StepFn>
double SecondsPerStep(int steps, const StepFn& step) {
  step();  // warm-up (also ActNorm's data-dependent init)
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
}

// VITS as its paper trains it: AdamW (0.8, 0.99, eps 1e-9) for both networks, lr 2e-4. --freeze
// patterns are frozen as finetune.freeze would (a text-side fine-tune's steps are timed as they train).
int RunVitsTrainStep(const TrainStepOptions& opt, core::TrainConfig cfg, int threads) {
  const int64_t n_symbols = 160, b = opt.batch_size, t = opt.text_length, f = opt.frames;
  core::models::Vits gen(cfg.model, cfg.audio, n_symbols, /*n_speakers=*/1);
  cfg.finetune.freeze = opt.freeze;
  core::train::FinetuneReport report;
  core::train::Freeze(cfg, *gen, &report);
  if (!report.warnings.empty()) {  // a pattern that names nothing: the step timed would not be the one meant
    for (const auto& w : report.warnings) std::fprintf(stderr, "error: --freeze: %s\n", w.c_str());
    return kExitBadConfig;
  }
  auto adamw = torch::optim::AdamWOptions(2e-4).betas(std::make_tuple(0.8, 0.99)).eps(1e-9).weight_decay(0.01);
  torch::optim::AdamW gen_opt(core::RequiringGrad(gen->GeneratorParameters()), adamw),
      disc_opt(core::RequiringGrad(gen->DiscriminatorParameters()), adamw);
  core::train::VitsStepper stepper(gen, gen_opt, disc_opt, cfg);
  core::train::VitsBatch batch;
  batch.ids = torch::randint(1, n_symbols, {b, t}, torch::kInt64);
  batch.id_lengths = torch::full({b}, t, torch::kInt64);
  batch.wave = (torch::rand({b, 1, f * cfg.audio.hop_length}) - 0.5) * 0.6;
  batch.wave_lengths = torch::full({b}, f * cfg.audio.hop_length, torch::kInt64);
  batch.speakers = torch::zeros({b}, torch::kInt64);
  double step_s = SecondsPerStep(opt.steps, [&] { stepper.Step(batch); });
  nlohmann::json j = {{"model", "vits/" + cfg.model.preset},
                      {"params_generator", Params(*gen) - Params(*gen->discriminator)},
                      {"params_discriminator", Params(*gen->discriminator)},
                      {"batch", b},
                      {"text_length", t},
                      {"frames", b * f},
                      {"segment_size", cfg.model.vits.segment_size},
                      {"frozen", cfg.finetune.freeze},
                      {"text_side_only", stepper.text_side_only()},
                      {"threads", threads},
                      {"step_s", step_s},
                      {"frames_per_s", static_cast<double>(b * f) / step_s}};
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

int RunTrainStep(const TrainStepOptions& opt) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  const core::TrainConfig& cfg = parsed->config;
  int threads = ConfigureThreads(opt.threads, cfg.threads);
  torch::manual_seed(cfg.seed);
  if (cfg.model.type == "vits") return RunVitsTrainStep(opt, cfg, threads);
  if (!opt.freeze.empty()) {
    std::fprintf(stderr, "error: --freeze times a VITS fine-tune's step; %s's model is %s\n", opt.config.c_str(),
                 cfg.model.type.c_str());
    return kExitBadConfig;
  }
  const int64_t n_symbols = 160, n_mels = cfg.audio.n_mels;
  core::models::GlowTts model(cfg.model, n_symbols, n_mels, /*n_speakers=*/1);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-4).betas(std::make_tuple(0.9, 0.98)).eps(1e-9));
  int64_t params = Params(*model);
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
  double step_s = SecondsPerStep(opt.steps, step);
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
  s->add_option("--freeze", opt->freeze, "VITS: parameters to freeze, as finetune.freeze (comma-separated)")
      ->delimiter(',');
  s->callback([opt, exit_code] { *exit_code = RunTrainStep(*opt); });
}

}  // namespace ttsd::server
