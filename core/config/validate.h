// Range and consistency checks on a parsed config, before any data is touched.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "core/config/train_config.h"

namespace ttsd::core {

// INVALID_ARGUMENT listing every problem with line:col (from `marks`) and field path; OK otherwise.
absl::Status ValidateConfig(const TrainConfig& config, const SourceMap& marks, const std::string& source);

}  // namespace ttsd::core
