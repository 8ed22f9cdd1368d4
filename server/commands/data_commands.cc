// `ttsd data check` and `ttsd data prepare`.
#include <cstdio>

#include "core/data/dataset.h"
#include "core/data/sampler.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct DataOptions {
  std::string config;
  int threads = 0;
};

int RunData(const DataOptions& opt, bool features) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  const core::TrainConfig& cfg = parsed->config;
  ConfigureThreads(opt.threads, 1);  // feature extraction parallelises over files, not inside the FFT
  auto tokenizer = core::Tokenizer::ForConfig(cfg.text);
  if (!tokenizer.ok()) return ReportError(tokenizer.status());
  core::PrepareOptions options;
  options.compute_features = features;
  auto ds = core::PrepareDataset(cfg, **tokenizer, options);
  if (!ds.ok()) return ReportError(ds.status());
  std::printf("%s", core::FormatDatasetReport(*ds, cfg).c_str());
  if (features) {
    std::vector<int64_t> frames;
    for (size_t i : ds->train) frames.push_back(ds->utterances[i].frames);
    core::BucketSampler sampler(frames, cfg.batch, cfg.seed);
    auto batches = sampler.EpochBatches(0);
    int64_t real = 0, padded = 0;
    for (const auto& b : batches) {
      int64_t longest = 0;
      for (size_t i : b) {
        real += frames[i];
        longest = std::max(longest, frames[i]);
      }
      padded += longest * static_cast<int64_t>(b.size());
    }
    std::printf("Batches  %zu per epoch (%s), %.1f%% of padded frames are real audio\n", batches.size(),
                cfg.batch.size > 0 ? ("size " + std::to_string(cfg.batch.size)).c_str()
                                   : ("max_frames " + std::to_string(cfg.batch.max_frames)).c_str(),
                padded > 0 ? 100.0 * real / padded : 0.0);
  }
  if (auto st = core::EnforceDataPolicy(*ds, cfg.data); !st.ok()) return ReportError(st);
  std::printf("OK: %zu usable utterances\n", ds->utterances.size());
  return kExitOk;
}

}  // namespace

void RegisterDataCommands(CLI::App& app, int* exit_code) {
  auto* data = app.add_subcommand("data", "Check a dataset or precompute its features");
  data->require_subcommand(1);
  auto opt = std::make_shared<DataOptions>();

  auto* check = data->add_subcommand("check", "Read every entry once and print the dataset report");
  check->add_option("--config", opt->config, "Training config (YAML)")->required();
  check->add_option("--threads", opt->threads, "LibTorch threads");
  check->callback([opt, exit_code] { *exit_code = RunData(*opt, /*features=*/false); });

  auto* prepare = data->add_subcommand("prepare", "Check, then fill the feature cache (mel + symbol ids)");
  prepare->add_option("--config", opt->config, "Training config (YAML)")->required();
  prepare->add_option("--threads", opt->threads, "LibTorch threads");
  prepare->callback([opt, exit_code] { *exit_code = RunData(*opt, /*features=*/true); });
}

}  // namespace ttsd::server
