// Checkpoints: one file per checkpoint (ckpt-<step>.pt, a torch archive) holding the model, the
// optimizer, the training position (step, epoch, batch within the epoch), the RNG state, the best-metric
// tracker, the resolved config, the symbol table, the speakers and a format version. Each is written
// atomically and then gets a .sha256 sidecar; a file without a matching sidecar is never trusted.
// `latest` and `best` are pointer files; retention keeps the newest keep_last plus both pointers.
// Not thread-safe; one trainer owns one Checkpointer.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"
#include "core/data/sampler.h"

namespace ttsd::core::train {

constexpr int64_t kCheckpointFormatVersion = 1;

struct TrainingState {
  int64_t step = 0;                 // optimizer steps taken
  SamplerPosition position;         // the next batch to train on
  double best_metric = std::numeric_limits<double>::infinity();  // checkpoint.best_metric's best (non-finite: none yet)
  int64_t best_step = -1;
  int64_t validations_since_best = 0;
  double early_best = std::numeric_limits<double>::infinity();  // early_stopping.metric's best
  int64_t early_stale = 0;          // validations in a row without an improvement of min_delta
  int64_t nonfinite_in_row = 0;
  double loss_scale = 65536.0;      // fp16 dynamic loss scaling (precision.h)
  int64_t loss_scale_good_steps = 0;
};

struct CheckpointMeta {
  TrainingState state;
  std::string config_yaml;   // resolved config
  std::string symbols_json;  // SymbolTable::ToJson
  std::string speakers_json; // ["name", ...] in id order
  std::string device = "cpu"; // where it was trained; a CUDA run also saves that device's generator
  std::string parent_json;    // a fine-tune's base: {"path", "sha256", "step"}; "" for a run from scratch
  int64_t format_version = kCheckpointFormatVersion;
};

struct CheckpointInfo {
  std::string path;
  int64_t step = 0;
  std::string sha256;
  int64_t bytes = 0;
  bool is_best = false;
};

class Checkpointer {
 public:
  Checkpointer(std::string dir, CheckpointConfig config) : dir_(std::move(dir)), config_(std::move(config)) {}

  // Saves the model and every optimizer (in order), points `latest` (and `best` when is_best) at it,
  // then applies retention.
  absl::StatusOr<CheckpointInfo> Save(const torch::nn::Module& model, const std::vector<torch::optim::Optimizer*>& optimizers,
                                      const CheckpointMeta& meta, bool is_best);

  // Loads `path` after verifying its sidecar, its tensors onto `device` (where `model` lives). The model
  // and optimizers must have the checkpoint's shape. With optimizers (a resume) the generators are
  // restored too; with none, only the weights are read.
  static absl::Status Load(const std::string& path, torch::nn::Module& model,
                           const std::vector<torch::optim::Optimizer*>& optimizers, CheckpointMeta* meta,
                           const torch::Device& device = torch::kCPU);
  // Only the metadata (config, symbols, state); verifies the sidecar too.
  static absl::StatusOr<CheckpointMeta> ReadMeta(const std::string& path);

  // Checkpoints in the folder, newest step first.
  std::vector<std::string> List() const;
  // `--resume auto`: the newest checkpoint whose sidecar matches; each one skipped is passed to `warn`.
  // NOT_FOUND when there is none.
  absl::StatusOr<std::string> NewestValid(const std::function<void(const std::string&)>& warn) const;

  // Deletes the temp files of saves that a killed process left half written; returns how many. Only
  // while no other process trains into the folder (the run folder lock).
  int RemovePartialWrites() const;

  const std::string& dir() const { return dir_; }
  // The checkpoint a pointer file ("best", "latest") names ("" when there is none yet).
  std::string PointerPath(const std::string& pointer) const;
  // Where the checkpoint of `step` is (or would be) written.
  std::string PathForStep(int64_t step) const;

 private:
  absl::Status ApplyRetention();
  std::string ReadPointer(const std::string& name) const;

  std::string dir_;
  CheckpointConfig config_;
};

// One checkpoint file outside a run's folder (`ttsd import`): the model and `meta`, no optimizer, written
// atomically with its .sha256 sidecar.
absl::StatusOr<CheckpointInfo> SaveCheckpointFile(const std::string& path, const torch::nn::Module& model,
                                                  const CheckpointMeta& meta);

// Checks `path` against `path.sha256`.
absl::Status VerifyCheckpoint(const std::string& path);

}  // namespace ttsd::core::train
