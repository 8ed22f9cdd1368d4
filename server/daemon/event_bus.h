// Every job event goes through here: stored first (gap-free seq), then handed to the live subscribers
// (watch streams) in seq order. Storing before publishing is what lets a watcher replay the store and
// then follow live events with no gap: whatever it did not read from the store reaches it live.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <functional>
#include <set>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/store/store.h"
#include "ttsd/v1/ttsd.pb.h"

namespace ttsd::server::daemon {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Called with the bus's lock held, in seq order per job: must be quick and must not call the bus.
  // `wire` is `e` serialised, once for all subscribers (a hundred watchers cost one serialisation).
  virtual void OnLiveEvent(const ttsd::v1::JobEvent& e, const std::shared_ptr<const std::string>& wire) = 0;
};

// A second thread for a large fan-out: Run() hands it a task, Wait() returns when it is done.
class FanoutHelper {
 public:
  FanoutHelper();
  ~FanoutHelper();
  void Run(std::function<void()> task);
  void Wait();

 private:
  void Loop();
  absl::Mutex mu_;
  std::function<void()> task_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class EventBus {
 public:
  // From this many subscribers of one job, half of them are handed their events by a second thread.
  static constexpr size_t kParallelFanout = 16;

  explicit EventBus(store::Store* store) : store_(store) {}

  store::Store& store() { return *store_; }

  // Stores `e` (seq, time and attempt are assigned) and publishes it. A sample's WAV bytes are
  // published but not stored (the stored event keeps the file's path).
  absl::StatusOr<int64_t> Append(int64_t job_id, ttsd::v1::JobEvent e);
  // Store::Transition plus the publication of its state event.
  absl::StatusOr<store::JobRecord> Transition(int64_t job_id, store::JobState to, const std::string& reason,
                                              const std::string& message);
  // Store::CreateJob with the job's first state event (QUEUED).
  absl::StatusOr<store::JobRecord> CreateJob(const store::NewJob& job, bool* created);

  void Subscribe(int64_t job_id, Subscriber* s);
  void Unsubscribe(int64_t job_id, Subscriber* s);

 private:
  void Publish(int64_t job_id, const ttsd::v1::JobEvent& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  store::Store* store_;
  // Held from storing an event to publishing it, so subscribers see each job's events in seq order.
  absl::Mutex mu_;
  std::map<int64_t, std::set<Subscriber*>> subscribers_ ABSL_GUARDED_BY(mu_);
  FanoutHelper helper_;
};

}  // namespace ttsd::server::daemon
