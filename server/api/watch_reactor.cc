#include "server/api/watch_reactor.h"

#include "core/common/file_util.h"
#include "spdlog/spdlog.h"
#include "server/daemon/job_events.h"

namespace ttsd::server::api {

using daemon::IsSettled;
using store::JobState;

WatchRegistry::WatchRegistry(absl::Duration heartbeat) : heartbeat_(heartbeat) {
  ticker_ = std::thread([this] { TickerLoop(); });
}

WatchRegistry::~WatchRegistry() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  ticker_.join();
}

void WatchRegistry::Add(WatchReactor* r) {
  absl::MutexLock lock(&mu_);
  reactors_.insert(r);
}

void WatchRegistry::Remove(WatchReactor* r) {
  absl::MutexLock lock(&mu_);
  reactors_.erase(r);
}

void WatchRegistry::RevokeUnless(const std::function<bool(const std::string&)>& accepted) {
  absl::MutexLock lock(&mu_);
  for (WatchReactor* r : reactors_) {
    if (!accepted(r->credential())) r->Revoke();  // Remove() waits for this lock: r is alive
  }
}

void WatchRegistry::TickerLoop() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&stop_), std::min(heartbeat_ / 4, absl::Milliseconds(500)));
    absl::Time now = absl::Now();
    for (WatchReactor* r : reactors_) r->Tick(now);  // Remove() waits for this lock: r is alive
  }
}

WatchReactor::WatchReactor(daemon::EventBus* bus, WatchRegistry* registry, const ttsd::v1::WatchJobRequest& request,
                           std::string credential)
    : bus_(bus),
      registry_(registry),
      job_id_(static_cast<int64_t>(request.job_id())),
      follow_(request.follow()),
      credential_(std::move(credential)),
      cursor_(static_cast<int64_t>(request.after_seq())), last_state_(0), last_write_(absl::Now()) {
  for (int k : request.kinds()) kinds_.insert(k);
  // Subscribe before the first store read, so nothing can fall between the two. Live events that
  // arrive meanwhile wait in live_ (from_store_ is set).
  bus_->Subscribe(job_id_, this);
  auto job = bus_->store().GetJob(job_id_);
  registry_->Add(this);
  absl::MutexLock lock(&mu_);
  last_state_ = static_cast<int>(job.ok() ? job->state : JobState::kQueued);
  Pump();
}

WatchReactor::Pending WatchReactor::ToPending(const ttsd::v1::JobEvent& e, std::shared_ptr<const std::string> wire) {
  Pending p;
  p.seq = static_cast<int64_t>(e.seq());
  p.kind = static_cast<int>(daemon::EventKindOf(e));
  store::JobState s;
  if (e.has_state() && daemon::FromApiState(e.state().state(), &s)) p.state = static_cast<int>(s);
  p.wire = wire ? std::move(wire) : std::make_shared<const std::string>(e.SerializeAsString());
  return p;
}

void WatchReactor::OnLiveEvent(const ttsd::v1::JobEvent& e, const std::shared_ptr<const std::string>& wire) {
  absl::MutexLock lock(&mu_);
  if (finished_ || ending_) return;
  if (live_.size() >= kLiveQueueLimit) {
    live_.clear();  // the store has them all: catch up from there
    if (!lagged_) spdlog::info("a watcher of job {} fell behind at event {}; it catches up from the store", job_id_, cursor_);
    lagged_ = true;
    return;
  }
  live_.push_back(ToPending(e, wire));
  if (!writing_ && !from_store_) Pump();  // idle and live: only in-memory work happens here
}

bool WatchReactor::ReadStorePage() {
  auto page = bus_->store().ReadEvents(job_id_, cursor_, kReplayPage);
  if (!page.ok() || page->empty()) return false;
  for (const auto& rec : *page) {
    ttsd::v1::JobEvent e = daemon::ToApiEvent(rec);
    const bool samples_wanted = kinds_.empty() || kinds_.count(ttsd::v1::EVENT_KIND_SAMPLE) > 0;
    if (e.has_sample() && samples_wanted && !e.sample().path().empty()) {
      if (auto wav = core::ReadFileToString(e.sample().path()); wav.ok()) e.mutable_sample()->set_wav(std::move(*wav));
    }
    backlog_.push_back(ToPending(e, nullptr));
  }
  return true;
}

void WatchReactor::Pump() {
  while (!writing_ && !finished_ && !ending_) {
    Pending e;
    if (!backlog_.empty()) {
      e = std::move(backlog_.front());
      backlog_.pop_front();
    } else if (from_store_) {
      if (ReadStorePage()) continue;
      if (lagged_) {  // events were dropped while reading: the store has them now
        lagged_ = false;
        continue;
      }
      from_store_ = false;  // caught up: everything newer is in (or will reach) live_
      continue;
    } else if (!live_.empty()) {
      e = std::move(live_.front());
      live_.pop_front();
      if (e.seq <= cursor_) continue;      // already sent from the store
      if (e.seq > cursor_ + 1) {           // a gap: never expected, but recover
        live_.clear();
        from_store_ = true;
        continue;
      }
    } else {
      // Idle and caught up. A watch without follow ends here; a followed one ends when the job settles.
      if (!follow_ || IsSettled(static_cast<JobState>(last_state_))) SendEnd();
      return;
    }
    cursor_ = e.seq;
    if (e.state >= 0) last_state_ = e.state;
    if (kinds_.empty() || kinds_.count(e.kind) > 0) Write(*e.wire);
  }
}

void WatchReactor::Write(const std::string& bytes) {
  grpc::Slice slice(bytes);
  in_flight_ = grpc::ByteBuffer(&slice, 1);
  writing_ = true;
  last_write_ = absl::Now();
  StartWrite(&in_flight_);
}

void WatchReactor::SendEnd() {
  ttsd::v1::JobEvent e;
  daemon::SetTimestampMs(absl::ToUnixMillis(absl::Now()), e.mutable_time());
  e.mutable_end()->set_final_state(daemon::ToApiState(static_cast<JobState>(last_state_)));
  if (auto job = bus_->store().GetJob(job_id_); job.ok()) e.mutable_end()->set_reason(job->reason);
  ending_ = true;
  Write(e.SerializeAsString());
}

void WatchReactor::Revoke() {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  revoked_ = ending_ = true;  // nothing more is sent; a write in flight finishes the call when done
  if (!writing_) FinishOnce(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the token was revoked"));
}

void WatchReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (revoked_) {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the token was revoked"));
    return;
  }
  if (!ok) {
    FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
    return;
  }
  if (ending_) {
    FinishOnce(grpc::Status::OK);
    return;
  }
  Pump();
}

void WatchReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  if (!writing_) FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  ending_ = true;  // a write in flight completes (not ok) and finishes the call
}

void WatchReactor::FinishOnce(const grpc::Status& st) {
  if (finished_) return;
  finished_ = true;
  Finish(st);
}

void WatchReactor::OnDone() {
  bus_->Unsubscribe(job_id_, this);
  registry_->Remove(this);
  delete this;
}

void WatchReactor::Tick(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (writing_ || finished_ || ending_ || !follow_) return;
  if (now - last_write_ < registry_->heartbeat()) return;
  ttsd::v1::JobEvent e;
  daemon::SetTimestampMs(absl::ToUnixMillis(now), e.mutable_time());
  e.mutable_heartbeat();
  Write(e.SerializeAsString());
}

}  // namespace ttsd::server::api
