// What the daemon checks before it queues a job, so a GPU-hour is never spent on a config that cannot
// run: size, where relative paths point, every config error at once, and that the daemon itself can
// read the dataset (it may run as another user than the one who submitted).
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "core/config/config_yaml.h"

namespace ttsd::server::api {

inline constexpr size_t kMaxConfigBytes = 1 << 20;

// `config_dir`: the folder the config came from, on the daemon's machine (absolute); relative paths in
// the config resolve against it. Errors are INVALID_ARGUMENT listing every problem.
absl::StatusOr<core::ParsedConfig> CheckSubmission(const std::string& config_yaml, const std::string& config_dir);

// A fine-tune (finetune.pretrained_model_path set): resolves job:<id>[@<step>|@best|@latest] through
// `job_dir_of` to the checkpoint file (written back into `config`), runs the pre-flight compatibility
// check, and returns the lineage to record ({"job_id", "step", "sha256", "path"}). "" for a run from
// scratch. Errors say what to change; nothing is queued.
absl::StatusOr<std::string> ResolveFinetuneBase(core::TrainConfig* config,
                                                const std::function<absl::StatusOr<std::string>(int64_t)>& job_dir_of);

}  // namespace ttsd::server::api
