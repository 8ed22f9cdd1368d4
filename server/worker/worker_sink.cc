#include "server/worker/worker_sink.h"

#include "absl/time/clock.h"
#include "core/text/utf8.h"
#include "server/worker/event_pipe.h"

namespace ttsd::server::worker {
namespace {

// Protobuf refuses to parse a string field that is not UTF-8, so one Latin-1 byte in a log line or an
// error message would make the daemon drop the event (a lost WorkerFinished reads as a crash). Every
// string field is repaired before it leaves.
void RepairUtf8(google::protobuf::Message* m) {
  const auto* reflection = m->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(*m, &fields);
  for (const auto* f : fields) {
    using FD = google::protobuf::FieldDescriptor;
    if (f->type() == FD::TYPE_STRING) {
      if (f->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*m, f); ++i) {
          reflection->SetRepeatedString(m, f, i, core::ToValidUtf8(reflection->GetRepeatedString(*m, f, i)));
        }
      } else {
        reflection->SetString(m, f, core::ToValidUtf8(reflection->GetString(*m, f)));
      }
    } else if (f->cpp_type() == FD::CPPTYPE_MESSAGE && !f->is_map()) {  // map keys are metric names
      if (f->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*m, f); ++i) RepairUtf8(reflection->MutableRepeatedMessage(m, f, i));
      } else {
        RepairUtf8(reflection->MutableMessage(m, f));
      }
    }
  }
}

}  // namespace

void WorkerSink::Send(ttsd::v1::WorkerEvent& event) {
  if (!pipe_open_) return;
  RepairUtf8(&event);
  if (!WriteDelimited(fd_, event).ok()) pipe_open_ = false;
}

void WorkerSink::OnStep(const core::train::StepEvent& e) {
  if (files_) files_->OnStep(e);
  ttsd::v1::WorkerEvent ev;
  auto* p = ev.mutable_progress();
  p->set_step(e.step);
  p->set_total_steps(e.total_steps);
  p->set_epoch(e.epoch);
  for (const auto& [key, value] : e.values) {
    if (key == "lr") {
      p->set_learning_rate(value);
    } else if (key == "grad_norm") {
      p->set_grad_norm(value);
    } else {
      (*p->mutable_losses())[key] = value;
    }
  }
  p->set_step_seconds(e.step_seconds);
  p->set_frames_per_second(e.frames_per_second);
  p->set_eta_seconds(e.eta_seconds);
  p->set_wall_time(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  Send(ev);
}

void WorkerSink::OnValidation(const core::train::ValidationEvent& e) {
  if (files_) files_->OnValidation(e);
  ttsd::v1::WorkerEvent ev;
  auto* v = ev.mutable_validation();
  v->set_step(e.step);
  v->set_epoch(e.epoch);
  for (const auto& [key, value] : e.values) (*v->mutable_metrics())[key] = value;
  v->set_is_best(e.is_best);
  auto* best = v->mutable_best();
  best->set_metric(e.best_metric);
  best->set_value(e.best_value);
  best->set_step(e.best_step);
  best->set_validations_since(e.validations_since_best);
  Send(ev);
}

void WorkerSink::OnCheckpoint(const core::train::CheckpointEvent& e) {
  if (files_) files_->OnCheckpoint(e);
  ttsd::v1::WorkerEvent ev;
  auto* c = ev.mutable_checkpoint();
  c->set_step(e.step);
  c->set_path(e.path);
  c->set_sha256(e.sha256);
  c->set_bytes(e.bytes);
  c->set_is_best(e.is_best);
  Send(ev);
}

void WorkerSink::OnLog(const std::string& line) {
  if (files_) files_->OnLog(line);
  ttsd::v1::WorkerEvent ev;
  ev.mutable_log()->set_text(line);
  Send(ev);
}

void WorkerSink::OnSample(const core::train::SampleEvent& e) {
  if (files_) files_->OnSample(e);
  ttsd::v1::WorkerEvent ev;
  auto* s = ev.mutable_sample();
  s->set_step(e.step);
  s->set_tag(e.tag);
  s->set_path(e.path);
  s->set_sample_rate(static_cast<uint32_t>(e.sample_rate));
  s->set_duration_seconds(e.duration_seconds);
  s->set_text(e.text);
  Send(ev);
}

void WorkerSink::OnResumed(int64_t step) {
  if (files_) files_->OnResumed(step);
  ttsd::v1::WorkerEvent ev;
  ev.mutable_resumed()->set_step(step);
  Send(ev);
}

}  // namespace ttsd::server::worker
