#include "core/models/modules/flows.h"

namespace ttsd::core::models {

ActNormImpl::ActNormImpl(int64_t channels) {
  logs = register_parameter("logs", torch::zeros({1, channels, 1}));
  bias = register_parameter("bias", torch::zeros({1, channels, 1}));
  initialized = register_buffer("initialized", torch::zeros({1}));
}

FlowOutput ActNormImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, bool reverse) {
  auto lengths = mask.sum(at::IntArrayRef{1, 2});  // [B]
  if (!reverse && is_training() && initialized.item<float>() == 0) {
    torch::NoGradGuard no_grad;
    auto denom = mask.sum(at::IntArrayRef{0, 2});  // [1]
    auto sum = (x * mask).sum(at::IntArrayRef{0, 2});
    auto sum_sq = (x * x * mask).sum(at::IntArrayRef{0, 2});
    if (sum_across_ranks) {  // the global batch's moments: counts and sums add up across ranks
      auto packed = torch::cat({denom.to(sum.dtype()), sum, sum_sq});
      sum_across_ranks(packed);
      denom = packed.narrow(0, 0, 1);
      sum = packed.narrow(0, 1, sum.size(0));
      sum_sq = packed.narrow(0, 1 + sum.size(0), sum.size(0));
    }
    auto mean = sum / denom;
    auto sq = sum_sq / denom;
    auto var = sq - mean * mean;
    auto log_std = 0.5 * torch::log(torch::clamp_min(var, 1e-6));
    bias.copy_((-mean * torch::exp(-log_std)).view_as(bias));
    logs.copy_((-log_std).view_as(logs));
    initialized.fill_(1);
  }
  if (reverse) return {(x - bias) * torch::exp(-logs) * mask, torch::Tensor()};
  auto z = (bias + torch::exp(logs) * x) * mask;
  return {z, logs.sum() * lengths};
}

void SetActNormRankSum(torch::nn::Module& model, const std::function<void(torch::Tensor&)>& sum) {
  for (const auto& m : model.modules()) {
    if (auto* a = dynamic_cast<ActNormImpl*>(m.get())) a->sum_across_ranks = sum;
  }
}

InvConvNearImpl::InvConvNearImpl(int64_t channels_, int64_t n_split_) : channels(channels_), n_split(n_split_) {
  auto w = std::get<0>(torch::linalg_qr(torch::randn({n_split, n_split})));
  if (torch::det(w).item<double>() < 0) w.select(1, 0).mul_(-1);
  weight = register_parameter("weight", w);
}

FlowOutput InvConvNearImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, bool reverse) {
  const int64_t b = x.size(0), t = x.size(2);
  // Channels as [2, C / n_split, n_split / 2]: each group of n_split takes n_split/2 from each half.
  auto xs = x.view({b, 2, channels / n_split, n_split / 2, t}).permute({0, 1, 3, 2, 4}).contiguous().view(
      {b, n_split, channels / n_split, t});
  torch::Tensor w = reverse ? torch::inverse(weight) : weight;
  auto z = torch::einsum("ij,bjct->bict", {w, xs});
  z = z.view({b, 2, n_split / 2, channels / n_split, t}).permute({0, 1, 3, 2, 4}).contiguous().view({b, channels, t});
  z = z * mask;
  if (reverse) return {z, torch::Tensor()};
  auto logdet = torch::logdet(weight) * (channels / n_split) * mask.sum(at::IntArrayRef{1, 2});
  return {z, logdet};
}

AffineCouplingImpl::AffineCouplingImpl(int64_t channels, int64_t hidden, int64_t kernel, int64_t dilation_rate,
                                       int64_t layers, int64_t gin_channels, double dropout) {
  start = register_module("start", torch::nn::Conv1d(torch::nn::Conv1dOptions(channels / 2, hidden, 1)));
  end = register_module("end", torch::nn::Conv1d(torch::nn::Conv1dOptions(hidden, channels, 1)));
  wn = register_module("wn", WaveNet(hidden, kernel, dilation_rate, layers, gin_channels, dropout));
  torch::NoGradGuard no_grad;
  end->weight.zero_();
  end->bias.zero_();
}

FlowOutput AffineCouplingImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g,
                                       bool reverse) {
  const int64_t half = x.size(1) / 2;
  auto halves = x.split(half, 1);  // split, not narrow: see WaveNetImpl::forward
  const auto &x0 = halves[0], &x1 = halves[1];
  auto h = wn(start(x0) * mask, mask, g);
  auto out = end(h).split(half, 1);
  const auto &m = out[0], &logs = out[1];
  if (reverse) {
    auto z1 = (x1 - m) * torch::exp(-logs) * mask;
    return {torch::cat({x0, z1}, 1), torch::Tensor()};
  }
  auto z1 = (m + torch::exp(logs) * x1) * mask;
  return {torch::cat({x0, z1}, 1), (logs * mask).sum(at::IntArrayRef{1, 2})};
}

}  // namespace ttsd::core::models
