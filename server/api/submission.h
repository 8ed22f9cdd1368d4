// What the daemon checks before it queues a job, so a GPU-hour is never spent on a config that cannot
// run: size, where relative paths point, every config error at once, and that the daemon itself can
// read the dataset (it may run as another user than the one who submitted).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/config/config_yaml.h"

namespace ttsd::server::api {

inline constexpr size_t kMaxConfigBytes = 1 << 20;

// `config_dir`: the folder the config came from, on the daemon's machine (absolute); relative paths in
// the config resolve against it. Errors are INVALID_ARGUMENT listing every problem.
absl::StatusOr<core::ParsedConfig> CheckSubmission(const std::string& config_yaml, const std::string& config_dir);

}  // namespace ttsd::server::api
