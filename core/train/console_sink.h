// The standalone sink: lines on the console and in <output_dir>/train.log, and one JSON object per
// logged step or validation in <output_dir>/metrics.jsonl (append-only, full double precision).
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/train/event_sink.h"

namespace ttsd::core::train {

class ConsoleSink : public EventSink {
 public:
  static absl::StatusOr<std::unique_ptr<ConsoleSink>> Create(const std::string& output_dir, bool quiet = false);

  void OnStep(const StepEvent& e) override;
  void OnValidation(const ValidationEvent& e) override;
  void OnCheckpoint(const CheckpointEvent& e) override;
  void OnLog(const std::string& line) override;
  void OnSample(const SampleEvent& e) override;

 private:
  ConsoleSink(std::ofstream log, std::ofstream metrics, bool quiet)
      : log_(std::move(log)), metrics_(std::move(metrics)), quiet_(quiet) {}
  void Line(const std::string& text);

  std::ofstream log_;
  std::ofstream metrics_;
  bool quiet_;
};

}  // namespace ttsd::core::train
