#include "core/train/tensorboard_sink.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/common/file_util.h"

namespace ttsd::core::train {

TensorBoardSink::TensorBoardSink(const std::string& run_dir, EventSink* inner) : inner_(inner) {
  auto writer = tensorboard::EventWriter::Create(absl::StrCat(run_dir, "/events"));
  if (writer.ok()) {
    writer_ = std::move(*writer);
  } else {
    inner_->OnLog(absl::StrCat("warning: no TensorBoard events for this run: ", writer.status().message()));
  }
}

void TensorBoardSink::Check(const absl::Status& st) {
  if (st.ok()) return;
  inner_->OnLog(absl::StrCat("warning: TensorBoard events stop here: ", st.message()));
  writer_.reset();
}

void TensorBoardSink::OnStep(const StepEvent& e) {
  inner_->OnStep(e);
  if (!writer_) return;
  std::map<std::string, double> values = e.values;
  values["throughput/step_seconds"] = e.step_seconds;
  values["throughput/frames_per_second"] = e.frames_per_second;
  Check(writer_->Scalars(e.step, values));
}

void TensorBoardSink::OnValidation(const ValidationEvent& e) {
  inner_->OnValidation(e);
  if (writer_) Check(writer_->Scalars(e.step, e.values));
}

void TensorBoardSink::OnResumed(int64_t step) {
  inner_->OnResumed(step);
  // Everything up to the checkpoint's step stands; what an abandoned attempt logged after it is replaced.
  if (writer_ && step > 0) Check(writer_->SessionStart(step + 1));
}

void TensorBoardSink::OnSample(const SampleEvent& e) {
  inner_->OnSample(e);
  if (!writer_) return;
  auto wav = ReadFileToString(e.path);
  if (!wav.ok()) {
    inner_->OnLog(absl::StrCat("warning: sample not in TensorBoard: ", wav.status().message()));
    return;
  }
  const auto frames = static_cast<int64_t>(e.duration_seconds * e.sample_rate + 0.5);
  Check(writer_->Audio(e.step, absl::StrCat("samples/", e.tag), *wav, e.sample_rate, frames));
}

void TensorBoardSink::OnFigure(const FigureEvent& e) {
  inner_->OnFigure(e);
  if (!writer_) return;
  // One colour scale for all panels, so predicted and target mel compare by eye.
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (const auto& m : e.panels) {
    for (float v : m.data) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  std::vector<tensorboard::RgbImage> panels;
  for (const auto& m : e.panels) panels.push_back(tensorboard::Heatmap(m, 2, lo, hi));
  Check(writer_->Image(e.step, e.tag, tensorboard::StackVertically(panels)));
}

}  // namespace ttsd::core::train
