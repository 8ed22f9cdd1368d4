#include "core/train/trainable_model.h"

namespace ttsd::core::train {

std::unique_ptr<TrainableModel> MakeGlowTtsTrainable(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers,
                                                     const torch::Device& device);
std::unique_ptr<TrainableModel> MakeVitsTrainable(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers,
                                                  const torch::Device& device);

std::unique_ptr<TrainableModel> MakeTrainableModel(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers,
                                                   const torch::Device& device) {
  if (cfg.model.type == "vits") return MakeVitsTrainable(cfg, n_symbols, n_speakers, device);
  return MakeGlowTtsTrainable(cfg, n_symbols, n_speakers, device);
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(const std::vector<torch::Tensor>& params, const TrainingConfig& t) {
  const auto betas = std::make_tuple(t.adam_beta1, t.adam_beta2);
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(t.learning_rate).betas(betas).eps(t.adam_eps).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(t.learning_rate).betas(betas).eps(t.adam_eps).weight_decay(t.weight_decay));
}

torch::Tensor TrainableModel::RankShares(const torch::Tensor& counts) {
  torch::Tensor local = counts.to(torch::kCPU, torch::kFloat64);
  if (!rank_sum_) return torch::ones_like(local);
  torch::Tensor global = local.clone();
  rank_sum_(global);
  return local * world_ / global;
}

bool TrainableModel::AllRanks(bool ok) {
  if (!rank_sum_) return ok;
  torch::Tensor bad = torch::tensor({ok ? 0 : 1}, torch::kInt32);
  rank_sum_(bad);
  return bad.item<int>() == 0;
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

OneUtterance::OneUtterance(const std::vector<int64_t>& id_list, int64_t speaker, const torch::Device& device)
    : ids(torch::tensor(id_list, torch::kInt64).unsqueeze(0).to(device)),
      lengths(torch::tensor({static_cast<int64_t>(id_list.size())}, torch::kInt64).to(device)),
      speakers(torch::tensor({speaker}, torch::kInt64).to(device)) {}

Batch OnDevice(const Batch& b, const torch::Device& device) {
  if (device.is_cpu()) return b;
  Batch d = b;
  for (auto* t : {&d.ids, &d.id_lengths, &d.mels, &d.mel_lengths, &d.speakers, &d.wave, &d.wave_lengths}) {
    if (t->defined()) *t = t->to(device);
  }
  return d;
}

GeneratorGuard::GeneratorGuard(const torch::Device& device) : device_(device) {
  cpu_ = at::detail::getDefaultCPUGenerator().get_state();
  if (device_.is_cuda()) cuda_ = at::globalContext().defaultGenerator(device_).get_state();
}

GeneratorGuard::~GeneratorGuard() {
  at::Generator cpu = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
  cpu.set_state(cpu_);
  if (device_.is_cuda()) {
    at::Generator cuda = at::globalContext().defaultGenerator(device_);
    cuda.set_state(cuda_);
  }
}

}  // namespace ttsd::core::train
