// Gradient helpers shared by the trainer and `ttsd bench train-step`.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace ttsd::core {

// Drops every gradient instead of zero-filling it (PyTorch 2's set_to_none): the next backward writes
// fresh gradients, saving a fill and an add over all parameters per step. Adam skips a parameter
// that received no gradient, as in PyTorch 2.
inline void ClearGradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) p.mutable_grad().reset();
  }
}

// The parameters that train (requires_grad): frozen ones stay out of optimizers and clipping.
inline std::vector<torch::Tensor> RequiringGrad(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) {
    if (p.requires_grad()) out.push_back(p);
  }
  return out;
}

}  // namespace ttsd::core
