#include "core/audio/resample.h"

#include <soxr.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace ttsd::core {

absl::StatusOr<std::vector<float>> Resample(const std::vector<float>& mono, int from_rate, int to_rate) {
  if (from_rate == to_rate || mono.empty()) return mono;
  if (from_rate <= 0 || to_rate <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad sample rates ", from_rate, " -> ", to_rate));
  }
  size_t out_len = static_cast<size_t>(std::ceil(static_cast<double>(mono.size()) * to_rate / from_rate));
  std::vector<float> out(out_len + 16);
  size_t done = 0;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t err = soxr_oneshot(from_rate, to_rate, 1, mono.data(), mono.size(), nullptr, out.data(),
                                  out.size(), &done, &io, &q, nullptr);
  if (err) return absl::InternalError(absl::StrCat("soxr resample ", from_rate, " -> ", to_rate, ": ", err));
  out.resize(done);
  return out;
}

}  // namespace ttsd::core
