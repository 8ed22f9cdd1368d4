// The daemon's job control: the scheduler and reconciler. Commands (submit, stop, resume, cancel) record
// what the user wants (`desired`) and take the first step at once; the scheduler thread starts queued
// jobs on free devices, and handles worker exits (success, stop, crash -> restart from the newest
// checkpoint, or FAILED once max_restarts are used). Every state change goes through EventBus::Transition.
//
// Each running job has a worker group (worker_group.h: one process, or one per rank of a data-parallel
// job) and a thread per process reading its event pipe: rank 0's progress, validation, checkpoints,
// samples and log lines become stored events (fanned out to watchers), metric rows and checkpoint /
// sample rows; every rank's pipe tells how it finished.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/daemon/device_slots.h"
#include "server/daemon/event_bus.h"
#include "server/daemon/worker_group.h"
#include "ttsd/v1/worker.pb.h"

namespace ttsd::server::daemon {

struct ManagerOptions {
  std::string ttsd_binary;                  // the executable that runs `ttsd worker`
  std::vector<std::string> devices{"cpu"};  // from --devices
  int max_concurrent_jobs = 1;
  int worker_threads = 0;                   // --threads for every worker; 0: the job's config decides
  // Workers run this much nicer than the daemon, so on a machine whose cores training keeps busy the
  // daemon's few milliseconds of work per event (store, fan-out to watchers) are not queued behind it.
  int worker_nice = 5;
  absl::Duration cancel_grace = absl::Seconds(30);  // after SIGTERM, before SIGKILL of the group
  absl::Duration shutdown_grace = absl::Seconds(120);
  std::vector<std::string> allowed_roots;   // passed on: the worker checks the config's paths again
};

struct JobProgress {
  int64_t step = 0, total_steps = 0;
};

class JobManager {
 public:
  JobManager(EventBus* bus, ManagerOptions options);
  ~JobManager();

  const std::string& ttsd_binary() const { return options_.ttsd_binary; }

  // Settles jobs a previous daemon left running (re-queued; daemon restarts use no restart budget),
  // then starts the scheduler thread.
  absl::Status Start();
  // Asks every worker to checkpoint and exit, waits (then kills what is left); their jobs stay as they
  // are in the store and are re-queued by the next Start().
  void Shutdown();

  // `config_yaml` is the resolved config the worker will read (written to <job_dir>/config.yaml).
  absl::StatusOr<store::JobRecord> Submit(const store::NewJob& job, const std::string& config_yaml, bool* created);
  absl::StatusOr<store::JobRecord> Stop(int64_t id);
  // Live control: SIGUSR1 / SIGUSR2 to a RUNNING job's worker, which checkpoints / validates after its
  // current step (server/commands/train_commands.cc).
  absl::StatusOr<store::JobRecord> CheckpointNow(int64_t id);
  absl::StatusOr<store::JobRecord> ValidateNow(int64_t id);
  absl::StatusOr<store::JobRecord> Resume(int64_t id);
  absl::StatusOr<store::JobRecord> Cancel(int64_t id);

  int QueuePosition(int64_t id);  // 1-based among queued jobs; 0 if not queued
  std::optional<JobProgress> Progress(int64_t id);
  // A running job's worker pids in rank order (one for a single-device job); empty when none runs.
  std::vector<int64_t> WorkerPids(int64_t id);
  // Whether a job asking for `n` devices could ever run on this daemon; *why explains when not.
  bool CanRun(int64_t n, std::string* why);

 private:
  struct Running {
    int64_t job_id = 0, attempt = 0;
    std::vector<std::string> devices;
    std::unique_ptr<WorkerGroup> workers;
    std::vector<std::thread> readers;   // one per rank; the last to reap its rank reports the exit
    std::optional<absl::Time> kill_at;  // cancel: when the grace period ends
  };

  void SchedulerLoop();
  absl::Status Recover();
  void StartQueued() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Launch(const store::JobRecord& job, std::vector<std::string> devices) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReadWorkerEvents(Running* r, int rank);  // a reader thread
  void HandleWorkerEvent(Running* r, int rank, const ttsd::v1::WorkerEvent& ev);
  std::vector<std::string> WorkerArgs(const store::JobRecord& job, int ranks);
  void OnWorkerStarted(int64_t job_id);
  void HandleExit(std::unique_ptr<Running> r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Settle(int64_t id, store::JobState to, const std::string& reason, const std::string& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int MaxRestarts(const store::JobRecord& job);
  std::string LogTail(const store::JobRecord& job);

  EventBus* bus_;
  store::Store& store_;
  absl::StatusOr<store::JobRecord> SignalRunning(int64_t id, int sig, const char* what);

  const ManagerOptions options_;

  absl::Mutex mu_;
  DeviceSlots slots_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::unique_ptr<Running>> running_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> exited_ ABSL_GUARDED_BY(mu_);  // job ids whose reader saw the worker exit
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread scheduler_;

  absl::Mutex progress_mu_;
  std::map<int64_t, JobProgress> progress_ ABSL_GUARDED_BY(progress_mu_);
};

}  // namespace ttsd::server::daemon
