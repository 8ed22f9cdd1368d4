#include "server/api/finetune_base.h"


#include "absl/strings/str_cat.h"
#include "core/common/status.h"
#include "core/text/symbols.h"
#include "core/train/finetune.h"

namespace ttsd::server::api {

absl::StatusOr<std::string> ResolveFinetuneBase(core::TrainConfig* config,
                                                const std::function<absl::StatusOr<std::string>(int64_t)>& job_dir_of) {
  std::string& from = config->finetune.pretrained_model_path;
  if (from.empty()) return std::string();
  int64_t parent_job = 0;
  if (from.rfind("job:", 0) == 0) {
    TTSD_ASSIGN_OR_RETURN(auto ref, core::train::ParseJobCheckpointRef(from));
    auto dir = job_dir_of(ref.job_id);
    if (!dir.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("finetune.pretrained_model_path: ", from, ": job ", ref.job_id,
                                                     " does not exist"));
    }
    auto path = core::train::CheckpointInRun(*dir, ref.selector);
    if (!path.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("finetune.pretrained_model_path: ", from, ": ",
                                                        path.status().message()));
    }
    from = *path;
    parent_job = ref.job_id;
  }
  TTSD_ASSIGN_OR_RETURN(auto base, core::train::OpenPretrained(from));
  from = base.path;  // a run folder becomes the checkpoint it stands for
  TTSD_ASSIGN_OR_RETURN(auto symbols, core::SymbolTable::ForConfig(config->text));
  auto report = core::train::CheckCompatibility(base, *config, symbols);
  if (!report.errors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the base model cannot be fine-tuned with this config:\n", report.ToString()));
  }
  return core::train::LineageJson(base, parent_job);
}

}  // namespace ttsd::server::api
