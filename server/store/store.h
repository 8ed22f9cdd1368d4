// The daemon's durable state in one SQLite file (WAL): jobs, their events (a gap-free sequence per
// job), metrics, checkpoints and audio samples. Schema and migrations: schema.cc.
//
// Thread-safe: one connection, every call serialised by a mutex (SQLite allows one writer anyway).
// Metric rows are queued and written in batches by the store's own writer thread, so a training
// step never waits on the disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/store/job_state.h"
#include "server/store/sqlite.h"

namespace ttsd::server::store {

struct JobRecord {
  int64_t id = 0;
  std::string name;
  std::string request_id;  // client-chosen idempotency key ("" = none)
  int64_t priority = 0;    // higher runs first; FIFO within a priority
  JobState state = JobState::kQueued;
  Desired desired = Desired::kRun;
  std::string reason;   // why a terminal or failed state was reached (USER_CANCEL, MAX_RESTARTS, ...)
  std::string message;  // human-readable detail (e.g. the tail of the worker's log)
  std::string config_yaml;
  std::string job_dir;
  int64_t devices = 1;   // device slots the job asks for
  int64_t attempt = 0;   // worker launches so far
  int64_t restarts = 0;  // crash restarts used (daemon restarts do not count)
  int64_t last_seq = 0;  // seq of the newest event
  int64_t created_ms = 0, updated_ms = 0;  // updated_ms: the last state change (orders the queue)
  std::string parent_json;  // a fine-tune's base checkpoint: {"job_id", "step", "sha256", "path"}; "" if none
};

// A queued job as the scheduler sees it (the full record is read only for a job that starts).
struct QueuedJob {
  int64_t id = 0;
  int64_t devices = 1;
};

struct NewJob {
  std::string name;
  std::string request_id;
  int64_t priority = 0;
  std::string config_yaml;
  int64_t devices = 1;
  std::string parent_json;
};

struct EventRecord {
  int64_t job_id = 0, seq = 0, time_ms = 0, attempt = 0;
  std::string kind;     // "state", "progress", "validation", "checkpoint", "sample", "log", ...
  std::string payload;  // the serialised API event (the store does not interpret it)
};

struct MetricRow {
  int64_t job_id = 0, attempt = 0, step = 0;
  std::string key;
  double value = 0;
};

struct CheckpointRecord {
  int64_t job_id = 0, step = 0, epoch = 0, bytes = 0;
  std::string path, sha256;
  std::string metrics_json;  // {"val/loss": ...} at that step
  bool is_best = false;
  int64_t created_ms = 0;
};

struct SampleRecord {
  int64_t job_id = 0, step = 0, sample_rate = 0;
  std::string tag, path;
  double duration_s = 0;
  int64_t created_ms = 0;
};

struct StoreOptions {
  std::string db_path;   // the SQLite file (created)
  std::string jobs_dir;  // job folders are <jobs_dir>/<id>
  int metric_batch_rows = 4096;
  int metric_flush_ms = 20;
};

class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();  // writes the queued metrics, stops the writer

  // Inserts a QUEUED job (with its first event, a "state" event carrying `event_payload`). A non-empty
  // request_id seen before returns that job instead, with *created = false.
  absl::StatusOr<JobRecord> CreateJob(const NewJob& job, const std::string& event_payload, bool* created);
  absl::StatusOr<JobRecord> GetJob(int64_t id);
  // Newest first. `states` empty = all; page_after_id > 0 continues after that id.
  absl::StatusOr<std::vector<JobRecord>> ListJobs(const std::vector<JobState>& states, int64_t page_after_id,
                                                  int limit);
  // Queued jobs in run order (priority, then FIFO).
  absl::StatusOr<std::vector<QueuedJob>> QueuedJobs();

  // The only way a job's state changes: checks TransitionAllowed (FAILED_PRECONDITION naming the current
  // state otherwise), updates the row and appends a "state" event, in one transaction. Entering
  // STARTING counts an attempt; entering RESTARTING uses one restart; FAILED -> QUEUED (a retry) resets
  // the restart budget. The event's time is the job's new updated_ms, its seq the new last_seq.
  absl::StatusOr<JobRecord> Transition(int64_t id, JobState to, const std::string& reason,
                                       const std::string& message, const std::string& event_payload);
  absl::StatusOr<JobRecord> SetDesired(int64_t id, Desired desired);

  // Appends an event with the next seq of that job; returns it as stored (seq, time, attempt; no payload).
  absl::StatusOr<EventRecord> AppendEvent(int64_t job_id, const std::string& kind, const std::string& payload);
  // Events with seq > after_seq, oldest first, at most `limit`.
  absl::StatusOr<std::vector<EventRecord>> ReadEvents(int64_t job_id, int64_t after_seq, int limit);
  // The job's newest event of `kind`; NOT_FOUND when it has none.
  absl::StatusOr<EventRecord> LatestEvent(int64_t job_id, const std::string& kind);

  void AddMetrics(std::vector<MetricRow> rows);  // queued for the writer thread
  absl::Status FlushMetrics();                    // returns when everything queued so far is written
  // Rows for `keys` (all keys when empty) with from_step <= step <= to_step (to_step < 0: no bound).
  absl::StatusOr<std::vector<MetricRow>> QueryMetrics(int64_t job_id, const std::vector<std::string>& keys,
                                                      int64_t from_step, int64_t to_step);
  // The newest step with a metric row (0: none); queued rows are written first.
  absl::StatusOr<int64_t> MaxMetricStep(int64_t job_id);
  // A resume from a checkpoint at `step`: rows beyond it (from the abandoned attempt) move to
  // metrics_archive, so the curve never doubles back. Returns how many moved.
  absl::StatusOr<int64_t> ArchiveMetricsAfter(int64_t job_id, int64_t step);

  absl::Status AddCheckpoint(const CheckpointRecord& c);
  absl::StatusOr<std::vector<CheckpointRecord>> ListCheckpoints(int64_t job_id);
  absl::Status AddSample(const SampleRecord& s);
  absl::StatusOr<std::vector<SampleRecord>> ListSamples(int64_t job_id);

 private:
  Store(StoreOptions options, std::unique_ptr<Database> db);
  void WriterLoop();
  absl::Status WriteMetrics(const std::vector<MetricRow>& rows) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::StatusOr<JobRecord> GetJobLocked(int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::StatusOr<EventRecord> AppendEventLocked(const JobRecord& job, const std::string& kind,
                                                const std::string& payload, int64_t now_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  const StoreOptions options_;
  absl::Mutex db_mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(db_mu_);

  absl::Mutex queue_mu_;
  std::vector<MetricRow> queue_ ABSL_GUARDED_BY(queue_mu_);
  int64_t queued_batches_ ABSL_GUARDED_BY(queue_mu_) = 0;   // AddMetrics calls so far
  int64_t written_batches_ ABSL_GUARDED_BY(queue_mu_) = 0;  // of those, written
  absl::Status writer_status_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_;
};

}  // namespace ttsd::server::store
