#include "core/models/modules/attention.h"

#include <cmath>

namespace F = torch::nn::functional;

namespace ttsd::core::models {
namespace {

// The embeddings for distances -(L-1) .. (L-1): the learned window, zero-padded beyond it.
torch::Tensor EmbeddingsForLength(const torch::Tensor& rel, int64_t window, int64_t length) {
  int64_t pad = std::max<int64_t>(length - (window + 1), 0);
  int64_t start = std::max<int64_t>((window + 1) - length, 0);
  auto padded = pad > 0 ? F::pad(rel, F::PadFuncOptions({0, 0, pad, pad})) : rel;
  return padded.narrow(0, start, 2 * length - 1);
}

}  // namespace

// Skewing trick: pad one column, flatten, pad, reshape, and the diagonals line up by absolute index.
torch::Tensor RelativeToAbsolute(const torch::Tensor& x) {
  const int64_t b = x.size(0), h = x.size(1), l = x.size(2);
  auto y = F::pad(x, F::PadFuncOptions({0, 1}));
  y = y.reshape({b, h, l * 2 * l});
  y = F::pad(y, F::PadFuncOptions({0, l - 1}));
  return y.reshape({b, h, l + 1, 2 * l - 1}).narrow(2, 0, l).narrow(3, l - 1, l);
}

torch::Tensor AbsoluteToRelative(const torch::Tensor& x) {
  const int64_t b = x.size(0), h = x.size(1), l = x.size(2);
  auto y = F::pad(x, F::PadFuncOptions({0, l - 1}));
  y = y.reshape({b, h, l * l + l * (l - 1)});
  y = F::pad(y, F::PadFuncOptions({l, 0}));
  return y.reshape({b, h, l, 2 * l}).narrow(3, 1, 2 * l - 1);
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
  drop = register_module("drop", torch::nn::Dropout(dropout));
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
  auto rk = EmbeddingsForLength(rel_k, window_size, t);       // [2T-1, D]
  scores = scores + RelativeToAbsolute(torch::matmul(query, rk.t()));
  auto pair_mask = mask.unsqueeze(2) * mask.unsqueeze(3);     // [B, 1, T, T]
  scores = scores.masked_fill(pair_mask == 0, -1e4);
  auto weights = drop(torch::softmax(scores, -1));
  auto out = torch::matmul(weights, value);
  auto rv = EmbeddingsForLength(rel_v, window_size, t);
  out = out + torch::matmul(AbsoluteToRelative(weights), rv);
  out = out.transpose(2, 3).contiguous().view({b, c, t});
  return o(out);
}

}  // namespace ttsd::core::models
