// Train(): the engine behind `ttsd train` (and, later, every daemon job). It prepares the dataset,
// builds the model and optimizer, resumes if asked, and runs the loop; everything it reports goes
// through an EventSink. Stop requests are an atomic flag checked between steps (a signal handler sets
// it): the current step finishes, a checkpoint is written, and Train returns kStopped.
#pragma once

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"
#include "core/train/event_sink.h"

namespace ttsd::core::train {

struct TrainerOptions {
  TrainConfig config;              // validated
  std::string output_dir;          // checkpoints/, train.log, metrics.jsonl, config.yaml, symbols.json
  std::string resume;              // "" (fresh; refuses a folder that has checkpoints), "auto", or a path
  EventSink* sink = nullptr;       // not owned
  const std::atomic<bool>* stop_requested = nullptr;  // not owned; may be null
  // Live control, acted on after the current step and then cleared (not owned; may be null).
  std::atomic<bool>* checkpoint_requested = nullptr;
  std::atomic<bool>* validate_requested = nullptr;
  bool show_progress = true;       // feature-extraction progress line
  // Data parallelism on CUDA: rank r trains on cuda:<LOCAL_RANK>, as under torchrun, unless the launcher
  // gave each rank its own device in config.training.device (the daemon does).
  bool device_per_rank = false;
};

enum class StopReason { kCompleted, kStopped, kNonFiniteLoss, kEarlyStopped };

struct TrainResult {
  StopReason reason = StopReason::kCompleted;
  int64_t step = 0;
  std::string last_checkpoint;
  std::string message;  // kEarlyStopped: why, and the best checkpoint
};

// Whether `value` improves on `best` by more than `min_delta` ("min": lower is better, "max": higher).
// A non-finite best means none yet: any finite value improves on it.
bool Improves(double value, double best, const std::string& mode, double min_delta);

absl::StatusOr<TrainResult> Train(const TrainerOptions& options);

// Learning rate at `step` (1-based) in `epoch` (0-based): noam = learning_rate * hidden^-0.5 *
// min(step^-0.5, step * warmup^-1.5), as the Transformer and Glow-TTS papers; exponential =
// learning_rate * lr_decay^epoch, as VITS; constant = learning_rate.
double LearningRate(const TrainingConfig& t, int64_t hidden_channels, int64_t step, int64_t epoch = 0);

}  // namespace ttsd::core::train
