// The EventSink of a daemon job's worker: every event goes to the daemon as a ttsd.v1.WorkerEvent on the
// event pipe, and to the job folder's train.log / metrics.jsonl (through `files`), so a job's folder
// holds what a standalone `ttsd train` run folder holds.
#pragma once

#include <memory>

#include "core/train/event_sink.h"
#include "ttsd/v1/worker.pb.h"

namespace ttsd::server::worker {

class WorkerSink : public core::train::EventSink {
 public:
  // `fd` is the pipe's write end (not owned); `files` may be null.
  WorkerSink(int fd, std::unique_ptr<core::train::EventSink> files) : fd_(fd), files_(std::move(files)) {}

  void OnStep(const core::train::StepEvent& e) override;
  void OnValidation(const core::train::ValidationEvent& e) override;
  void OnCheckpoint(const core::train::CheckpointEvent& e) override;
  void OnLog(const std::string& line) override;
  void OnResumed(int64_t step) override;
  void OnSample(const core::train::SampleEvent& e) override;
  // Also for started/finished, which the trainer does not emit. Repairs non-UTF-8 strings in place.
  void Send(ttsd::v1::WorkerEvent& event);

 private:
  int fd_;
  bool pipe_open_ = true;  // after the daemon went away, keep training into the files only
  std::unique_ptr<core::train::EventSink> files_;
};

}  // namespace ttsd::server::worker
