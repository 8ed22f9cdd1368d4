// Convolutions with weight normalisation (Salimans & Kingma, 2016): weight = g * v / ||v||, the norm
// taken over every dimension but the output channels. HiFi-GAN's generator and discriminators use it to
// keep adversarial training stable. Parameters are named weight_g / weight_v as in PyTorch's
// weight_norm, so a parameter list reads the same as the papers' code. LibTorch's C++ API has no
// weight_norm hook, so the weight is recomputed in forward (one small kernel per conv).
#pragma once

#include <torch/torch.h>

namespace ttsd::core::models {

// A weight-normalised parameter pair, initialised from a plain weight (g = ||w|| per output channel).
struct WeightNormParams {
  torch::Tensor g, v;
  torch::Tensor Weight(int64_t dim) const;  // g * v / ||v||
};

struct WnConv1dImpl : torch::nn::Module {
  WnConv1dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t dilation = 1,
               int64_t groups = 1, int64_t padding = -1, bool bias = true);  // padding -1: "same" for odd kernels
  torch::Tensor forward(const torch::Tensor& x);
  int64_t stride, dilation, groups, padding;
  WeightNormParams w;
  torch::Tensor bias;
};
TORCH_MODULE(WnConv1d);

// Upsampling by `stride` with padding (kernel - stride) / 2, so the length grows exactly stride times.
struct WnConvTranspose1dImpl : torch::nn::Module {
  WnConvTranspose1dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t stride, padding;
  WeightNormParams w;  // weight [in, out, kernel]: normalised over dim 1
  torch::Tensor bias;
};
TORCH_MODULE(WnConvTranspose1d);

// A (kernel, 1) convolution over [B, C, T / p, p] (the period discriminator's 2-D view of a waveform).
struct WnConv2dImpl : torch::nn::Module {
  WnConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t stride, padding;
  WeightNormParams w;
  torch::Tensor bias;
};
TORCH_MODULE(WnConv2d);

}  // namespace ttsd::core::models
