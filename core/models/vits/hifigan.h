// The waveform side of VITS: the HiFi-GAN generator (Kong et al., 2020, V1 layout) that decodes latent
// frames into audio, and the discriminators that judge it: one per period p (the waveform folded into
// [T / p, p] and read with (k, 1) convolutions) plus one on the raw waveform (the scale discriminator),
// as in VITS. Discriminator widths scale with discriminator_width so small presets stay cheap.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "core/config/train_config.h"
#include "core/models/modules/weight_norm.h"

namespace ttsd::core::models {

// HiFi-GAN's residual blocks. Type 1: per dilation d, leaky ReLU -> conv(k, d) -> leaky ReLU ->
// conv(k, 1), added back (convs1, convs2). Type 2, the lighter one of Piper's x_low and low voices: per
// dilation d, leaky ReLU -> conv(k, d), added back (convs).
struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(int64_t channels, int64_t kernel, const std::vector<int>& dilations, int type = 1);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::ModuleList convs1, convs2;  // type 1
  torch::nn::ModuleList convs;           // type 2
};
TORCH_MODULE(ResBlock);

struct HifiGanGeneratorImpl : torch::nn::Module {
  HifiGanGeneratorImpl(const VitsConfig& c, int64_t in_channels, int64_t gin_channels);
  // z: [B, in, T] latent frames; g: [B, gin, 1] or undefined. Returns [B, 1, T * prod(upsample_rates)] in [-1, 1].
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& g);

  int64_t kernels_per_level;
  torch::nn::Conv1d conv_pre{nullptr}, conv_post{nullptr}, cond{nullptr};
  torch::nn::ModuleList ups, resblocks;  // resblocks: kernels_per_level per upsampling level
};
TORCH_MODULE(HifiGanGenerator);

// What a discriminator says of a waveform: its score map and every hidden layer's features.
struct Judgement {
  torch::Tensor score;                     // [B, N]
  std::vector<torch::Tensor> features;
};

struct PeriodDiscriminatorImpl : torch::nn::Module {
  PeriodDiscriminatorImpl(int64_t period, double width);
  Judgement forward(const torch::Tensor& wave);  // [B, 1, T]
  int64_t period;
  torch::nn::ModuleList convs;
  WnConv2d post{nullptr};
};
TORCH_MODULE(PeriodDiscriminator);

struct ScaleDiscriminatorImpl : torch::nn::Module {
  explicit ScaleDiscriminatorImpl(double width);
  Judgement forward(const torch::Tensor& wave);
  torch::nn::ModuleList convs;
  WnConv1d post{nullptr};
};
TORCH_MODULE(ScaleDiscriminator);

// The scale discriminator followed by one period discriminator per discriminator_periods entry.
struct VitsDiscriminatorImpl : torch::nn::Module {
  explicit VitsDiscriminatorImpl(const VitsConfig& c);
  std::vector<Judgement> forward(const torch::Tensor& wave);
  torch::nn::ModuleList discriminators;
};
TORCH_MODULE(VitsDiscriminator);

// Least-squares GAN losses (as HiFi-GAN / VITS), each a sum over discriminators.
struct DiscriminatorLoss {
  torch::Tensor total;
  std::vector<double> per_discriminator;  // real + fake term of each, in discriminator order
};
DiscriminatorLoss LeastSquaresDiscriminatorLoss(const std::vector<Judgement>& real, const std::vector<Judgement>& fake);
torch::Tensor LeastSquaresGeneratorLoss(const std::vector<Judgement>& fake);
// L1 between the discriminators' hidden features of real (detached) and generated audio, times 2.
torch::Tensor FeatureMatchingLoss(const std::vector<Judgement>& real, const std::vector<Judgement>& fake);

}  // namespace ttsd::core::models
