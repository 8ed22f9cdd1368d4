// Level checks used by the dataset report.
#pragma once

#include <vector>

namespace ttsd::core {

struct AudioStats {
  float peak = 0;               // max |x|
  double rms_dbfs = -120;       // loudness, dB relative to full scale
  double clipped_fraction = 0;  // share of samples at |x| >= 0.999
};

AudioStats ComputeAudioStats(const std::vector<float>& samples);

}  // namespace ttsd::core
