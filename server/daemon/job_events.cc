#include "server/daemon/job_events.h"

#include <nlohmann/json.hpp>

namespace ttsd::server::daemon {

// The two enums list the same states in the same order; the API's starts at 1 (0 = unspecified).
ttsd::v1::JobState ToApiState(store::JobState s) { return static_cast<ttsd::v1::JobState>(static_cast<int>(s) + 1); }

bool FromApiState(ttsd::v1::JobState s, store::JobState* out) {
  int v = static_cast<int>(s) - 1;
  if (v < 0 || v > static_cast<int>(store::JobState::kCancelled)) return false;
  *out = static_cast<store::JobState>(v);
  return true;
}

ttsd::v1::Desired ToApiDesired(store::Desired d) { return static_cast<ttsd::v1::Desired>(static_cast<int>(d) + 1); }

std::string EventKindName(const ttsd::v1::JobEvent& e) {
  using E = ttsd::v1::JobEvent;
  switch (e.event_case()) {
    case E::kState: return "state";
    case E::kProgress: return "progress";
    case E::kValidation: return "validation";
    case E::kSample: return "sample";
    case E::kCheckpoint: return "checkpoint";
    case E::kLog: return "log";
    default: return "";
  }
}

ttsd::v1::EventKind EventKindOf(const ttsd::v1::JobEvent& e) {
  using E = ttsd::v1::JobEvent;
  switch (e.event_case()) {
    case E::kState: return ttsd::v1::EVENT_KIND_STATE;
    case E::kProgress: return ttsd::v1::EVENT_KIND_PROGRESS;
    case E::kValidation: return ttsd::v1::EVENT_KIND_VALIDATION;
    case E::kSample: return ttsd::v1::EVENT_KIND_SAMPLE;
    case E::kCheckpoint: return ttsd::v1::EVENT_KIND_CHECKPOINT;
    case E::kLog: return ttsd::v1::EVENT_KIND_LOG;
    default: return ttsd::v1::EVENT_KIND_UNSPECIFIED;
  }
}

void SetTimestampMs(int64_t ms, google::protobuf::Timestamp* t) {
  t->set_seconds(ms / 1000);
  t->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
}

ttsd::v1::JobEvent ToApiEvent(const store::EventRecord& r) {
  ttsd::v1::JobEvent e;
  if (!e.ParseFromString(r.payload)) {
    e.Clear();
    e.mutable_log()->set_text("(a stored " + r.kind + " event could not be read)");
  }
  e.set_seq(static_cast<uint64_t>(r.seq));
  SetTimestampMs(r.time_ms, e.mutable_time());
  e.set_attempt(static_cast<uint32_t>(r.attempt));
  return e;
}

ttsd::v1::JobEvent StateEvent(store::JobState state, const std::string& reason, const std::string& message) {
  ttsd::v1::JobEvent e;
  auto* s = e.mutable_state();
  s->set_state(ToApiState(state));
  s->set_reason(reason);
  s->set_message(message);
  return e;
}

ttsd::v1::Job ToApiJob(const store::JobRecord& r) {
  ttsd::v1::Job j;
  j.set_id(static_cast<uint64_t>(r.id));
  j.set_name(r.name);
  j.set_state(ToApiState(r.state));
  j.set_desired(ToApiDesired(r.desired));
  j.set_reason(r.reason);
  j.set_message(r.message);
  j.set_priority(r.priority);
  j.set_devices(static_cast<uint32_t>(r.devices));
  j.set_attempt(static_cast<uint32_t>(r.attempt));
  j.set_restarts(static_cast<uint32_t>(r.restarts));
  j.set_last_seq(static_cast<uint64_t>(r.last_seq));
  j.set_job_dir(r.job_dir);
  j.set_config_yaml(r.config_yaml);
  j.set_request_id(r.request_id);
  SetTimestampMs(r.created_ms, j.mutable_created());
  SetTimestampMs(r.updated_ms, j.mutable_updated());
  if (!r.parent_json.empty()) {
    auto p = nlohmann::json::parse(r.parent_json, nullptr, /*allow_exceptions=*/false);
    if (p.is_object()) {
      j.mutable_parent()->set_job_id(p.value("job_id", uint64_t{0}));
      j.mutable_parent()->set_step(p.value("step", int64_t{0}));
      j.mutable_parent()->set_sha256(p.value("sha256", std::string()));
      j.mutable_parent()->set_path(p.value("path", std::string()));
      j.mutable_parent()->set_imported_from(p.value("imported_from", std::string()));
      j.mutable_parent()->set_source_path(p.value("source_path", std::string()));
      j.mutable_parent()->set_source_sha256(p.value("source_sha256", std::string()));
    }
  }
  return j;
}

bool IsSettled(store::JobState s) {
  using S = store::JobState;
  return s == S::kStopped || s == S::kSucceeded || s == S::kFailed || s == S::kCancelled;
}

}  // namespace ttsd::server::daemon
