#include "server/store/store.h"

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status.h"
#include "server/store/schema.h"

namespace ttsd::server::store {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* kJobColumns =
    "id, name, IFNULL(request_id, ''), priority, state, desired, reason, message, config_yaml, job_dir, devices, "
    "attempt, restarts, last_seq, created_ms, updated_ms, parent_json";

JobRecord ReadJob(const Statement& s) {
  JobRecord j;
  j.id = s.Int(0);
  j.name = s.Text(1);
  j.request_id = s.Text(2);
  j.priority = s.Int(3);
  ParseJobState(s.Text(4), &j.state);
  ParseDesired(s.Text(5), &j.desired);
  j.reason = s.Text(6);
  j.message = s.Text(7);
  j.config_yaml = s.Text(8);
  j.job_dir = s.Text(9);
  j.devices = s.Int(10);
  j.attempt = s.Int(11);
  j.restarts = s.Int(12);
  j.last_seq = s.Int(13);
  j.created_ms = s.Int(14);
  j.updated_ms = s.Int(15);
  j.parent_json = s.Text(16);
  return j;
}

// Every row of `s`, each turned into a value by `read(s)`.
template <class F>
auto ReadAll(Statement& s, F read) -> absl::StatusOr<std::vector<decltype(read(s))>> {
  std::vector<decltype(read(s))> out;
  for (;;) {
    TTSD_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(read(s));
  }
}

// "?, ?, ?" for an IN (...) list.
std::string Placeholders(size_t n) {
  std::vector<std::string> q(n, "?");
  return absl::StrJoin(q, ", ");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options.db_path).parent_path(), ec);
  TTSD_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(options.db_path));
  TTSD_RETURN_IF_ERROR(Migrate(*db));
  return std::unique_ptr<Store>(new Store(options, std::move(db)));
}

Store::Store(StoreOptions options, std::unique_ptr<Database> db) : options_(std::move(options)), db_(std::move(db)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

Store::~Store() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  writer_.join();
}

absl::StatusOr<JobRecord> Store::GetJobLocked(int64_t id) {
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare(absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?")));
  s.Bind(1, id);
  TTSD_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no job ", id));
  return ReadJob(s);
}

absl::StatusOr<JobRecord> Store::GetJob(int64_t id) {
  absl::MutexLock lock(&db_mu_);
  return GetJobLocked(id);
}

absl::StatusOr<EventRecord> Store::AppendEventLocked(const JobRecord& job, const std::string& kind,
                                                     const std::string& payload, int64_t now_ms) {
  // The seq comes from the job row inside the caller's transaction: gap-free and unique per job.
  EventRecord e;
  e.job_id = job.id;
  e.seq = job.last_seq + 1;
  e.time_ms = now_ms;
  e.attempt = job.attempt;
  e.kind = kind;
  TTSD_ASSIGN_OR_RETURN(Statement ins, db_->Prepare("INSERT INTO events (job_id, seq, time_ms, attempt, kind, payload) "
                                                    "VALUES (?, ?, ?, ?, ?, ?)"));
  ins.Bind(1, job.id).Bind(2, e.seq).Bind(3, now_ms).Bind(4, job.attempt).Bind(5, kind).BindBlob(6, payload);
  TTSD_RETURN_IF_ERROR(ins.Run());
  TTSD_ASSIGN_OR_RETURN(Statement up, db_->Prepare("UPDATE jobs SET last_seq = ? WHERE id = ?"));
  up.Bind(1, e.seq).Bind(2, job.id);
  TTSD_RETURN_IF_ERROR(up.Run());
  return e;
}

absl::StatusOr<JobRecord> Store::CreateJob(const NewJob& job, const std::string& event_payload, bool* created) {
  absl::MutexLock lock(&db_mu_);
  *created = false;
  JobRecord out;
  auto st = db_->InTransaction([&]() -> absl::Status {
    if (!job.request_id.empty()) {
      TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare(absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE request_id = ?")));
      s.Bind(1, job.request_id);
      TTSD_ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) {
        out = ReadJob(s);
        return absl::OkStatus();
      }
    }
    const int64_t now = NowMs();
    TTSD_ASSIGN_OR_RETURN(Statement ins, db_->Prepare(
        "INSERT INTO jobs (name, request_id, priority, state, desired, config_yaml, job_dir, devices, created_ms, "
        "updated_ms, parent_json) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)"));
    ins.Bind(1, job.name);
    if (job.request_id.empty()) {
      ins.BindNull(2);
    } else {
      ins.Bind(2, job.request_id);
    }
    ins.Bind(3, job.priority).Bind(4, std::string(JobStateName(JobState::kQueued)))
        .Bind(5, std::string(DesiredName(Desired::kRun))).Bind(6, job.config_yaml).Bind(7, job.devices)
        .Bind(8, now).Bind(9, now).Bind(10, job.parent_json);
    TTSD_RETURN_IF_ERROR(ins.Run());
    const int64_t id = db_->LastInsertId();
    const std::string dir = (std::filesystem::path(options_.jobs_dir) / std::to_string(id)).string();
    TTSD_ASSIGN_OR_RETURN(Statement up, db_->Prepare("UPDATE jobs SET job_dir = ? WHERE id = ?"));
    up.Bind(1, dir).Bind(2, id);
    TTSD_RETURN_IF_ERROR(up.Run());
    TTSD_ASSIGN_OR_RETURN(out, GetJobLocked(id));
    TTSD_ASSIGN_OR_RETURN(EventRecord first, AppendEventLocked(out, "state", event_payload, now));
    out.last_seq = first.seq;
    *created = true;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<JobRecord>> Store::ListJobs(const std::vector<JobState>& states, int64_t page_after_id,
                                                       int limit) {
  absl::MutexLock lock(&db_mu_);
  std::string sql = absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE (? <= 0 OR id < ?)");
  if (!states.empty()) absl::StrAppend(&sql, " AND state IN (", Placeholders(states.size()), ")");
  absl::StrAppend(&sql, " ORDER BY id DESC LIMIT ?");
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
  s.Bind(1, page_after_id).Bind(2, page_after_id);
  int i = 3;
  for (JobState st : states) s.Bind(i++, std::string(JobStateName(st)));
  s.Bind(i, static_cast<int64_t>(limit));
  return ReadAll(s, ReadJob);
}

absl::StatusOr<std::vector<QueuedJob>> Store::QueuedJobs() {
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT id, devices FROM jobs WHERE state = 'QUEUED' "
                                                  "ORDER BY priority DESC, updated_ms, id"));
  return ReadAll(s, [](const Statement& r) { return QueuedJob{r.Int(0), r.Int(1)}; });
}

absl::StatusOr<JobRecord> Store::Transition(int64_t id, JobState to, const std::string& reason,
                                            const std::string& message, const std::string& event_payload) {
  absl::MutexLock lock(&db_mu_);
  JobRecord out;
  auto st = db_->InTransaction([&]() -> absl::Status {
    TTSD_ASSIGN_OR_RETURN(JobRecord job, GetJobLocked(id));
    if (!TransitionAllowed(job.state, to)) {
      return absl::FailedPreconditionError(absl::StrCat("job ", id, " is ", JobStateName(job.state),
                                                        "; it cannot become ", JobStateName(to)));
    }
    if (to == JobState::kStarting) job.attempt++;
    if (to == JobState::kRestarting) job.restarts++;
    if (job.state == JobState::kFailed && to == JobState::kQueued) job.restarts = 0;  // a user's retry: a new budget
    const int64_t now = NowMs();
    TTSD_ASSIGN_OR_RETURN(Statement up, db_->Prepare("UPDATE jobs SET state = ?, reason = ?, message = ?, attempt = ?, "
                                                     "restarts = ?, updated_ms = ? WHERE id = ?"));
    up.Bind(1, std::string(JobStateName(to))).Bind(2, reason).Bind(3, message).Bind(4, job.attempt)
        .Bind(5, job.restarts).Bind(6, now).Bind(7, id);
    TTSD_RETURN_IF_ERROR(up.Run());
    TTSD_RETURN_IF_ERROR(AppendEventLocked(job, "state", event_payload, now).status());
    TTSD_ASSIGN_OR_RETURN(out, GetJobLocked(id));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<JobRecord> Store::SetDesired(int64_t id, Desired desired) {
  absl::MutexLock lock(&db_mu_);
  // updated_ms is left alone: it marks the last state change, which orders the queue (a stop request on a
  // queued job must not send it to the back).
  TTSD_ASSIGN_OR_RETURN(Statement up, db_->Prepare("UPDATE jobs SET desired = ? WHERE id = ?"));
  up.Bind(1, std::string(DesiredName(desired))).Bind(2, id);
  TTSD_RETURN_IF_ERROR(up.Run());
  if (db_->Changes() == 0) return absl::NotFoundError(absl::StrCat("no job ", id));
  return GetJobLocked(id);
}

absl::StatusOr<EventRecord> Store::AppendEvent(int64_t job_id, const std::string& kind, const std::string& payload) {
  absl::MutexLock lock(&db_mu_);
  EventRecord e;
  auto st = db_->InTransaction([&]() -> absl::Status {
    TTSD_ASSIGN_OR_RETURN(JobRecord job, GetJobLocked(job_id));
    TTSD_ASSIGN_OR_RETURN(e, AppendEventLocked(job, kind, payload, NowMs()));
    return absl::OkStatus();
  }, Database::Durability::kBuffered);
  if (!st.ok()) return st;
  return e;
}

absl::StatusOr<std::vector<EventRecord>> Store::ReadEvents(int64_t job_id, int64_t after_seq, int limit) {
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT seq, time_ms, attempt, kind, payload FROM events "
                                                  "WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
  s.Bind(1, job_id).Bind(2, after_seq).Bind(3, static_cast<int64_t>(limit));
  return ReadAll(s, [&](const Statement& r) {
    return EventRecord{job_id, r.Int(0), r.Int(1), r.Int(2), r.Text(3), r.Blob(4)};
  });
}

absl::StatusOr<EventRecord> Store::LatestEvent(int64_t job_id, const std::string& kind) {
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT seq, time_ms, attempt, kind, payload FROM events "
                                                  "WHERE job_id = ? AND kind = ? ORDER BY seq DESC LIMIT 1"));
  s.Bind(1, job_id).Bind(2, kind);
  TTSD_ASSIGN_OR_RETURN(auto rows, ReadAll(s, [&](const Statement& r) {
                          return EventRecord{job_id, r.Int(0), r.Int(1), r.Int(2), r.Text(3), r.Blob(4)};
                        }));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " has no ", kind, " event"));
  return rows.front();
}

void Store::AddMetrics(std::vector<MetricRow> rows) {
  absl::MutexLock lock(&queue_mu_);
  queue_.insert(queue_.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  queued_batches_++;
}

absl::Status Store::FlushMetrics() {
  absl::MutexLock lock(&queue_mu_);
  const int64_t target = queued_batches_;
  auto written = [this, target]() {
    queue_mu_.AssertReaderHeld();
    return written_batches_ >= target;
  };
  queue_mu_.Await(absl::Condition(&written));
  return writer_status_;
}

void Store::WriterLoop() {
  for (;;) {
    std::vector<MetricRow> batch;
    int64_t batches = 0;
    bool stop = false;
    {
      absl::MutexLock lock(&queue_mu_);
      auto ready = [this]() {
        queue_mu_.AssertReaderHeld();
        return stopping_ || static_cast<int>(queue_.size()) >= options_.metric_batch_rows;
      };
      queue_mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(options_.metric_flush_ms));
      batch.swap(queue_);
      batches = queued_batches_ - written_batches_;
      stop = stopping_;
    }
    absl::Status st = absl::OkStatus();
    if (!batch.empty()) {
      absl::MutexLock lock(&db_mu_);
      st = WriteMetrics(batch);
    }
    {
      absl::MutexLock lock(&queue_mu_);
      written_batches_ += batches;
      if (!st.ok()) writer_status_ = st;  // reported by the next FlushMetrics
      if (stop && queue_.empty()) return;
    }
  }
}

absl::Status Store::WriteMetrics(const std::vector<MetricRow>& rows) {
  return db_->InTransaction([&]() -> absl::Status {
    TTSD_ASSIGN_OR_RETURN(Statement ins, db_->Prepare("INSERT OR REPLACE INTO metrics (job_id, key, step, attempt, value) "
                                                      "VALUES (?, ?, ?, ?, ?)"));
    for (const auto& r : rows) {
      ins.Bind(1, r.job_id).Bind(2, r.key).Bind(3, r.step).Bind(4, r.attempt).Bind(5, r.value);
      TTSD_RETURN_IF_ERROR(ins.Run());
      ins.Reset();
    }
    return absl::OkStatus();
  }, Database::Durability::kBuffered);
}

absl::StatusOr<std::vector<MetricRow>> Store::QueryMetrics(int64_t job_id, const std::vector<std::string>& keys,
                                                           int64_t from_step, int64_t to_step) {
  absl::MutexLock lock(&db_mu_);
  std::string sql = "SELECT key, step, attempt, value FROM metrics WHERE job_id = ? AND step >= ? AND (? < 0 OR step <= ?)";
  if (!keys.empty()) absl::StrAppend(&sql, " AND key IN (", Placeholders(keys.size()), ")");
  absl::StrAppend(&sql, " ORDER BY key, step");
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
  s.Bind(1, job_id).Bind(2, from_step).Bind(3, to_step).Bind(4, to_step);
  int i = 5;
  for (const auto& k : keys) s.Bind(i++, k);
  return ReadAll(s, [&](const Statement& r) { return MetricRow{job_id, r.Int(2), r.Int(1), r.Text(0), r.Double(3)}; });
}

absl::StatusOr<int64_t> Store::MaxMetricStep(int64_t job_id) {
  TTSD_RETURN_IF_ERROR(FlushMetrics());
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT COALESCE(MAX(step), 0) FROM metrics WHERE job_id = ?"));
  s.Bind(1, job_id);
  TTSD_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

absl::StatusOr<int64_t> Store::ArchiveMetricsAfter(int64_t job_id, int64_t step) {
  TTSD_RETURN_IF_ERROR(FlushMetrics());  // rows still queued belong to the abandoned attempt too
  absl::MutexLock lock(&db_mu_);
  int64_t moved = 0;
  auto st = db_->InTransaction([&]() -> absl::Status {
    TTSD_ASSIGN_OR_RETURN(Statement copy, db_->Prepare(
        "INSERT INTO metrics_archive (job_id, key, step, attempt, value, archived_ms) "
        "SELECT job_id, key, step, attempt, value, ? FROM metrics WHERE job_id = ? AND step > ?"));
    copy.Bind(1, NowMs()).Bind(2, job_id).Bind(3, step);
    TTSD_RETURN_IF_ERROR(copy.Run());
    TTSD_ASSIGN_OR_RETURN(Statement del, db_->Prepare("DELETE FROM metrics WHERE job_id = ? AND step > ?"));
    del.Bind(1, job_id).Bind(2, step);
    TTSD_RETURN_IF_ERROR(del.Run());
    moved = db_->Changes();
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return moved;
}

absl::Status Store::AddCheckpoint(const CheckpointRecord& c) {
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare(
      "INSERT OR REPLACE INTO checkpoints (job_id, step, epoch, path, sha256, bytes, metrics_json, is_best, created_ms) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.Bind(1, c.job_id).Bind(2, c.step).Bind(3, c.epoch).Bind(4, c.path).Bind(5, c.sha256).Bind(6, c.bytes)
      .Bind(7, c.metrics_json.empty() ? std::string("{}") : c.metrics_json).Bind(8, static_cast<int64_t>(c.is_best))
      .Bind(9, c.created_ms > 0 ? c.created_ms : NowMs());
  return s.Run();
}

absl::StatusOr<std::vector<CheckpointRecord>> Store::ListCheckpoints(int64_t job_id) {
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT step, epoch, path, sha256, bytes, metrics_json, is_best, "
                                                  "created_ms FROM checkpoints WHERE job_id = ? ORDER BY step"));
  s.Bind(1, job_id);
  return ReadAll(s, [&](const Statement& r) {
    return CheckpointRecord{job_id, r.Int(0), r.Int(1), r.Int(4), r.Text(2), r.Text(3), r.Text(5), r.Int(6) != 0, r.Int(7)};
  });
}

absl::Status Store::AddSample(const SampleRecord& r) {
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare(
      "INSERT OR REPLACE INTO samples (job_id, step, tag, path, sample_rate, duration_s, created_ms) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  s.Bind(1, r.job_id).Bind(2, r.step).Bind(3, r.tag).Bind(4, r.path).Bind(5, r.sample_rate).Bind(6, r.duration_s)
      .Bind(7, r.created_ms > 0 ? r.created_ms : NowMs());
  return s.Run();
}

absl::StatusOr<std::vector<SampleRecord>> Store::ListSamples(int64_t job_id) {
  absl::MutexLock lock(&db_mu_);
  TTSD_ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT step, tag, path, sample_rate, duration_s, created_ms "
                                                  "FROM samples WHERE job_id = ? ORDER BY step, tag"));
  s.Bind(1, job_id);
  return ReadAll(s, [&](const Statement& r) {
    return SampleRecord{job_id, r.Int(0), r.Int(3), r.Text(1), r.Text(2), r.Double(4), r.Int(5)};
  });
}

}  // namespace ttsd::server::store
