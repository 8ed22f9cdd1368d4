// The stochastic duration predictor of VITS (Kim et al., 2021, section 2.2.2): a normalizing flow that
// models the distribution of each symbol's duration d given the text, so speech can come out with a
// different rhythm each time. Training maximises a variational lower bound on log p(d | text):
// durations are made continuous by variational dequantisation (d - u, u in [0, 1) from a posterior
// flow) and augmented with a second channel nu (variational data augmentation); both posterior and
// prior flows are elementwise-affine, then neural-spline couplings over dilated depth-separable convs.
// Synthesis runs the prior flow backwards from noise and reads the log-duration channel.
#pragma once

#include <torch/torch.h>

#include "core/models/modules/dropout.h"
#include "core/models/modules/flows.h"
#include "core/models/modules/layers.h"

namespace ttsd::core::models {

// Dilated depth-separable convolutions: per layer a depthwise conv (dilation kernel^i), LayerNorm,
// GELU, a 1x1 conv, LayerNorm, GELU, dropout, added back. A condition g (same channels) is added first.
struct DdsConvImpl : torch::nn::Module {
  DdsConvImpl(int64_t channels, int64_t kernel, int64_t layers, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g);
  torch::nn::ModuleList separable, pointwise, norm1, norm2;
  Dropout drop{nullptr};
};
TORCH_MODULE(DdsConv);

// y = m + exp(logs) * x per channel.
struct ElementwiseAffineImpl : torch::nn::Module {
  explicit ElementwiseAffineImpl(int64_t channels);
  FlowOutput forward(const torch::Tensor& x, const torch::Tensor& mask, bool reverse);
  torch::Tensor m, logs;
};
TORCH_MODULE(ElementwiseAffine);

// Coupling over 2 channels: the first, through a DdsConv, parameterises a rational-quadratic spline of
// the second. The projection starts at zero, so the coupling starts as the identity.
struct SplineCouplingImpl : torch::nn::Module {
  SplineCouplingImpl(int64_t channels, int64_t filter, int64_t kernel, int64_t layers, int64_t bins = 10,
                     double tail_bound = 5.0);
  FlowOutput forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g, bool reverse);
  int64_t filter, bins;
  double tail_bound;
  torch::nn::Conv1d pre{nullptr}, proj{nullptr};
  DdsConv convs{nullptr};
};
TORCH_MODULE(SplineCoupling);

struct StochasticDurationPredictorImpl : torch::nn::Module {
  StochasticDurationPredictorImpl(int64_t in_channels, int64_t filter, int64_t kernel, double dropout, int64_t flows,
                                  int64_t gin_channels);
  // Training: -log-likelihood bound per utterance [B] (nats) of the durations w [B, 1, T] (frames).
  torch::Tensor Nll(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& w, const torch::Tensor& g);
  // Synthesis: log-durations [B, 1, T] sampled with noise scaled by noise_scale.
  torch::Tensor SampleLogDurations(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g,
                                   double noise_scale);

  torch::nn::Conv1d pre{nullptr}, proj{nullptr}, cond{nullptr};
  DdsConv convs{nullptr};
  torch::nn::Conv1d post_pre{nullptr}, post_proj{nullptr};
  DdsConv post_convs{nullptr};
  torch::nn::ModuleList flows, post_flows;  // ElementwiseAffine, then SplineCoupling (each followed by a channel flip)

 private:
  torch::Tensor Condition(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g);
};
TORCH_MODULE(StochasticDurationPredictor);

}  // namespace ttsd::core::models
