// Fine-tuning: a new run that starts from another model's weights (not a resume: step 0, a fresh
// optimizer and schedule). Three parts, in the order the trainer uses them:
//  1. OpenPretrained + CheckCompatibility, before any data is read: the base checkpoint's audio, text
//     and model settings against the config. What cannot work is an error naming the field to change;
//     what is risky is a warning.
//  2. MergeSpeakers, after the dataset is prepared: a multi-speaker base keeps its speakers and the
//     data's new ones are added after them.
//  3. LoadPretrainedWeights into the new model: by parameter name, through finetune.include / exclude /
//     reinit; text-embedding rows copied by symbol and speaker rows by speaker name. Then Freeze.
// Every decision goes into a FinetuneReport, logged and written to <run>/finetune_report.txt.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"
#include "core/data/dataset.h"
#include "core/text/symbols.h"
#include "core/train/checkpoint.h"

namespace ttsd::core::train {

struct FinetuneReport {
  std::vector<std::string> errors;    // cannot work: the run does not start
  std::vector<std::string> warnings;  // may work badly
  std::vector<std::string> notes;     // what was done
  std::string ToString() const;
};

struct PretrainedModel {
  std::string path;      // the checkpoint file
  std::string sha256;
  CheckpointMeta meta;
  TrainConfig config;    // the base run's resolved config
  SymbolTable symbols;
  std::vector<std::string> speakers;
};

// `path`: a checkpoint file, or a run folder (its best checkpoint, else its latest). Verifies the sha256.
absl::StatusOr<PretrainedModel> OpenPretrained(const std::string& path);

// What a fine-tune records of its base ({"path", "sha256", "step"}, with "job_id" when the daemon named it
// by job), and, when the base came from `ttsd import`, where that came from ({"imported_from",
// "source_path", "source_sha256"}), so the chain back to another tool's file is never lost.
std::string LineageJson(const PretrainedModel& base, int64_t job_id = -1);

// The pre-flight report of fine-tuning `base` with `cfg` (and `symbols`, the new run's table).
FinetuneReport CheckCompatibility(const PretrainedModel& base, const TrainConfig& cfg, const SymbolTable& symbols);

// A multi-speaker base: the new model's speakers are the base's, in order, then the data's new ones;
// each utterance's speaker id is remapped. Unnamed (single-speaker) data takes finetune.speaker_name.
void MergeSpeakers(const PretrainedModel& base, const TrainConfig& cfg, PreparedDataset* ds, FinetuneReport* report);

// Warnings that need the prepared data: little data and nothing frozen.
void CheckDataAmount(const PreparedDataset& ds, const TrainConfig& cfg, FinetuneReport* report);

// Copies the base's weights into `model` (built for the new symbols and speakers). An error when a
// parameter that is to be loaded has another shape.
absl::Status LoadPretrainedWeights(const PretrainedModel& base, const TrainConfig& cfg, const SymbolTable& symbols,
                                   const std::vector<std::string>& speakers, torch::nn::Module& model,
                                   FinetuneReport* report);

// requires_grad = false on every parameter matching finetune.freeze; returns how many tensors.
int Freeze(const TrainConfig& cfg, torch::nn::Module& model, FinetuneReport* report);

// "job:<id>[@<step>|@best|@latest]" (the daemon's own jobs): the job id and the selector ("latest"
// when none). INVALID_ARGUMENT for anything else.
struct JobCheckpointRef {
  int64_t job_id = 0;
  std::string selector;  // "best", "latest" or a step number
};
absl::StatusOr<JobCheckpointRef> ParseJobCheckpointRef(const std::string& ref);
// The checkpoint file `selector` names in a run folder; NOT_FOUND saying which checkpoints there are.
absl::StatusOr<std::string> CheckpointInRun(const std::string& run_dir, const std::string& selector);

// finetune.* pattern match: an fnmatch glob over the whole name, or a module prefix ("encoder").
bool MatchesAny(const std::string& name, const std::vector<std::string>& patterns);

}  // namespace ttsd::core::train
