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
  drop = register_module("drop", Dropout(dropout));
}

torch::Tensor WaveNetImpl::forward(const torch::Tensor& x_in, const torch::Tensor& mask, const torch::Tensor& g) {
  // split() rather than narrow(): the backward of a split is one cat, the backward of each narrow is a
  // zero-filled full-size tensor plus an add, which cost ~15% of a base training step.
  auto x = x_in;
  torch::Tensor output;
  std::vector<torch::Tensor> gc;  // per-layer slices of the speaker condition
  if (g.defined() && cond) gc = cond(g).split(2 * hidden, 1);
  const int64_t layers = static_cast<int64_t>(in_layers->size());
  for (int64_t i = 0; i < layers; ++i) {
    auto h = in_layers[i]->as<torch::nn::Conv1d>()->forward(x);
    if (!gc.empty()) h = h + gc[i];
    auto gate = h.split(hidden, 1);
    auto acts = drop(torch::tanh(gate[0]) * torch::sigmoid(gate[1]));
    auto rs = res_skip_layers[i]->as<torch::nn::Conv1d>()->forward(acts);
    torch::Tensor skip = rs;
    if (i + 1 < layers) {
      auto parts = rs.split(hidden, 1);
      x = (x + parts[0]) * mask;
      skip = parts[1];
    }
    output = output.defined() ? output + skip : skip;
  }
  return output * mask;
}

}  // namespace ttsd::core::models
