#include "core/audio/mcd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ttsd::core {
namespace {

// [frames][n] cepstra c1..c_n of each frame, scaled as a cepstrum is (log S(w) = c0 + 2 sum_k c_k cos(k w),
// sampled at the M band centres w_i = pi (i + 0.5) / M), which is what puts MCD on its usual dB scale.
std::vector<std::vector<double>> Cepstra(const FloatMatrix& mel, int n) {
  const int64_t m = mel.rows;
  std::vector<std::vector<double>> basis(n, std::vector<double>(m));
  for (int k = 1; k <= n; ++k) {
    for (int64_t i = 0; i < m; ++i) {
      basis[k - 1][i] = std::cos(M_PI * k * (i + 0.5) / m) / static_cast<double>(m);
    }
  }
  std::vector<std::vector<double>> out(mel.cols, std::vector<double>(n, 0.0));
  for (int64_t t = 0; t < mel.cols; ++t) {
    for (int k = 0; k < n; ++k) {
      double c = 0;
      for (int64_t i = 0; i < m; ++i) c += basis[k][i] * mel.at(i, t);
      out[t][k] = c;
    }
  }
  return out;
}

}  // namespace

double MelCepstralDistortion(const FloatMatrix& a, const FloatMatrix& b, int n_coefficients) {
  if (a.cols == 0 || b.cols == 0 || a.rows != b.rows) return std::numeric_limits<double>::quiet_NaN();
  const int n = static_cast<int>(std::min<int64_t>(n_coefficients, a.rows - 1));
  const auto ca = Cepstra(a, n), cb = Cepstra(b, n);
  const double scale = 10.0 / std::log(10.0) * std::sqrt(2.0);
  auto dist = [&](size_t i, size_t j) {
    double s = 0;
    for (int k = 0; k < n; ++k) s += (ca[i][k] - cb[j][k]) * (ca[i][k] - cb[j][k]);
    return scale * std::sqrt(s);
  };
  // Classic DTW (steps right, down, diagonal) keeping, for each cell, the cost and length of its best
  // path; two rows at a time.
  const size_t na = ca.size(), nb = cb.size();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> cost_prev(nb, inf), cost(nb);
  std::vector<int64_t> len_prev(nb, 0), len(nb);
  for (size_t i = 0; i < na; ++i) {
    for (size_t j = 0; j < nb; ++j) {
      const double d = dist(i, j);
      if (i == 0 && j == 0) {
        cost[j] = d;
        len[j] = 1;
        continue;
      }
      double best = inf;
      int64_t best_len = 0;
      auto consider = [&](double c, int64_t l) {
        if (c < best) {
          best = c;
          best_len = l;
        }
      };
      if (i > 0) consider(cost_prev[j], len_prev[j]);
      if (j > 0) consider(cost[j - 1], len[j - 1]);
      if (i > 0 && j > 0) consider(cost_prev[j - 1], len_prev[j - 1]);
      cost[j] = best + d;
      len[j] = best_len + 1;
    }
    std::swap(cost, cost_prev);
    std::swap(len, len_prev);
  }
  return cost_prev[nb - 1] / static_cast<double>(len_prev[nb - 1]);
}

}  // namespace ttsd::core
