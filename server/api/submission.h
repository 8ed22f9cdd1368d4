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

// How many data-parallel ranks (device slots) the job runs on. `requested` is `ttsctl submit --devices`
// (0: not given, the config's distributed.world_size decides). --devices N on a config without
// distributed.world_size sets it to N (and checks the config again: a batch smaller than N ranks, a
// model that cannot run data-parallel); a --devices that contradicts a world_size the config sets is
// an error naming both.
absl::StatusOr<int64_t> ResolveDevices(int64_t requested, core::ParsedConfig* parsed);

}  // namespace ttsd::server::api
