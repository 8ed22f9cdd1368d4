// What a training run reports, and the interface it reports through. The trainer knows nothing of
// where events go: standalone `ttsd train` prints them and writes metrics.jsonl (ConsoleSink); the
// daemon's worker will forward them to the daemon. Implementations must be cheap and never throw.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/audio/matrix.h"

namespace ttsd::core::train {

struct StepEvent {
  int64_t step = 0;
  int64_t epoch = 0;
  int64_t total_steps = 0;             // best estimate of the run's length
  std::map<std::string, double> values;  // "train/loss", "train/mle", "train/duration", "lr", "grad_norm", ...
  double step_seconds = 0;
  double frames_per_second = 0;
  double eta_seconds = 0;
};

struct ValidationEvent {
  int64_t step = 0;
  int64_t epoch = 0;
  std::map<std::string, double> values;  // "val/loss", "val/mle", "val/duration", "val/mcd"
  bool is_best = false;                   // this step is the new best by checkpoint.best_metric
  // The best so far, by checkpoint.best_metric (best_step -1: none yet).
  std::string best_metric;
  double best_value = 0;
  int64_t best_step = -1;
  int64_t validations_since_best = 0;
};

struct CheckpointEvent {
  int64_t step = 0;
  std::string path;
  std::string sha256;
  int64_t bytes = 0;
  bool is_best = false;
};

// Validation audio: a WAV the run wrote (samples/step_<step>/<tag>.wav in the run folder).
struct SampleEvent {
  int64_t step = 0;
  std::string tag;   // the utterance id
  std::string path;
  int sample_rate = 0;
  double duration_seconds = 0;
  std::string text;  // what was said
};

// A picture for TensorBoard: matrices drawn as heat maps, stacked top to bottom (predicted over target
// mel, or an alignment). Only the TensorBoard sink draws them.
struct FigureEvent {
  int64_t step = 0;
  std::string tag;
  std::vector<FloatMatrix> panels;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnStep(const StepEvent& e) = 0;
  virtual void OnValidation(const ValidationEvent& e) = 0;
  virtual void OnCheckpoint(const CheckpointEvent& e) = 0;
  virtual void OnLog(const std::string& line) = 0;  // human-readable progress and warnings
  // The run continues from `step` (0: no checkpoint, a fresh start). The daemon archives the metric rows
  // an abandoned attempt logged beyond it.
  virtual void OnResumed(int64_t /*step*/) {}
  virtual void OnSample(const SampleEvent& /*e*/) {}
  virtual void OnFigure(const FigureEvent& /*e*/) {}
};

}  // namespace ttsd::core::train
