// `ttsd train --config FILE [--output-dir DIR] [--resume auto|PATH] [--device cpu|cuda:N] [--threads N]
//  [--max-steps N]`
// SIGINT/SIGTERM: finish the step, checkpoint, exit 0. A second SIGINT exits at once (exit 130); the
// last complete checkpoint stays valid because checkpoints are written atomically.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "core/train/console_sink.h"
#include "core/common/file_util.h"
#include "core/train/precision.h"
#include "core/train/trainer.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_interrupts{0};  // lock-free, so safe in a signal handler

void OnSignal(int sig) {
  if (sig == SIGINT && g_interrupts.fetch_add(1) + 1 >= 2) _exit(130);
  g_stop.store(true);
}

struct TrainOptions {
  std::string config;
  std::string output_dir;
  std::string resume;
  std::string device;
  int threads = 0;
  int64_t max_steps = -1;
};

int RunTrain(const TrainOptions& opt) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  core::TrainConfig cfg = parsed->config;
  if (!opt.device.empty()) cfg.training.device = opt.device;
  if (opt.max_steps >= 0) cfg.training.max_steps = opt.max_steps;
  // --device bypassed the config checks: check the pair again, and that the device is really there.
  if (auto device = core::train::ResolveDevice(cfg.training.device); !device.ok()) {
    ReportError(device.status());
    return kExitBadConfig;
  } else if (device->is_cpu() && cfg.training.precision != "fp32") {
    ReportError(absl::InvalidArgumentError(absl::StrCat(
        "training.precision ", cfg.training.precision, " needs a CUDA device; the CPU trains in fp32")));
    return kExitBadConfig;
  }
  std::string out = !opt.output_dir.empty() ? opt.output_dir : cfg.output_dir;
  if (out.empty()) {
    return ReportError(absl::InvalidArgumentError("no output folder: pass --output-dir or set output_dir in the config"));
  }
  int threads = ConfigureThreads(opt.threads, cfg.threads);
  auto sink = core::train::ConsoleSink::Create(out);
  if (!sink.ok()) {
    if (auto st = core::EnsureDirectory(out); !st.ok()) return ReportError(st);
    sink = core::train::ConsoleSink::Create(out);
    if (!sink.ok()) return ReportError(sink.status());
  }
  (*sink)->OnLog(absl::StrCat("ttsd train ", opt.config, " -> ", out, " (", threads, " threads)"));
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  core::train::TrainerOptions options;
  options.config = cfg;
  options.output_dir = out;
  options.resume = opt.resume;
  options.sink = sink->get();
  options.stop_requested = &g_stop;
  auto result = core::train::Train(options);
  if (!result.ok()) {
    (*sink)->OnLog(absl::StrCat("error: ", result.status().message()));
    return ReportError(result.status());
  }
  if (result->reason == core::train::StopReason::kNonFiniteLoss) return kExitFailed;
  return kExitOk;
}

}  // namespace

void RegisterTrainCommands(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<TrainOptions>();
  auto* train = app.add_subcommand("train", "Train a voice from a config (standalone, no daemon)");
  train->add_option("--config", opt->config, "Training config (YAML)")->required();
  train->add_option("--output-dir", opt->output_dir, "Run folder (default: output_dir in the config)");
  train->add_option("--resume", opt->resume, "auto (newest valid checkpoint in the run folder) or a checkpoint path");
  train->add_option("--device", opt->device, "cpu or cuda:N (overrides training.device)");
  train->add_option("--threads", opt->threads, "LibTorch threads (default: config threads, else every core)");
  train->add_option("--max-steps", opt->max_steps, "Override training.max_steps (0 = no step limit)")->check(CLI::NonNegativeNumber);
  train->callback([opt, exit_code] { *exit_code = RunTrain(*opt); });
}

}  // namespace ttsd::server
