// Multi-head self-attention with relative position representations (Shaw et al., 2018) limited to a
// window of +-window_size positions, as in the Glow-TTS / VITS text encoder. Keys and values get a
// learned embedding per relative distance, shared across heads.
#pragma once

#include <torch/torch.h>

#include "core/models/modules/dropout.h"

namespace ttsd::core::models {

struct RelativeAttentionImpl : torch::nn::Module {
  RelativeAttentionImpl(int64_t channels, int64_t n_heads, int64_t window_size, double dropout);
  // x: [B, C, T]; mask: [B, 1, T]. Returns [B, C, T].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);

  int64_t n_heads, head_dim, window_size;
  torch::nn::Conv1d q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
  Dropout drop{nullptr};
  torch::Tensor rel_k, rel_v;  // [2 * window_size + 1, head_dim]
};
TORCH_MODULE(RelativeAttention);

// Exposed for tests. BandToAbsolute: [B, H, L, 2w+1] values by relative distance -w..w -> [B, H, L, L]
// by absolute key position, zero outside the window. AbsoluteToBand: the inverse, reading the band.
torch::Tensor BandToAbsolute(const torch::Tensor& x);
torch::Tensor AbsoluteToBand(const torch::Tensor& x, int64_t window);

}  // namespace ttsd::core::models
