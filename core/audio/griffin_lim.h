// Griffin-Lim vocoding of a log-mel, so any mel can be listened to (models without a neural vocoder,
// debugging the feature pipeline). Mel -> linear magnitude through the filterbank's pseudo-inverse, then
// fast Griffin-Lim (momentum 0.99) phase reconstruction. Deterministic for a seed; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "core/audio/matrix.h"
#include "core/config/train_config.h"

namespace ttsd::core {

std::vector<float> GriffinLim(const FloatMatrix& log_mel, const AudioConfig& config, int iterations,
                              uint64_t seed = 0);

}  // namespace ttsd::core
