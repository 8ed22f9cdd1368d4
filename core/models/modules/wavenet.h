// The non-causal WaveNet of Glow-TTS / VITS couplings: dilated convs with gated tanh*sigmoid
// activations, residual and skip paths, optional global conditioning g (speaker embedding).
#pragma once

#include <torch/torch.h>

#include "core/models/modules/dropout.h"

namespace ttsd::core::models {

struct WaveNetImpl : torch::nn::Module {
  WaveNetImpl(int64_t hidden, int64_t kernel, int64_t dilation_rate, int64_t layers, int64_t gin_channels,
              double dropout);
  // x: [B, hidden, T], mask [B, 1, T], g: [B, gin, 1] or undefined. Returns the summed skips.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g);

  int64_t hidden;
  torch::nn::ModuleList in_layers, res_skip_layers;
  torch::nn::Conv1d cond{nullptr};  // g -> 2 * hidden * layers, when gin_channels > 0
  Dropout drop{nullptr};
};
TORCH_MODULE(WaveNet);

}  // namespace ttsd::core::models
