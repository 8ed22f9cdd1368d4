// Sample-rate conversion with libsoxr (high quality). Thread-safe.
#pragma once

#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::core {

absl::StatusOr<std::vector<float>> Resample(const std::vector<float>& mono, int from_rate, int to_rate);

}  // namespace ttsd::core
