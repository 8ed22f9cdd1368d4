// Every run's TensorBoard record: a sink that passes each event on to the run's own sink (console or
// daemon) and also writes it to <run>/events/ — scalars for every logged step and validation, the
// validation audio, figures of predicted vs target mel and of the alignment, and a SessionLog START
// when a run resumes. A write error (a full disk) is reported once and ends the TensorBoard record, not
// the training.
#pragma once

#include <memory>
#include <string>

#include "core/tensorboard/event_writer.h"
#include "core/train/event_sink.h"

namespace ttsd::core::train {

class TensorBoardSink : public EventSink {
 public:
  TensorBoardSink(const std::string& run_dir, EventSink* inner);

  void OnStep(const StepEvent& e) override;
  void OnValidation(const ValidationEvent& e) override;
  void OnCheckpoint(const CheckpointEvent& e) override { inner_->OnCheckpoint(e); }
  void OnLog(const std::string& line) override { inner_->OnLog(line); }
  void OnResumed(int64_t step) override;
  void OnSample(const SampleEvent& e) override;
  void OnFigure(const FigureEvent& e) override;

 private:
  void Check(const absl::Status& st);

  EventSink* inner_;
  std::unique_ptr<tensorboard::EventWriter> writer_;  // null once writing failed
};

}  // namespace ttsd::core::train
