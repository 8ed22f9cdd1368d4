#include "core/models/vits/spline.h"

#include <cmath>

namespace F = torch::nn::functional;

namespace ttsd::core::models {
namespace {

constexpr double kMinBinWidth = 1e-3;
constexpr double kMinBinHeight = 1e-3;
constexpr double kMinDerivative = 1e-3;

// Knot positions [..., K + 1] from unnormalised bin sizes, spanning [lo, hi] with every bin at least
// `min_size` of it. Also returns the bin sizes [..., K].
std::pair<torch::Tensor, torch::Tensor> Knots(const torch::Tensor& unnormalised, double lo, double hi, double min_size) {
  const int64_t k = unnormalised.size(-1);
  auto sizes = torch::softmax(unnormalised, -1);
  sizes = min_size + (1 - min_size * static_cast<double>(k)) * sizes;
  auto knots = F::pad(torch::cumsum(sizes, -1), F::PadFuncOptions({1, 0}).value(0.0));
  knots = (hi - lo) * knots + lo;
  // Pin the ends exactly (cumsum rounding would leave them a few ulps off).
  auto inner = knots.narrow(-1, 1, k - 1);
  auto lo_t = torch::full_like(knots.narrow(-1, 0, 1), lo), hi_t = torch::full_like(lo_t, hi);
  knots = torch::cat({lo_t, inner, hi_t}, -1);
  return {knots, knots.narrow(-1, 1, k) - knots.narrow(-1, 0, k)};
}

torch::Tensor Pick(const torch::Tensor& t, const torch::Tensor& index) { return t.gather(-1, index).squeeze(-1); }

}  // namespace

SplineOutput RationalQuadraticSpline(const torch::Tensor& x, const torch::Tensor& widths_in, const torch::Tensor& heights_in,
                                     const torch::Tensor& derivatives_in, bool inverse, double tail_bound) {
  const double b = tail_bound;
  auto inside = (x >= -b) & (x <= b);
  // Evaluated everywhere on clamped inputs (no boolean indexing, no NaN in the branch torch::where
  // drops, so its gradient stays finite); the tails are put back at the end.
  auto xc = torch::clamp(x, -b, b);
  auto [cumwidths, widths] = Knots(widths_in, -b, b, kMinBinWidth);
  auto [cumheights, heights] = Knots(heights_in, -b, b, kMinBinHeight);
  // Inner knot derivatives through a softplus; the two outer ones are 1 (softplus(c) + min = 1).
  const double edge = std::log(std::exp(1 - kMinDerivative) - 1);
  auto derivatives = kMinDerivative + F::softplus(F::pad(derivatives_in, F::PadFuncOptions({1, 1}).value(edge)));

  // The bin of each input: knots at or below it, minus one (the last knot nudged up to take x = hi).
  const auto& locations = inverse ? cumheights : cumwidths;
  auto nudged = locations.clone();
  nudged.select(-1, nudged.size(-1) - 1).add_(1e-6);
  auto bin = ((xc.unsqueeze(-1) >= nudged).sum(-1, /*keepdim=*/true) - 1).clamp(0, widths.size(-1) - 1);

  auto x_k = Pick(cumwidths, bin), w_k = Pick(widths, bin);
  auto y_k = Pick(cumheights, bin), h_k = Pick(heights, bin);
  auto delta = h_k / w_k;
  auto d_k = Pick(derivatives, bin), d_k1 = Pick(derivatives, bin + 1);
  auto slope_sum = d_k + d_k1 - 2 * delta;

  torch::Tensor y, logabsdet;
  if (!inverse) {
    auto theta = (xc - x_k) / w_k;
    auto tt = theta * (1 - theta);
    auto denominator = delta + slope_sum * tt;
    y = y_k + h_k * (delta * theta * theta + d_k * tt) / denominator;
    auto dnum = delta * delta * (d_k1 * theta * theta + 2 * delta * tt + d_k * (1 - theta) * (1 - theta));
    logabsdet = torch::log(dnum) - 2 * torch::log(denominator);
  } else {
    // Solve the quadratic a theta^2 + b theta + c = 0 for theta in [0, 1] (the numerically stable root).
    auto dy = xc - y_k;
    auto a = dy * slope_sum + h_k * (delta - d_k);
    auto bq = h_k * d_k - dy * slope_sum;
    auto c = -delta * dy;
    auto disc = torch::clamp_min(bq * bq - 4 * a * c, 0);
    auto theta = (2 * c) / (-bq - torch::sqrt(disc));
    y = theta * w_k + x_k;
    auto tt = theta * (1 - theta);
    auto denominator = delta + slope_sum * tt;
    auto dnum = delta * delta * (d_k1 * theta * theta + 2 * delta * tt + d_k * (1 - theta) * (1 - theta));
    logabsdet = -(torch::log(dnum) - 2 * torch::log(denominator));
  }
  return {torch::where(inside, y, x), torch::where(inside, logabsdet, torch::zeros_like(logabsdet))};
}

}  // namespace ttsd::core::models
