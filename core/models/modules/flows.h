// Invertible layers of the Glow-TTS decoder. Each maps x -> z with a log-determinant (forward) and
// z -> x exactly (reverse). Tensors are [B, C, T] with a [B, 1, T] mask.
#pragma once

#include <torch/torch.h>

#include <functional>

#include "core/models/modules/wavenet.h"

namespace ttsd::core::models {

struct FlowOutput {
  torch::Tensor z;
  torch::Tensor logdet;  // [B]; undefined in reverse
};

// Activation normalisation (Glow): per-channel scale and bias, initialised from the first training
// batch so outputs start at zero mean, unit variance. `initialized` is a buffer, so it is saved in
// checkpoints and a resumed run never re-initialises.
struct ActNormImpl : torch::nn::Module {
  explicit ActNormImpl(int64_t channels);
  FlowOutput forward(const torch::Tensor& x, const torch::Tensor& mask, bool reverse);
  torch::Tensor logs, bias, initialized;
  // Data parallelism: sums a tensor across the ranks in place, so the initial statistics are the
  // global batch's on every rank (null: one process).
  std::function<void(torch::Tensor&)> sum_across_ranks;
};
TORCH_MODULE(ActNorm);

// Sets sum_across_ranks on every ActNorm in `model` (none: nothing happens).
void SetActNormRankSum(torch::nn::Module& model, const std::function<void(torch::Tensor&)>& sum);

// Invertible 1x1 convolution over groups of n_split channels (Glow-TTS): cheaper than a full CxC
// matrix and mixes the two halves the couplings split.
struct InvConvNearImpl : torch::nn::Module {
  InvConvNearImpl(int64_t channels, int64_t n_split);
  FlowOutput forward(const torch::Tensor& x, const torch::Tensor& mask, bool reverse);
  int64_t channels, n_split;
  torch::Tensor weight;  // [n_split, n_split], orthogonal at init
};
TORCH_MODULE(InvConvNear);

// Affine coupling: the first half of the channels, through a WaveNet, predicts a shift and log-scale
// for the second half. The output conv starts at zero, so every coupling starts as the identity.
struct AffineCouplingImpl : torch::nn::Module {
  AffineCouplingImpl(int64_t channels, int64_t hidden, int64_t kernel, int64_t dilation_rate, int64_t layers,
                     int64_t gin_channels, double dropout);
  FlowOutput forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g, bool reverse);
  torch::nn::Conv1d start{nullptr}, end{nullptr};
  WaveNet wn{nullptr};
};
TORCH_MODULE(AffineCoupling);

}  // namespace ttsd::core::models
