// What the trainer tests share: a sink that keeps every event the trainer sends, and a call that runs a
// config on it.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "core/train/trainer.h"

namespace ttsd::core::train {

// Keeps every step's values and every other event; raises the stop flag after step `stop_at`, as a
// SIGTERM would.
class RecordingSink : public EventSink {
 public:
  explicit RecordingSink(int64_t stop_at = -1) : stop_at_(stop_at) {}
  void OnStep(const StepEvent& e) override {
    steps[e.step] = e.values;
    if (e.step == stop_at_) stop.store(true);
  }
  void OnValidation(const ValidationEvent& e) override { validations.push_back(e); }
  void OnSample(const SampleEvent& e) override { samples.push_back(e); }
  void OnCheckpoint(const CheckpointEvent& e) override { checkpoints.push_back(e); }
  void OnLog(const std::string& line) override { log += line + "\n"; }

  std::map<int64_t, std::map<std::string, double>> steps;
  std::vector<ValidationEvent> validations;
  std::vector<SampleEvent> samples;
  std::vector<CheckpointEvent> checkpoints;
  std::string log;
  std::atomic<bool> stop{false};

 private:
  int64_t stop_at_;
};

// Trains `c` into `out` (quietly), reporting to `sink` and stopping when it says so.
inline absl::StatusOr<TrainResult> RunTrain(const TrainConfig& c, const std::string& out, RecordingSink* sink,
                                            const std::string& resume = "") {
  TrainerOptions o;
  o.config = c;
  o.output_dir = out;
  o.resume = resume;
  o.sink = sink;
  o.stop_requested = &sink->stop;
  o.show_progress = false;
  return Train(o);
}

}  // namespace ttsd::core::train
