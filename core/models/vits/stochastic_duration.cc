#include "core/models/vits/stochastic_duration.h"

#include <cmath>

#include "core/models/vits/spline.h"

namespace F = torch::nn::functional;

namespace ttsd::core::models {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;

torch::nn::Conv1d Pointwise(int64_t in, int64_t out) { return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1)); }

torch::Tensor SumTC(const torch::Tensor& x) { return x.sum(at::IntArrayRef{1, 2}); }

// Runs a flow list (ElementwiseAffine / SplineCoupling, a channel flip after each coupling) forwards,
// summing log-determinants, or backwards.
torch::Tensor RunFlows(torch::nn::ModuleList& flows, torch::Tensor z, const torch::Tensor& mask, const torch::Tensor& g,
                       bool reverse, torch::Tensor* logdet) {
  const int64_t n = static_cast<int64_t>(flows->size());
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = reverse ? n - 1 - k : k;
    FlowOutput o;
    if (auto* affine = flows[i]->as<ElementwiseAffine>()) {
      o = affine->forward(z, mask, reverse);
    } else {
      auto* coupling = flows[i]->as<SplineCoupling>();
      // The flip after a coupling: undone before it when going backwards.
      if (reverse) z = z.flip(1);
      o = coupling->forward(z, mask, g, reverse);
      if (!reverse) o.z = o.z.flip(1);
    }
    z = o.z;
    if (logdet != nullptr) *logdet = *logdet + o.logdet;
  }
  return z;
}

}  // namespace

DdsConvImpl::DdsConvImpl(int64_t channels, int64_t kernel, int64_t layers, double dropout) {
  int64_t dilation = 1;
  for (int64_t i = 0; i < layers; ++i) {
    separable->push_back(torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, channels, kernel)
                                               .groups(channels)
                                               .dilation(dilation)
                                               .padding((kernel * dilation - dilation) / 2)));
    pointwise->push_back(Pointwise(channels, channels));
    norm1->push_back(ChannelNorm(channels));
    norm2->push_back(ChannelNorm(channels));
    dilation *= kernel;
  }
  register_module("separable", separable);
  register_module("pointwise", pointwise);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  drop = register_module("drop", Dropout(dropout));
}

torch::Tensor DdsConvImpl::forward(const torch::Tensor& x_in, const torch::Tensor& mask, const torch::Tensor& g) {
  auto x = g.defined() ? x_in + g : x_in;
  for (size_t i = 0; i < separable->size(); ++i) {
    auto y = separable[i]->as<torch::nn::Conv1d>()->forward(x * mask);
    y = torch::gelu(norm1[i]->as<ChannelNorm>()->forward(y));
    y = pointwise[i]->as<torch::nn::Conv1d>()->forward(y);
    y = drop(torch::gelu(norm2[i]->as<ChannelNorm>()->forward(y)));
    x = x + y;
  }
  return x * mask;
}

ElementwiseAffineImpl::ElementwiseAffineImpl(int64_t channels) {
  m = register_parameter("m", torch::zeros({channels, 1}));
  logs = register_parameter("logs", torch::zeros({channels, 1}));
}

FlowOutput ElementwiseAffineImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, bool reverse) {
  if (reverse) return {(x - m) * torch::exp(-logs) * mask, torch::Tensor()};
  return {(m + torch::exp(logs) * x) * mask, SumTC(logs * mask)};
}

SplineCouplingImpl::SplineCouplingImpl(int64_t channels, int64_t filter_, int64_t kernel, int64_t layers, int64_t bins_,
                                       double tail_bound_)
    : filter(filter_), bins(bins_), tail_bound(tail_bound_) {
  const int64_t half = channels / 2;
  pre = register_module("pre", Pointwise(half, filter));
  convs = register_module("convs", DdsConv(filter, kernel, layers, 0.0));
  proj = register_module("proj", Pointwise(filter, half * (3 * bins - 1)));
  torch::NoGradGuard no_grad;
  proj->weight.zero_();
  proj->bias.zero_();
}

FlowOutput SplineCouplingImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g,
                                       bool reverse) {
  auto halves = x.split(x.size(1) / 2, 1);
  const auto &x0 = halves[0], &x1 = halves[1];
  auto h = proj(convs(pre(x0), mask, g)) * mask;  // [B, half * (3K - 1), T]
  const int64_t b = x0.size(0), c = x0.size(1), t = x0.size(2);
  h = h.reshape({b, c, 3 * bins - 1, t}).permute({0, 1, 3, 2});  // [B, half, T, 3K - 1]
  const double scale = 1.0 / std::sqrt(static_cast<double>(filter));
  auto widths = h.narrow(-1, 0, bins) * scale;
  auto heights = h.narrow(-1, bins, bins) * scale;
  auto derivatives = h.narrow(-1, 2 * bins, bins - 1);
  auto s = RationalQuadraticSpline(x1, widths, heights, derivatives, reverse, tail_bound);
  auto z = torch::cat({x0, s.y}, 1) * mask;
  if (reverse) return {z, torch::Tensor()};
  return {z, SumTC(s.logabsdet * mask)};
}

StochasticDurationPredictorImpl::StochasticDurationPredictorImpl(int64_t in_channels, int64_t filter, int64_t kernel,
                                                                 double dropout, int64_t n_flows, int64_t gin_channels) {
  pre = register_module("pre", Pointwise(in_channels, filter));
  convs = register_module("convs", DdsConv(filter, kernel, 3, dropout));
  proj = register_module("proj", Pointwise(filter, filter));
  if (gin_channels > 0) cond = register_module("cond", Pointwise(gin_channels, filter));
  post_pre = register_module("post_pre", Pointwise(1, filter));
  post_convs = register_module("post_convs", DdsConv(filter, kernel, 3, dropout));
  post_proj = register_module("post_proj", Pointwise(filter, filter));
  flows->push_back(ElementwiseAffine(2));
  post_flows->push_back(ElementwiseAffine(2));
  for (int64_t i = 0; i < n_flows; ++i) {
    flows->push_back(SplineCoupling(2, filter, kernel, 3));
    post_flows->push_back(SplineCoupling(2, filter, kernel, 3));
  }
  register_module("flows", flows);
  register_module("post_flows", post_flows);
}

torch::Tensor StochasticDurationPredictorImpl::Condition(const torch::Tensor& x_in, const torch::Tensor& mask,
                                                         const torch::Tensor& g) {
  // Detached, as in the paper: the duration loss trains this predictor, not the text encoder.
  auto x = pre(x_in.detach());
  if (g.defined() && cond) x = x + cond(g.detach());
  return proj(convs(x, mask, torch::Tensor())) * mask;
}

torch::Tensor StochasticDurationPredictorImpl::Nll(const torch::Tensor& x_in, const torch::Tensor& mask,
                                                   const torch::Tensor& w, const torch::Tensor& g) {
  auto x = Condition(x_in, mask, g);
  // Posterior q(u, nu | d, text): noise through the posterior flow, conditioned on text and durations.
  auto h_w = post_proj(post_convs(post_pre(w), mask, torch::Tensor())) * mask;
  auto e_q = torch::randn({w.size(0), 2, w.size(2)}, w.options()) * mask;
  auto logdet_q = torch::zeros({w.size(0)}, w.options());
  auto z_q = RunFlows(post_flows, e_q, mask, x + h_w, /*reverse=*/false, &logdet_q);
  auto parts = z_q.split(1, 1);
  const auto &z_u = parts[0], &nu = parts[1];
  auto u = torch::sigmoid(z_u) * mask;  // dequantisation noise in (0, 1)
  auto z0 = (w - u) * mask;
  logdet_q = logdet_q + SumTC((F::logsigmoid(z_u) + F::logsigmoid(-z_u)) * mask);
  auto log_q = SumTC(-0.5 * (kLog2Pi + e_q * e_q) * mask) - logdet_q;
  // Prior p(d - u, nu | text): log of the dequantised duration, then the prior flow to a standard normal.
  auto log_z0 = torch::log(torch::clamp_min(z0, 1e-5)) * mask;
  auto logdet = SumTC(-log_z0);
  auto z = RunFlows(flows, torch::cat({log_z0, nu}, 1), mask, x, /*reverse=*/false, &logdet);
  auto nll = SumTC(0.5 * (kLog2Pi + z * z) * mask) - logdet;
  return nll + log_q;
}

torch::Tensor StochasticDurationPredictorImpl::SampleLogDurations(const torch::Tensor& x_in, const torch::Tensor& mask,
                                                                  const torch::Tensor& g, double noise_scale) {
  auto x = Condition(x_in, mask, g);
  auto z = torch::randn({x.size(0), 2, x.size(2)}, x.options()) * noise_scale;
  z = RunFlows(flows, z, mask, x, /*reverse=*/true, nullptr);
  return z.split(1, 1)[0];  // the log-duration channel (the log flow's output)
}

}  // namespace ttsd::core::models
