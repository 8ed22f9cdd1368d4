#include "core/models/modules/layers.h"

#include "core/models/modules/attention.h"

namespace ttsd::core::models {

ChannelNormImpl::ChannelNormImpl(int64_t channels, double eps_) : eps(eps_) {
  gamma = register_parameter("gamma", torch::ones({channels}));
  beta = register_parameter("beta", torch::zeros({channels}));
}

torch::Tensor ChannelNormImpl::forward(const torch::Tensor& x) {
  auto mean = x.mean(1, /*keepdim=*/true);
  auto var = (x - mean).pow(2).mean(1, true);
  auto y = (x - mean) * torch::rsqrt(var + eps);
  return y * gamma.view({1, -1, 1}) + beta.view({1, -1, 1});
}

torch::Tensor SequenceMask(const torch::Tensor& lengths, int64_t max_length) {
  auto range = torch::arange(max_length, lengths.options());
  return (range.unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(1).to(torch::kFloat32);
}

torch::nn::Conv1d SameConv(int64_t in, int64_t out, int64_t kernel, int64_t dilation) {
  return torch::nn::Conv1d(
      torch::nn::Conv1dOptions(in, out, kernel).dilation(dilation).padding(dilation * (kernel - 1) / 2));
}

FeedForwardImpl::FeedForwardImpl(int64_t channels, int64_t filter_channels, int64_t kernel, double dropout) {
  conv1 = register_module("conv1", SameConv(channels, filter_channels, kernel));
  conv2 = register_module("conv2", SameConv(filter_channels, channels, kernel));
  drop = register_module("drop", Dropout(dropout));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto h = torch::relu(conv1(x * mask));
  h = drop(h);
  return conv2(h * mask) * mask;
}

ConvReluNormImpl::ConvReluNormImpl(int64_t channels, int64_t kernel, int64_t layers, double dropout) {
  for (int64_t i = 0; i < layers; ++i) {
    convs->push_back(SameConv(channels, channels, kernel));
    norms->push_back(ChannelNorm(channels));
  }
  register_module("convs", convs);
  register_module("norms", norms);
  proj = register_module("proj", torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, channels, 1)));
  torch::NoGradGuard no_grad;
  proj->weight.zero_();
  proj->bias.zero_();
  drop = register_module("drop", Dropout(dropout));
}

torch::Tensor ConvReluNormImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto h = x;
  for (size_t i = 0; i < convs->size(); ++i) {
    h = convs[i]->as<torch::nn::Conv1d>()->forward(h * mask);
    h = norms[i]->as<ChannelNorm>()->forward(h);
    h = drop(torch::relu(h));
  }
  return (x + proj(h)) * mask;
}

torch::Tensor TransformerLayers(torch::Tensor x, const torch::Tensor& mask, torch::nn::ModuleList& attention,
                                torch::nn::ModuleList& norm1, torch::nn::ModuleList& ffn, torch::nn::ModuleList& norm2,
                                Dropout& drop) {
  for (size_t i = 0; i < attention->size(); ++i) {
    x = x * mask;
    auto y = attention[i]->as<RelativeAttention>()->forward(x, mask);
    x = norm1[i]->as<ChannelNorm>()->forward(x + drop(y));
    y = ffn[i]->as<FeedForward>()->forward(x, mask);
    x = norm2[i]->as<ChannelNorm>()->forward(x + drop(y));
  }
  return x * mask;
}

void AddTransformerLayers(int64_t layers, int64_t hidden, int64_t filter, int64_t heads, int64_t kernel, int64_t window,
                          double dropout, torch::nn::ModuleList& attention, torch::nn::ModuleList& norm1,
                          torch::nn::ModuleList& ffn, torch::nn::ModuleList& norm2) {
  for (int64_t i = 0; i < layers; ++i) {
    attention->push_back(RelativeAttention(hidden, heads, window, dropout));
    norm1->push_back(ChannelNorm(hidden));
    ffn->push_back(FeedForward(hidden, filter, kernel, dropout));
    norm2->push_back(ChannelNorm(hidden));
  }
}

}  // namespace ttsd::core::models
