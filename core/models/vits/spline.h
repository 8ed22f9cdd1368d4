// Monotonic rational-quadratic splines (Durkan et al., 2019, "Neural Spline Flows"): the elementwise
// bijection inside the stochastic duration predictor's coupling layers. On [-tail_bound, tail_bound]
// the map is K rational-quadratic pieces whose bin widths, heights and knot derivatives come from a
// network; outside it is the identity ("linear tails"), so any real input is valid.
#pragma once

#include <torch/torch.h>

namespace ttsd::core::models {

struct SplineOutput {
  torch::Tensor y;
  torch::Tensor logabsdet;  // log |dy/dx| elementwise (of the inverse map when inverse = true)
};

// x: [...]; widths, heights: [..., K] unnormalised; derivatives: [..., K - 1] unnormalised (the
// outermost knots get derivative 1 so the spline meets the linear tails smoothly).
SplineOutput RationalQuadraticSpline(const torch::Tensor& x, const torch::Tensor& widths, const torch::Tensor& heights,
                                     const torch::Tensor& derivatives, bool inverse, double tail_bound);

}  // namespace ttsd::core::models
