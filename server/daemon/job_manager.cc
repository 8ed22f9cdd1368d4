#include "server/daemon/job_manager.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/common/file_util.h"
#include "core/common/status.h"
#include "core/config/config_yaml.h"
#include "server/daemon/job_events.h"
#include "server/daemon/metrics_backfill.h"
#include "server/worker/event_pipe.h"
#include "spdlog/spdlog.h"

namespace ttsd::server::daemon {
namespace {

using store::Desired;
using store::JobRecord;
using store::JobState;
using Outcome = ttsd::v1::WorkerFinished::Outcome;

constexpr absl::Duration kSchedulerTick = absl::Milliseconds(200);
constexpr size_t kLogTailBytes = 2000;

std::string ReadTail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = size > static_cast<std::streamoff>(bytes) ? size - static_cast<std::streamoff>(bytes) : 0;
  in.seekg(from);
  std::string s(static_cast<size_t>(size - from), '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  if (from > 0) {
    if (size_t nl = s.find('\n'); nl != std::string::npos) s.erase(0, nl + 1);  // whole lines only
  }
  return s;
}

std::vector<store::MetricRow> MetricRows(int64_t job, int64_t attempt, int64_t step,
                                         const google::protobuf::Map<std::string, double>& values) {
  std::vector<store::MetricRow> rows;
  for (const auto& [key, value] : values) rows.push_back({job, attempt, step, key, value});
  return rows;
}

}  // namespace

JobManager::JobManager(EventBus* bus, ManagerOptions options)
    : bus_(bus), store_(bus->store()), options_(std::move(options)),
      slots_(options_.devices, options_.max_concurrent_jobs) {}

JobManager::~JobManager() { Shutdown(); }

absl::Status JobManager::Start() {
  if (auto st = Recover(); !st.ok()) return st;
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  return absl::OkStatus();
}

// A previous daemon stopped (cleanly or not) with these jobs in flight. Their workers are gone or going
// (PDEATHSIG makes them checkpoint and exit); each job goes where its `desired` says.
absl::Status JobManager::Recover() {
  absl::MutexLock lock(&mu_);
  std::vector<JobState> in_flight = {JobState::kQueued,   JobState::kStarting,   JobState::kRunning,
                                     JobState::kStopping, JobState::kRestarting, JobState::kCancelling};
  auto jobs = store_.ListJobs(in_flight, 0, 1 << 30);
  if (!jobs.ok()) return jobs.status();
  for (const JobRecord& job : *jobs) {
    const char* why = "daemon restarted";
    if (job.desired == Desired::kCancel) {
      if (job.state != JobState::kCancelling) Settle(job.id, JobState::kCancelling, "USER_CANCEL", why);
      Settle(job.id, JobState::kCancelled, "USER_CANCEL", why);
    } else if (job.state == JobState::kStopping) {
      Settle(job.id, JobState::kStopped, "USER_STOP", why);
    } else if (job.state != JobState::kQueued) {
      Settle(job.id, JobState::kQueued, "DAEMON_RESTART", "the daemon restarted; the job continues from its newest checkpoint");
    }
    if (job.desired == Desired::kStop && job.state != JobState::kStopping) {
      Settle(job.id, JobState::kStopped, "USER_STOP", why);
    }
  }
  return absl::OkStatus();
}

void JobManager::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !scheduler_.joinable()) return;
    stopping_ = true;
    for (auto& [id, r] : running_) r->workers->Signal(SIGTERM);  // checkpoint and exit
  }
  if (scheduler_.joinable()) scheduler_.join();
}

void JobManager::SchedulerLoop() {
  absl::Time shutdown_deadline = absl::InfiniteFuture();
  absl::MutexLock lock(&mu_);
  while (true) {
    for (int64_t id : exited_) {
      auto it = running_.find(id);
      if (it == running_.end()) continue;
      auto r = std::move(it->second);
      running_.erase(it);
      HandleExit(std::move(r));
    }
    exited_.clear();
    absl::Time now = absl::Now();
    for (auto& [id, r] : running_) {
      if (r->kill_at && now >= *r->kill_at) {
        spdlog::warn("job {}: worker did not stop within the grace period; killing its process group", id);
        r->workers->KillAll();
        r->kill_at.reset();
      }
    }
    if (stopping_) {
      if (running_.empty()) return;
      if (shutdown_deadline == absl::InfiniteFuture()) shutdown_deadline = now + options_.shutdown_grace;
      if (now >= shutdown_deadline) {
        for (auto& [id, r] : running_) r->workers->KillAll();
      }
    } else {
      StartQueued();
    }
    wake_ = false;
    mu_.AwaitWithTimeout(absl::Condition(&wake_), kSchedulerTick);
  }
}

void JobManager::StartQueued() {
  if (slots_.Full()) return;  // the common case under load: a sweep of queued jobs behind a running one
  auto queued = store_.QueuedJobs();
  if (!queued.ok()) {
    spdlog::error("scheduler: {}", queued.status().ToString());
    return;
  }
  for (const store::QueuedJob& q : *queued) {
    // Strict order (priority, then FIFO): a job waiting for more devices is not overtaken, so it
    // cannot starve.
    auto devices = slots_.Acquire(static_cast<int>(q.devices));
    if (!devices) return;
    auto job = store_.GetJob(q.id);
    if (!job.ok()) {
      slots_.Release(*devices);
      spdlog::error("scheduler: {}", job.status().ToString());
      return;
    }
    Launch(*job, std::move(*devices));
  }
}

void JobManager::Launch(const JobRecord& job, std::vector<std::string> devices) {
  const int ranks = static_cast<int>(devices.size());
  std::string where = ranks == 1 ? devices[0]
                      : devices[0] == "cpu" ? absl::StrCat(ranks, " ranks on the cpu")
                                            : absl::StrCat(ranks, " ranks on ", absl::StrJoin(devices, ", "));
  auto starting = bus_->Transition(job.id, JobState::kStarting, "", absl::StrCat("on ", where));
  if (!starting.ok()) {
    slots_.Release(devices);
    spdlog::error("job {}: {}", job.id, starting.status().ToString());
    return;
  }
  auto workers = WorkerGroup::Spawn(WorkerArgs(job, ranks), devices, job.job_dir + "/worker.log", options_.worker_nice);
  if (!workers.ok()) {
    slots_.Release(devices);
    Settle(job.id, JobState::kFailed, "SPAWN_FAILED", std::string(workers.status().message()));
    return;
  }
  auto r = std::make_unique<Running>();
  r->job_id = job.id;
  r->attempt = starting->attempt;
  r->devices = std::move(devices);
  r->workers = std::move(*workers);
  Running* raw = r.get();
  running_[job.id] = std::move(r);
  for (int rank = 0; rank < ranks; ++rank) {
    raw->readers.emplace_back([this, raw, rank] { ReadWorkerEvents(raw, rank); });
  }
  spdlog::info("job {}: attempt {} started on {}, worker pid {}", job.id, raw->attempt, where,
               absl::StrJoin(raw->workers->pids(), ", "));
}

// Every rank's arguments but --device.
std::vector<std::string> JobManager::WorkerArgs(const JobRecord& job, int ranks) {
  std::vector<std::string> argv = {options_.ttsd_binary, "worker",
                                   "--config", job.job_dir + "/config.yaml",
                                   "--output-dir", job.job_dir,
                                   "--resume", "auto",
                                   "--events-fd", std::to_string(kWorkerEventsFd)};
  for (const auto& root : options_.allowed_roots) {
    argv.push_back("--allowed-root");
    argv.push_back(root);
  }
  int threads = options_.worker_threads;
  if (threads == 0 && ranks > 1) {
    // Ranks sharing the CPU: "every core" each would oversubscribe it N times over. The config's own
    // thread count still wins.
    auto parsed = core::ParseConfigYaml(job.config_yaml, job.job_dir + "/config.yaml");
    if (parsed.ok() && parsed->config.threads == 0) {
      threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks);
    }
  }
  if (threads > 0) {
    argv.push_back("--threads");
    argv.push_back(std::to_string(threads));
  }
  return argv;
}

void JobManager::ReadWorkerEvents(Running* r, int rank) {
  worker::DelimitedReader reader(r->workers->events_fd(rank));
  while (true) {
    auto next = reader.Next();
    if (!next.ok()) {
      spdlog::warn("job {}: worker event stream: {}", r->job_id, next.status().ToString());
      break;
    }
    if (!next->has_value()) break;
    ttsd::v1::WorkerEvent ev;
    if (!ev.ParseFromString(**next)) {
      spdlog::warn("job {}: unreadable worker event ignored", r->job_id);
      continue;
    }
    HandleWorkerEvent(r, rank, ev);
  }
  // The pipe closed: the rank exited (or is exiting).
  if (!r->workers->Reap(rank)) return;
  absl::MutexLock lock(&mu_);
  exited_.push_back(r->job_id);
  wake_ = true;
}

void JobManager::HandleWorkerEvent(Running* r, int rank, const ttsd::v1::WorkerEvent& ev) {
  const int64_t job = r->job_id;
  if (ev.has_finished()) {
    r->workers->SetFinished(rank, ev.finished());
    return;
  }
  if (rank != 0) return;  // rank 0 reports the job; the other ranks only how they finished
  ttsd::v1::JobEvent out;
  switch (ev.event_case()) {
    case ttsd::v1::WorkerEvent::kStarted:
      OnWorkerStarted(job);
      return;
    case ttsd::v1::WorkerEvent::kResumed: {
      // Rows an abandoned attempt logged beyond the checkpoint we continue from would make the curve
      // double back: archive them. Rows logged while the daemon was down exist only in the job
      // folder's metrics.jsonl: add them.
      const int64_t step = ev.resumed().step();
      auto moved = store_.ArchiveMetricsAfter(job, step);
      auto job_dir = store_.GetJob(job);
      auto added = job_dir.ok() ? BackfillMetrics(store_, job, r->attempt, job_dir->job_dir, step)
                                : absl::StatusOr<int64_t>(job_dir.status());
      if (!moved.ok() || !added.ok()) {
        spdlog::warn("job {}: metrics on resume: {} {}", job, moved.status().ToString(), added.status().ToString());
      }
      std::string text;
      if (moved.ok() && *moved > 0) {
        text = absl::StrCat("archived ", *moved, " metric rows beyond step ", step, " from the previous attempt");
      }
      if (added.ok() && *added > 0) {
        absl::StrAppend(&text, text.empty() ? "" : "; ", "recovered ", *added,
                        " metric rows from metrics.jsonl (logged while the daemon was down)");
      }
      if (text.empty()) return;
      out.mutable_log()->set_text(text);
      break;
    }
    case ttsd::v1::WorkerEvent::kProgress: {
      const auto& p = ev.progress();
      auto rows = MetricRows(job, r->attempt, p.step(), p.losses());
      rows.push_back({job, r->attempt, p.step(), "lr", p.learning_rate()});
      rows.push_back({job, r->attempt, p.step(), "grad_norm", p.grad_norm()});
      rows.push_back({job, r->attempt, p.step(), "perf/step_seconds", p.step_seconds()});
      store_.AddMetrics(std::move(rows));
      {
        absl::MutexLock lock(&progress_mu_);
        progress_[job] = {p.step(), p.total_steps()};
      }
      *out.mutable_progress() = p;
      break;
    }
    case ttsd::v1::WorkerEvent::kValidation: {
      const auto& v = ev.validation();
      store_.AddMetrics(MetricRows(job, r->attempt, v.step(), v.metrics()));
      *out.mutable_validation() = v;
      break;
    }
    case ttsd::v1::WorkerEvent::kCheckpoint: {
      const auto& c = ev.checkpoint();
      store::CheckpointRecord rec;
      rec.job_id = job;
      rec.step = c.step();
      rec.path = c.path();
      rec.sha256 = c.sha256();
      rec.bytes = c.bytes();
      rec.is_best = c.is_best();
      if (auto st = store_.AddCheckpoint(rec); !st.ok()) spdlog::warn("job {}: {}", job, st.ToString());
      *out.mutable_checkpoint() = c;
      break;
    }
    case ttsd::v1::WorkerEvent::kSample: {
      const auto& s = ev.sample();
      store::SampleRecord rec;
      rec.job_id = job;
      rec.step = s.step();
      rec.tag = s.tag();
      rec.path = s.path();
      rec.sample_rate = s.sample_rate();
      rec.duration_s = s.duration_seconds();
      if (auto st = store_.AddSample(rec); !st.ok()) spdlog::warn("job {}: {}", job, st.ToString());
      auto* a = out.mutable_sample();
      a->set_step(s.step());
      a->set_tag(s.tag());
      a->set_path(s.path());
      a->set_sample_rate(s.sample_rate());
      a->set_duration_seconds(s.duration_seconds());
      a->set_text(s.text());
      if (auto wav = core::ReadFileToString(s.path()); wav.ok()) a->set_wav(std::move(*wav));
      break;
    }
    case ttsd::v1::WorkerEvent::kLog:
      *out.mutable_log() = ev.log();
      break;
    default:
      return;
  }
  if (auto st = bus_->Append(job, std::move(out)); !st.ok()) {
    spdlog::error("job {}: storing an event: {}", job, st.status().ToString());
  }
}

void JobManager::OnWorkerStarted(int64_t job_id) {
  absl::MutexLock lock(&mu_);
  auto job = store_.GetJob(job_id);
  if (job.ok() && job->state == JobState::kStarting) Settle(job_id, JobState::kRunning, "", "");
}

void JobManager::Settle(int64_t id, JobState to, const std::string& reason, const std::string& message) {
  auto st = bus_->Transition(id, to, reason, message);
  if (!st.ok()) spdlog::error("job {}: {}", id, st.status().ToString());
}

int JobManager::MaxRestarts(const JobRecord& job) {
  auto parsed = core::ParseConfigYaml(job.config_yaml, job.job_dir + "/config.yaml");
  return parsed.ok() ? parsed->config.training.max_restarts : core::TrainingConfig{}.max_restarts;
}

std::string JobManager::LogTail(const JobRecord& job) {
  std::string tail = ReadTail(job.job_dir + "/worker.log", kLogTailBytes);
  if (tail.empty()) tail = ReadTail(job.job_dir + "/train.log", kLogTailBytes);
  return tail;
}

void JobManager::HandleExit(std::unique_ptr<Running> r) {
  for (auto& reader : r->readers) reader.join();
  slots_.Release(r->devices);
  const int64_t id = r->job_id;
  const GroupExit exit = r->workers->Exit();
  spdlog::info("job {}: worker {} ({})", id, absl::StrJoin(r->workers->pids(), ", "),
               exit.clean ? "exit code 0" : exit.how);
  if (stopping_) return;  // the next Start() re-queues the job
  auto job = store_.GetJob(id);
  if (!job.ok()) return;
  if (job->state == JobState::kCancelling) {
    Settle(id, JobState::kCancelled, "USER_CANCEL", "");
    return;
  }
  std::optional<Outcome> outcome;
  if (exit.finished) outcome = exit.finished->outcome();
  std::string message = exit.finished ? exit.finished->message() : "";
  if (outcome == ttsd::v1::WorkerFinished::OUTCOME_COMPLETED && exit.clean) {
    Settle(id, JobState::kSucceeded, "", absl::StrCat("finished at step ", exit.finished->step()));
    return;
  }
  if (outcome == ttsd::v1::WorkerFinished::OUTCOME_EARLY_STOPPED && exit.clean) {
    Settle(id, JobState::kSucceeded, "EARLY_STOPPED", absl::StrCat("stopped at step ", exit.finished->step(), ": ", message));
    return;
  }
  if (job->desired == Desired::kStop) {
    // Stopped as asked, or died while stopping: either way the newest complete checkpoint is where a
    // resume continues.
    if (job->state != JobState::kStopping) Settle(id, JobState::kStopping, "USER_STOP", "");
    Settle(id, JobState::kStopped, "USER_STOP",
           outcome == ttsd::v1::WorkerFinished::OUTCOME_STOPPED
               ? absl::StrCat("checkpoint at step ", exit.finished->step())
               : absl::StrCat("the worker died while stopping (", exit.how, ")"));
    return;
  }
  if (outcome == ttsd::v1::WorkerFinished::OUTCOME_NON_FINITE_LOSS) {
    Settle(id, JobState::kFailed, "NON_FINITE_LOSS", LogTail(*job));
    return;
  }
  if (outcome == ttsd::v1::WorkerFinished::OUTCOME_DISK_FULL) {
    Settle(id, JobState::kFailed, "DISK_FULL",
           absl::StrCat(message, "; the previous checkpoint is intact: free space in ", job->job_dir,
                        ", then `ttsctl resume ", id, "`"));
    return;
  }
  if (outcome == ttsd::v1::WorkerFinished::OUTCOME_ERROR) {
    // A config or data error: running it again would fail the same way.
    Settle(id, JobState::kFailed, "NONRETRYABLE_EXIT", message.empty() ? LogTail(*job) : message);
    return;
  }
  // A crash (a signal, a non-zero exit without a report) or an exit nobody asked for.
  const std::string how = exit.clean ? "exited without saying why" : exit.how;
  const int max_restarts = MaxRestarts(*job);
  if (job->restarts < max_restarts) {
    Settle(id, JobState::kRestarting, "WORKER_CRASHED",
           absl::StrCat("worker ", how, "; restart ", job->restarts + 1, " of ", max_restarts,
                        " from the newest checkpoint"));
    Settle(id, JobState::kQueued, "WORKER_CRASHED", "re-queued after a crash");
    return;
  }
  Settle(id, JobState::kFailed, "MAX_RESTARTS",
         absl::StrCat("worker ", how, " and its ", max_restarts, " restarts are used up; last log lines:\n",
                      LogTail(*job)));
}

bool JobManager::CanRun(int64_t n, std::string* why) {
  absl::MutexLock lock(&mu_);
  if (!slots_.CanEverFit(static_cast<int>(n))) {
    *why = absl::StrCat("the job asks for ", n, " devices; this daemon has ", slots_.Describe());
    return false;
  }
  return true;
}

absl::StatusOr<JobRecord> JobManager::Submit(const store::NewJob& job, const std::string& config_yaml,
                                             bool* created) {
  absl::MutexLock lock(&mu_);  // the scheduler must not start the job before its folder is written
  auto rec = bus_->CreateJob(job, created);
  if (!rec.ok() || !*created) return rec;
  auto written = core::EnsureDirectory(rec->job_dir);
  if (written.ok()) written = core::WriteFileAtomic(rec->job_dir + "/config.yaml", config_yaml);
  if (!written.ok()) {
    Settle(rec->id, JobState::kCancelling, "JOB_DIR_UNWRITABLE", "");
    Settle(rec->id, JobState::kCancelled, "JOB_DIR_UNWRITABLE", std::string(written.message()));
    return written;
  }
  wake_ = true;
  return rec;
}

absl::StatusOr<JobRecord> JobManager::Stop(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto job = store_.GetJob(id);
  if (!job.ok()) return job.status();
  switch (job->state) {
    case JobState::kStopping:
      return job;
    case JobState::kQueued:
      TTSD_RETURN_IF_ERROR(store_.SetDesired(id, Desired::kStop).status());
      return bus_->Transition(id, JobState::kStopped, "USER_STOP", "stopped before it started");
    case JobState::kStarting:
    case JobState::kRunning: {
      TTSD_RETURN_IF_ERROR(store_.SetDesired(id, Desired::kStop).status());
      auto stopping = bus_->Transition(id, JobState::kStopping, "USER_STOP", "writing a checkpoint");
      if (auto it = running_.find(id); it != running_.end()) it->second->workers->Signal(SIGTERM);
      return stopping;
    }
    default:
      return absl::FailedPreconditionError(absl::StrCat("job ", id, " is ", store::JobStateName(job->state),
                                                        "; only a queued or running job can be stopped"));
  }
}

absl::StatusOr<JobRecord> JobManager::CheckpointNow(int64_t id) { return SignalRunning(id, SIGUSR1, "checkpoint"); }
absl::StatusOr<JobRecord> JobManager::ValidateNow(int64_t id) { return SignalRunning(id, SIGUSR2, "validate"); }

absl::StatusOr<JobRecord> JobManager::SignalRunning(int64_t id, int sig, const char* what) {
  absl::MutexLock lock(&mu_);
  auto job = store_.GetJob(id);
  if (!job.ok()) return job.status();
  auto it = running_.find(id);
  if (job->state != JobState::kRunning || it == running_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", id, " is ", store::JobStateName(job->state),
                                                      "; only a RUNNING job can ", what, " now"));
  }
  it->second->workers->SignalLead(sig);
  return job;
}

absl::StatusOr<JobRecord> JobManager::Resume(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto job = store_.GetJob(id);
  if (!job.ok()) return job.status();
  if (job->state != JobState::kStopped && job->state != JobState::kFailed) {
    return absl::FailedPreconditionError(absl::StrCat("job ", id, " is ", store::JobStateName(job->state),
                                                      "; only a STOPPED or FAILED job can be resumed"));
  }
  TTSD_RETURN_IF_ERROR(store_.SetDesired(id, Desired::kRun).status());
  auto queued = bus_->Transition(id, JobState::kQueued, "USER_RESUME", "continues from its newest checkpoint");
  wake_ = true;
  return queued;
}

absl::StatusOr<JobRecord> JobManager::Cancel(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto job = store_.GetJob(id);
  if (!job.ok()) return job.status();
  if (job->state == JobState::kCancelling) return job;
  if (store::IsTerminal(job->state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", id, " is ", store::JobStateName(job->state), "; it has already ended"));
  }
  TTSD_RETURN_IF_ERROR(store_.SetDesired(id, Desired::kCancel).status());
  auto cancelling = bus_->Transition(id, JobState::kCancelling, "USER_CANCEL", "");
  if (!cancelling.ok()) return cancelling;
  if (auto it = running_.find(id); it != running_.end()) {
    it->second->workers->Signal(SIGTERM);
    it->second->kill_at = absl::Now() + options_.cancel_grace;
    wake_ = true;
    return cancelling;
  }
  return bus_->Transition(id, JobState::kCancelled, "USER_CANCEL", "");
}

int JobManager::QueuePosition(int64_t id) {
  auto queued = store_.QueuedJobs();
  if (!queued.ok()) return 0;
  for (size_t i = 0; i < queued->size(); ++i) {
    if ((*queued)[i].id == id) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::vector<int64_t> JobManager::WorkerPids(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(id);
  if (it == running_.end()) return {};
  std::vector<pid_t> pids = it->second->workers->pids();
  return std::vector<int64_t>(pids.begin(), pids.end());
}

std::optional<JobProgress> JobManager::Progress(int64_t id) {
  absl::MutexLock lock(&progress_mu_);
  auto it = progress_.find(id);
  if (it == progress_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ttsd::server::daemon
