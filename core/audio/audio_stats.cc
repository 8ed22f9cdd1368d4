#include "core/audio/audio_stats.h"

#include <cmath>

namespace ttsd::core {

AudioStats ComputeAudioStats(const std::vector<float>& samples) {
  AudioStats s;
  if (samples.empty()) return s;
  double sum_sq = 0;
  size_t clipped = 0;
  for (float x : samples) {
    float a = std::fabs(x);
    if (a > s.peak) s.peak = a;
    if (a >= 0.999f) ++clipped;
    sum_sq += static_cast<double>(x) * x;
  }
  double rms = std::sqrt(sum_sq / samples.size());
  s.rms_dbfs = rms > 1e-6 ? 20.0 * std::log10(rms) : -120.0;
  s.clipped_fraction = static_cast<double>(clipped) / samples.size();
  return s;
}

}  // namespace ttsd::core
