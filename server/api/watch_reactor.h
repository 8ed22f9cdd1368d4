// WatchJob, one stream per watcher (gRPC callback API). The watcher subscribes to the job's live events
// first, then replays the store after its cursor, then sends the live events, skipping what it already
// sent (by seq): no gap, no duplicate. One write is in flight at a time; live events wait in a bounded
// queue. When the queue overflows (a slow watcher) it is dropped and the watcher catches up from the
// store instead, so a slow watcher never holds up the worker that publishes.
//
// The method is registered raw (ByteBuffer in and out): a live event is serialised once by the bus and
// the same bytes go to every watcher, instead of a copy and a serialisation per watcher.
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <functional>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/daemon/event_bus.h"
#include "ttsd/v1/ttsd.grpc.pb.h"

namespace ttsd::server::api {

class WatchReactor;

// The open watch streams: sends heartbeats to idle followed streams from one ticker thread.
class WatchRegistry {
 public:
  explicit WatchRegistry(absl::Duration heartbeat);
  ~WatchRegistry();
  void Add(WatchReactor* r);
  void Remove(WatchReactor* r);
  // Ends (UNAUTHENTICATED) every stream whose token `accepted` no longer takes: a revoked token stops
  // working on open streams too.
  void RevokeUnless(const std::function<bool(const std::string&)>& accepted);
  absl::Duration heartbeat() const { return heartbeat_; }

 private:
  void TickerLoop();
  const absl::Duration heartbeat_;
  absl::Mutex mu_;
  std::set<WatchReactor*> reactors_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

class WatchReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer>, public daemon::Subscriber {
 public:
  static constexpr size_t kLiveQueueLimit = 512;
  static constexpr int kReplayPage = 256;

  // Subscribes and starts sending. The job must exist.
  WatchReactor(daemon::EventBus* bus, WatchRegistry* registry, const ttsd::v1::WatchJobRequest& request,
               std::string credential);

  void OnLiveEvent(const ttsd::v1::JobEvent& e, const std::shared_ptr<const std::string>& wire) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void Tick(absl::Time now);  // from the registry's ticker
  const std::string& credential() const { return credential_; }
  void Revoke();  // ends the stream UNAUTHENTICATED

 private:
  // An event waiting to be sent: what the stream logic needs to know of it, and its bytes.
  struct Pending {
    int64_t seq = 0;
    int kind = 0;    // ttsd::v1::EventKind
    int state = -1;  // store::JobState for state events, else -1
    std::shared_ptr<const std::string> wire;
  };
  static Pending ToPending(const ttsd::v1::JobEvent& e, std::shared_ptr<const std::string> wire);

  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ReadStorePage() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);  // false when the store had nothing new
  void Write(const std::string& bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendEnd() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishOnce(const grpc::Status& st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  daemon::EventBus* bus_;
  WatchRegistry* registry_;
  const int64_t job_id_;
  const bool follow_;
  std::set<int> kinds_;  // empty: all
  const std::string credential_;  // the token the stream was opened with

  absl::Mutex mu_;
  int64_t cursor_ ABSL_GUARDED_BY(mu_);  // the newest seq sent (or filtered out)
  int last_state_ ABSL_GUARDED_BY(mu_);  // store::JobState as int, the newest seen
  std::deque<Pending> backlog_ ABSL_GUARDED_BY(mu_);  // read from the store, not yet sent
  std::deque<Pending> live_ ABSL_GUARDED_BY(mu_);
  bool from_store_ ABSL_GUARDED_BY(mu_) = true;  // replaying / catching up
  bool lagged_ ABSL_GUARDED_BY(mu_) = false;     // live_ overflowed since the last store read
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;     // EndOfStream written or being written
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool revoked_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ByteBuffer in_flight_ ABSL_GUARDED_BY(mu_);  // must outlive its write
  absl::Time last_write_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ttsd::server::api
