// SubmitJob's fine-tune step: the base checkpoint a config names, found, verified and checked against
// the config before anything is queued. Apart from submission.h because it needs the engine (LibTorch),
// and the submission checks stay light enough to fuzz.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"

namespace ttsd::server::api {

// A fine-tune (finetune.pretrained_model_path set): resolves job:<id>[@<step>|@best|@latest] through
// `job_dir_of` to the checkpoint file (written back into `config`), runs the pre-flight compatibility
// check, and returns the lineage to record ({"job_id", "step", "sha256", "path"}). "" for a run from
// scratch. Errors say what to change; nothing is queued.
absl::StatusOr<std::string> ResolveFinetuneBase(core::TrainConfig* config,
                                                const std::function<absl::StatusOr<std::string>(int64_t)>& job_dir_of);

}  // namespace ttsd::server::api
