#include "core/models/modules/wavenet.h"

#include "core/models/modules/layers.h"

namespace ttsd::core::models {

WaveNetImpl::WaveNetImpl(int64_t hidden_, int64_t kernel, int64_t dilation_rate, int64_t layers,
                         int64_t gin_channels, double dropout)
    : hidden(hidden_) {
  int64_t dilation = 1;
  for (int64_t i = 0; i < layers; ++i) {
    in_layers->push_back(SameConv(hidden, 2 * hidden, kernel, dilation));
    int64_t out = i + 1 < layers ? 2 * hidden : hidden;  // the last layer only feeds the skip path
    res_skip_layers->push_back(torch::nn::Conv1d(torch::nn::Conv1dOptions(hidden, out, 1)));
    dilation *= dilation_rate;
  }
  register_module("in_layers", in_layers);
  register_module("res_skip_layers", res_skip_layers);
  if (gin_channels > 0) {
    cond = register_module("cond", torch::nn::Conv1d(torch::nn::Conv1dOptions(gin_channels, 2 * hidden * layers, 1)));
  }
  drop = register_module("drop", torch::nn::Dropout(dropout));
}

torch::Tensor WaveNetImpl::forward(const torch::Tensor& x_in, const torch::Tensor& mask, const torch::Tensor& g) {
  auto x = x_in;
  auto output = torch::zeros_like(x);
  torch::Tensor gc;
  if (g.defined() && cond) gc = cond(g);
  const int64_t layers = static_cast<int64_t>(in_layers->size());
  for (int64_t i = 0; i < layers; ++i) {
    auto h = in_layers[i]->as<torch::nn::Conv1d>()->forward(x);
    if (gc.defined()) h = h + gc.narrow(1, i * 2 * hidden, 2 * hidden);
    auto acts = torch::tanh(h.narrow(1, 0, hidden)) * torch::sigmoid(h.narrow(1, hidden, hidden));
    acts = drop(acts);
    auto rs = res_skip_layers[i]->as<torch::nn::Conv1d>()->forward(acts);
    if (i + 1 < layers) {
      x = (x + rs.narrow(1, 0, hidden)) * mask;
      output = output + rs.narrow(1, hidden, hidden);
    } else {
      output = output + rs;
    }
  }
  return output * mask;
}

}  // namespace ttsd::core::models
