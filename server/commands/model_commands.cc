// `ttsd model params --checkpoint CKPT|RUN_DIR [--match PATTERN]...`: the parameter names a model has,
// with shapes, so finetune.include / exclude / freeze / reinit patterns can be chosen and checked.
#include <cstdio>

#include "core/train/finetune.h"
#include "core/train/trainable_model.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct ModelParamsOptions {
  std::string checkpoint;
  std::vector<std::string> match;
};

int RunModelParams(const ModelParamsOptions& opt) {
  auto base = core::train::OpenPretrained(opt.checkpoint);
  if (!base.ok()) return ReportError(base.status());
  auto built = core::train::MakeTrainableModel(base->config, base->symbols.size(),
                                               static_cast<int64_t>(base->speakers.size()), torch::kCPU);
  torch::nn::Module& model = built->module();
  int64_t shown = 0, values = 0, total = 0;
  for (const auto& p : model.named_parameters()) {
    total += p.value().numel();
    if (!opt.match.empty() && !core::train::MatchesAny(p.key(), opt.match)) continue;
    std::printf("%-60s %-18s %lld\n", p.key().c_str(), c10::str(p.value().sizes()).c_str(),
                static_cast<long long>(p.value().numel()));
    ++shown;
    values += p.value().numel();
  }
  std::printf("%lld tensors, %lld of %lld parameters (%s, %zu speaker(s), %d symbols)\n",
              static_cast<long long>(shown), static_cast<long long>(values), static_cast<long long>(total),
              base->path.c_str(), base->speakers.size(), base->symbols.size());
  return kExitOk;
}

}  // namespace

void RegisterModelCommands(CLI::App& app, int* exit_code) {
  auto* model = app.add_subcommand("model", "Inspect a trained model");
  model->require_subcommand(1);
  auto opt = std::make_shared<ModelParamsOptions>();
  auto* params = model->add_subcommand("params", "List parameter names and shapes (for finetune.* patterns)");
  params->add_option("--checkpoint", opt->checkpoint, "ckpt-*.pt file or a run folder (its best, else latest)")
      ->required();
  params->add_option("--match", opt->match, "Only names matching these finetune-style patterns (glob or prefix)");
  params->callback([opt, exit_code] { *exit_code = RunModelParams(*opt); });
}

}  // namespace ttsd::server
