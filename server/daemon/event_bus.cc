#include "server/daemon/event_bus.h"

#include "server/daemon/job_events.h"

namespace ttsd::server::daemon {

absl::StatusOr<int64_t> EventBus::Append(int64_t job_id, ttsd::v1::JobEvent e) {
  std::string wav;
  if (e.has_sample()) wav.swap(*e.mutable_sample()->mutable_wav());
  absl::MutexLock lock(&mu_);
  auto stored = store_->AppendEvent(job_id, EventKindName(e), e.SerializeAsString());
  if (!stored.ok()) return stored.status();
  e.set_seq(static_cast<uint64_t>(stored->seq));
  SetTimestampMs(stored->time_ms, e.mutable_time());
  e.set_attempt(static_cast<uint32_t>(stored->attempt));
  if (e.has_sample()) e.mutable_sample()->mutable_wav()->swap(wav);
  Publish(job_id, e);
  return stored->seq;
}

absl::StatusOr<store::JobRecord> EventBus::Transition(int64_t job_id, store::JobState to, const std::string& reason,
                                                      const std::string& message) {
  ttsd::v1::JobEvent e = StateEvent(to, reason, message);
  absl::MutexLock lock(&mu_);
  auto job = store_->Transition(job_id, to, reason, message, e.SerializeAsString());
  if (!job.ok()) return job.status();
  e.set_seq(static_cast<uint64_t>(job->last_seq));
  SetTimestampMs(job->updated_ms, e.mutable_time());
  e.set_attempt(static_cast<uint32_t>(job->attempt));
  Publish(job_id, e);
  return job;
}

absl::StatusOr<store::JobRecord> EventBus::CreateJob(const store::NewJob& job, bool* created) {
  ttsd::v1::JobEvent e = StateEvent(store::JobState::kQueued, "", "submitted");
  absl::MutexLock lock(&mu_);
  // A new job has no subscribers yet (its id did not exist), so there is nothing to publish.
  return store_->CreateJob(job, e.SerializeAsString(), created);
}

void EventBus::Subscribe(int64_t job_id, Subscriber* s) {
  absl::MutexLock lock(&mu_);
  subscribers_[job_id].insert(s);
}

void EventBus::Unsubscribe(int64_t job_id, Subscriber* s) {
  absl::MutexLock lock(&mu_);
  auto it = subscribers_.find(job_id);
  if (it == subscribers_.end()) return;
  it->second.erase(s);
  if (it->second.empty()) subscribers_.erase(it);
}

void EventBus::Publish(int64_t job_id, const ttsd::v1::JobEvent& e) {
  auto it = subscribers_.find(job_id);
  if (it == subscribers_.end()) return;
  auto wire = std::make_shared<const std::string>(e.SerializeAsString());
  if (it->second.size() < kParallelFanout) {
    for (Subscriber* s : it->second) s->OnLiveEvent(e, wire);
    return;
  }
  // Many watchers: each write to a stream costs a few microseconds; split them over two threads. Both
  // halves finish before the next event is published, so every subscriber still sees seq order.
  std::vector<Subscriber*> all(it->second.begin(), it->second.end());
  const size_t half = all.size() / 2;
  helper_.Run([&] {
    for (size_t i = half; i < all.size(); ++i) all[i]->OnLiveEvent(e, wire);
  });
  for (size_t i = 0; i < half; ++i) all[i]->OnLiveEvent(e, wire);
  helper_.Wait();
}

FanoutHelper::FanoutHelper() : thread_([this] { Loop(); }) {}

FanoutHelper::~FanoutHelper() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void FanoutHelper::Run(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  task_ = std::move(task);
  busy_ = true;
}

void FanoutHelper::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(+[](bool* busy) { return !*busy; }, &busy_));
}

void FanoutHelper::Loop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(+[](FanoutHelper* h) ABSL_NO_THREAD_SAFETY_ANALYSIS { return h->busy_ || h->stop_; }, this));
    if (stop_ && !busy_) return;
    std::function<void()> task = std::move(task_);
    mu_.Unlock();
    task();
    mu_.Lock();
    busy_ = false;
  }
}

}  // namespace ttsd::server::daemon
