#include "core/models/modules/weight_norm.h"

namespace ttsd::core::models {
namespace {

// Registers g and v for `weight` (initialised as PyTorch's conv layers do), normalised over every
// dimension except `dim`.
WeightNormParams Register(torch::nn::Module& m, torch::Tensor weight, int64_t dim) {
  auto fan_in = weight.numel() / weight.size(dim);
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  {
    torch::NoGradGuard no_grad;
    weight.uniform_(-bound, bound);
  }
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < weight.dim(); ++d) {
    if (d != dim) dims.push_back(d);
  }
  auto g = torch::linalg_vector_norm(weight, 2, dims, /*keepdim=*/true);
  return {m.register_parameter("weight_g", g.detach().clone()), m.register_parameter("weight_v", weight)};
}

torch::Tensor RegisterBias(torch::nn::Module& m, int64_t out, int64_t fan_in, bool bias) {
  if (!bias) return torch::Tensor();
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return m.register_parameter("bias", torch::empty({out}).uniform_(-bound, bound));
}

}  // namespace

torch::Tensor WeightNormParams::Weight(int64_t dim) const { return torch::_weight_norm(v, g, dim); }

WnConv1dImpl::WnConv1dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride_, int64_t dilation_,
                           int64_t groups_, int64_t padding_, bool bias_)
    : stride(stride_), dilation(dilation_), groups(groups_), padding(padding_ >= 0 ? padding_ : dilation_ * (kernel - 1) / 2) {
  w = Register(*this, torch::empty({out, in / groups, kernel}), 0);
  bias = RegisterBias(*this, out, in / groups * kernel, bias_);
}

torch::Tensor WnConv1dImpl::forward(const torch::Tensor& x) {
  return torch::conv1d(x, w.Weight(0), bias, stride, padding, dilation, groups);
}

WnConvTranspose1dImpl::WnConvTranspose1dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride_)
    : stride(stride_), padding((kernel - stride_) / 2) {
  w = Register(*this, torch::empty({in, out, kernel}), 1);
  bias = RegisterBias(*this, out, out * kernel, true);
}

torch::Tensor WnConvTranspose1dImpl::forward(const torch::Tensor& x) {
  return torch::conv_transpose1d(x, w.Weight(1), bias, stride, padding);
}

WnConv2dImpl::WnConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride_, int64_t padding_)
    : stride(stride_), padding(padding_) {
  w = Register(*this, torch::empty({out, in, kernel, 1}), 0);
  bias = RegisterBias(*this, out, in * kernel, true);
}

torch::Tensor WnConv2dImpl::forward(const torch::Tensor& x) {
  return torch::conv2d(x, w.Weight(0), bias, {stride, 1}, {padding, 0});
}

}  // namespace ttsd::core::models
