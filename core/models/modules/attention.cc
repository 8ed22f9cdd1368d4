#include "core/models/modules/attention.h"

#include <cmath>

namespace F = torch::nn::functional;

namespace ttsd::core::models {
// Only the 2w+1 distances inside the window have embeddings, so logits are computed for those alone
// ([L, 2w+1] per query, not [L, 2L-1] against zero-padded embeddings as in the paper's code) and
// moved to their diagonals with the skewing trick on a band: pad each row to S+1 = L+2w+1, flatten,
// and read the buffer back with rows of S, which shifts row i right by i.
torch::Tensor BandToAbsolute(const torch::Tensor& x) {
  const int64_t b = x.size(0), h = x.size(1), l = x.size(2), r = x.size(3), w = (r - 1) / 2, s = l + r - 1;
  auto y = F::pad(x, F::PadFuncOptions({0, s + 1 - r})).reshape({b, h, l * (s + 1)});
  return y.narrow(2, 0, l * s).reshape({b, h, l, s}).narrow(3, w, l);
}

torch::Tensor AbsoluteToBand(const torch::Tensor& x, int64_t window) {
  const int64_t b = x.size(0), h = x.size(1), l = x.size(2), r = 2 * window + 1, s = l + r - 1;
  auto y = F::pad(x, F::PadFuncOptions({window, window})).reshape({b, h, l * s});
  y = F::pad(y, F::PadFuncOptions({0, l}));
  return y.reshape({b, h, l, s + 1}).narrow(3, 0, r);
}

RelativeAttentionImpl::RelativeAttentionImpl(int64_t channels, int64_t heads, int64_t window, double dropout)
    : n_heads(heads), head_dim(channels / heads), window_size(window) {
  auto conv = [&](const char* name) {
    return register_module(name, torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, channels, 1)));
  };
  q = conv("q");
  k = conv("k");
  v = conv("v");
  o = conv("o");
  drop = register_module("drop", Dropout(dropout));
  double std = std::pow(static_cast<double>(head_dim), -0.5);
  rel_k = register_parameter("rel_k", torch::randn({2 * window + 1, head_dim}) * std);
  rel_v = register_parameter("rel_v", torch::randn({2 * window + 1, head_dim}) * std);
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(q->weight);
  torch::nn::init::xavier_uniform_(k->weight);
  torch::nn::init::xavier_uniform_(v->weight);
}

torch::Tensor RelativeAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int64_t b = x.size(0), c = x.size(1), t = x.size(2);
  auto split = [&](const torch::Tensor& y) { return y.view({b, n_heads, head_dim, t}).transpose(2, 3); };
  auto query = split(q(x)) / std::sqrt(static_cast<double>(head_dim));  // [B, H, T, D]
  auto key = split(k(x));
  auto value = split(v(x));

  auto scores = torch::matmul(query, key.transpose(-2, -1));  // [B, H, T, T]
  scores = scores + BandToAbsolute(torch::matmul(query, rel_k.t()));
  auto pair_mask = mask.unsqueeze(2) * mask.unsqueeze(3);     // [B, 1, T, T]
  scores = scores.masked_fill(pair_mask == 0, -1e4);
  auto weights = drop(torch::softmax(scores, -1));
  auto out = torch::matmul(weights, value);
  out = out + torch::matmul(AbsoluteToBand(weights, window_size), rel_v);
  out = out.transpose(2, 3).contiguous().view({b, c, t});
  return o(out);
}

}  // namespace ttsd::core::models
