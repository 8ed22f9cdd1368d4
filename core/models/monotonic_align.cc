#include "core/models/monotonic_align.h"

#include <limits>
#include <vector>

#include "core/common/parallel.h"

namespace ttsd::core::models {
namespace {

// Q[i][j]: best log-likelihood of frames 0..j with frame j on token i. Frame j comes from token i
// (stay) or i-1 (advance). Backtracking from (tx-1, ty-1) gives the path.
void SearchOne(const float* lp, int64_t stride_t, int64_t tx, int64_t ty, float* path) {
  const float kNeg = -std::numeric_limits<float>::infinity();
  std::vector<float> q(static_cast<size_t>(tx * ty), kNeg);
  auto Q = [&](int64_t i, int64_t j) -> float& { return q[i * ty + j]; };
  for (int64_t j = 0; j < ty; ++j) {
    // Token i can hold frame j only if i <= j (earlier tokens need a frame each) and the remaining
    // tokens still fit in the remaining frames.
    int64_t lo = std::max<int64_t>(0, tx - (ty - j));
    int64_t hi = std::min<int64_t>(tx - 1, j);
    for (int64_t i = lo; i <= hi; ++i) {
      float here = lp[i * stride_t + j];
      if (j == 0) {
        Q(i, j) = i == 0 ? here : kNeg;
        continue;
      }
      float stay = Q(i, j - 1);
      float advance = i > 0 ? Q(i - 1, j - 1) : kNeg;
      Q(i, j) = std::max(stay, advance) + here;
    }
  }
  int64_t i = tx - 1;
  for (int64_t j = ty - 1; j >= 0; --j) {
    path[i * stride_t + j] = 1.0f;
    if (i > 0 && (i == j || Q(i, j - 1) < Q(i - 1, j - 1))) --i;
  }
}

}  // namespace

torch::Tensor MonotonicAlignmentSearch(const torch::Tensor& log_p, const torch::Tensor& text_lengths,
                                       const torch::Tensor& mel_lengths) {
  torch::NoGradGuard no_grad;
  auto lp = log_p.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  auto tl = text_lengths.to(torch::kCPU, torch::kInt64).contiguous();
  auto ml = mel_lengths.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t b = lp.size(0), t_text = lp.size(1), t_mel = lp.size(2);
  auto path = torch::zeros({b, t_text, t_mel}, torch::kFloat32);
  const float* lp_data = lp.data_ptr<float>();
  float* path_data = path.data_ptr<float>();
  const int64_t* tl_data = tl.data_ptr<int64_t>();
  const int64_t* ml_data = ml.data_ptr<int64_t>();
  const int threads = std::max(1, std::min<int>(static_cast<int>(b), at::get_num_threads()));
  ParallelFor(static_cast<size_t>(b), threads, [&](size_t k) {
    int64_t tx = tl_data[k], ty = ml_data[k];
    if (tx <= 0 || ty <= 0) return;
    SearchOne(lp_data + k * t_text * t_mel, t_mel, tx, ty, path_data + k * t_text * t_mel);
  });
  return path.to(log_p.device());
}

}  // namespace ttsd::core::models
