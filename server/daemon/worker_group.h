// One attempt of a job: its worker processes, one per device. A job on one device has one worker; a
// data-parallel job (devices: N) has N ranks that find each other through the torchrun variables
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) on a loopback port the daemon picked.
// Rank 0 reports the job's events; every rank reports how it finished.
//
// The group lives and dies as one: a rank that exits uncleanly (a crash, a failed collective) gets the
// others killed at once, rather than left waiting out the collective timeout; the attempt is over
// when every rank has been reaped.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/daemon/worker_process.h"
#include "ttsd/v1/worker.pb.h"

namespace ttsd::server::daemon {

// The launcher variables a worker must not inherit from the daemon's own environment (a daemon started
// inside a Slurm allocation or under torchrun would otherwise make each one-device worker a "rank").
const std::vector<std::string>& LauncherVariables();

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick), for rank 0's rendezvous store.
// Another process could take it before rank 0 binds it; rank 0 then fails to start, which the daemon
// handles as a crash: the next attempt picks another port.
absl::StatusOr<int> PickLoopbackPort();

// How a finished attempt went, from all its ranks.
struct GroupExit {
  std::optional<ttsd::v1::WorkerFinished> finished;  // rank 0's report, else the first rank's that explains a failure
  bool clean = false;                                // every rank exited with code 0
  std::string how;  // the first unclean exit: "killed by signal 9 (Killed)"; "rank 1: exit code 1" in a group
};

class WorkerGroup {
 public:
  // Rank r runs `argv` + "--device devices[r]". `log_path` collects every rank's output.
  static absl::StatusOr<std::unique_ptr<WorkerGroup>> Spawn(const std::vector<std::string>& argv,
                                                            const std::vector<std::string>& devices,
                                                            const std::string& log_path, int nice);
  ~WorkerGroup();

  int size() const { return static_cast<int>(ranks_.size()); }
  int events_fd(int rank) const { return ranks_[rank].process->events_fd(); }
  std::vector<pid_t> pids() const;  // rank order; rank 0's pid is also its process group id

  void Signal(int sig);      // every rank not yet reaped (stop: each checkpoints or agrees to stop)
  void SignalLead(int sig);  // rank 0 only (checkpoint/validate now: it tells the others)
  void KillAll();            // SIGKILL to the process group of every rank not yet reaped

  void SetFinished(int rank, const ttsd::v1::WorkerFinished& finished);
  // For rank `rank`'s reader once its pipe closed: kills what the rank left in its group, reaps it, and
  // kills the other ranks if it exited uncleanly. Returns true for the last rank to be reaped.
  bool Reap(int rank);
  GroupExit Exit();  // after every rank was reaped

 private:
  struct Rank {
    std::unique_ptr<WorkerProcess> process;
    std::optional<ttsd::v1::WorkerFinished> finished;
    int wait_status = 0;
    bool reaping = false;  // from here on its pid may be reaped and reused: never signal it again
  };
  WorkerGroup() = default;

  absl::Mutex mu_;
  std::vector<Rank> ranks_;  // the vector is fixed after Spawn; the fields below `process` need mu_
  int reaped_ ABSL_GUARDED_BY(mu_) = 0;
  int first_failed_ ABSL_GUARDED_BY(mu_) = -1;  // the first rank reaped after an unclean exit
};

}  // namespace ttsd::server::daemon
