#include "core/models/modules/duration_predictor.h"

namespace ttsd::core::models {

DurationPredictorImpl::DurationPredictorImpl(int64_t in_channels, int64_t filter_channels, int64_t kernel,
                                             double dropout, int64_t gin_channels, double norm_eps) {
  conv1 = register_module("conv1", SameConv(in_channels, filter_channels, kernel));
  norm1 = register_module("norm1", ChannelNorm(filter_channels, norm_eps));
  conv2 = register_module("conv2", SameConv(filter_channels, filter_channels, kernel));
  norm2 = register_module("norm2", ChannelNorm(filter_channels, norm_eps));
  proj = register_module("proj", torch::nn::Conv1d(torch::nn::Conv1dOptions(filter_channels, 1, 1)));
  if (gin_channels > 0) {
    cond = register_module("cond", torch::nn::Conv1d(torch::nn::Conv1dOptions(gin_channels, in_channels, 1)));
  }
  drop = register_module("drop", Dropout(dropout));
}

torch::Tensor DurationPredictorImpl::forward(const torch::Tensor& x_in, const torch::Tensor& mask,
                                             const torch::Tensor& g) {
  auto x = x_in;
  if (g.defined() && cond) x = x + cond(g);
  x = drop(norm1(torch::relu(conv1(x * mask))));
  x = drop(norm2(torch::relu(conv2(x * mask))));
  return proj(x * mask) * mask;
}

}  // namespace ttsd::core::models
