// The deterministic duration predictor of Glow-TTS (and VITS's non-stochastic option): two
// conv -> ReLU -> LayerNorm -> dropout blocks and a projection to one log-duration per symbol, optionally
// conditioned on a speaker embedding.
#pragma once

#include <torch/torch.h>

#include "core/models/modules/layers.h"

namespace ttsd::core::models {

struct DurationPredictorImpl : torch::nn::Module {
  DurationPredictorImpl(int64_t in_channels, int64_t filter_channels, int64_t kernel, double dropout,
                        int64_t gin_channels, double norm_eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g);
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr}, proj{nullptr}, cond{nullptr};
  ChannelNorm norm1{nullptr}, norm2{nullptr};
  Dropout drop{nullptr};
};
TORCH_MODULE(DurationPredictor);

}  // namespace ttsd::core::models
