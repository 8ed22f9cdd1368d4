// `ttsd train --config FILE [--output-dir DIR] [--resume auto|PATH] [--device cpu|cuda:N] [--threads N]
//  [--max-steps N]`
// SIGINT/SIGTERM: finish the step, checkpoint, exit 0. A second SIGINT exits at once (exit 130); the
// last complete checkpoint stays valid because checkpoints are written atomically.
// SIGUSR1: write a checkpoint after the current step; SIGUSR2: validate after the current step (the
// daemon's checkpoint-now / validate-now, and anyone's `kill -USR1 <pid>` for a standalone run).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "core/common/file_util.h"
#include "core/train/console_sink.h"
#include "core/train/distributed.h"
#include "core/train/precision.h"
#include "core/train/trainer.h"
#include "server/api/allowed_roots.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"
#include "server/worker/worker_sink.h"

namespace ttsd::server {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_checkpoint{false};
std::atomic<bool> g_validate{false};
std::atomic<int> g_interrupts{0};  // lock-free, so safe in a signal handler

void OnSignal(int sig) {
  if (sig == SIGINT && g_interrupts.fetch_add(1) + 1 >= 2) _exit(130);
  g_stop.store(true);
}

void OnControlSignal(int sig) { (sig == SIGUSR1 ? g_checkpoint : g_validate).store(true); }

// SIGINT / SIGTERM ask for a stop after the current step (a second SIGINT ends the process).
void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

struct TrainOptions {
  std::string config;
  std::string output_dir;
  std::string resume;
  std::string device;
  int threads = 0;
  int64_t max_steps = -1;
  int events_fd = -1;  // `ttsd worker`: where WorkerEvents go (the daemon's pipe)
  std::vector<std::string> allowed_roots;  // `ttsd worker`: the daemon's --allowed-roots
};

// `ttsd worker`: events to the daemon's pipe as well as the job folder's files, and the start / finish
// events the trainer does not emit itself.
std::unique_ptr<worker::WorkerSink> MakeWorkerSink(int fd, std::unique_ptr<core::train::EventSink> files) {
  ::signal(SIGPIPE, SIG_IGN);                // a gone daemon is a write error, not a kill
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);        // the daemon died: checkpoint and exit like `ttsd stop`
  auto sink = std::make_unique<worker::WorkerSink>(fd, std::move(files));
  ttsd::v1::WorkerEvent started;
  started.mutable_started()->set_pid(::getpid());
  sink->Send(started);
  return sink;
}

void SendFinished(worker::WorkerSink& sink, ttsd::v1::WorkerFinished::Outcome outcome, int64_t step,
                  const std::string& message, const std::string& last_checkpoint) {
  ttsd::v1::WorkerEvent ev;
  auto* f = ev.mutable_finished();
  f->set_outcome(outcome);
  f->set_step(step);
  f->set_message(message);
  f->set_last_checkpoint(last_checkpoint);
  sink.Send(ev);
}

// One process trains into a folder at a time: two would interleave checkpoints and logs. The lock is
// an flock on <out>/.ttsd.lock, released by the kernel when the process dies however it dies. A
// daemon's worker waits for it: after a daemon restart, the previous worker of the job may still be
// writing its last checkpoint, which the new one must resume from. The fd stays open for the process.
absl::Status LockRunFolder(const std::string& out, bool wait, core::train::EventSink* sink) {
  std::string path = out + "/.ttsd.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return absl::OkStatus();
  if (!wait) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "another ttsd process is training into ", out, "; wait for it to finish or use another --output-dir"));
  }
  sink->OnLog("waiting for the job's previous worker to finish its checkpoint");
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return absl::InternalError(absl::StrCat("flock ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// A data-parallel rank other than 0 writes nothing to the run folder: its log lines go to stderr.
class OtherRankSink : public core::train::EventSink {
 public:
  explicit OtherRankSink(int rank) : rank_(rank) {}
  void OnStep(const core::train::StepEvent&) override {}
  void OnValidation(const core::train::ValidationEvent&) override {}
  void OnCheckpoint(const core::train::CheckpointEvent&) override {}
  void OnLog(const std::string& line) override { std::fprintf(stderr, "[rank %d] %s\n", rank_, line.c_str()); }

 private:
  int rank_;
};

ttsd::v1::WorkerFinished::Outcome OutcomeOf(core::train::StopReason reason) {
  using core::train::StopReason;
  using Finished = ttsd::v1::WorkerFinished;
  return reason == StopReason::kCompleted      ? Finished::OUTCOME_COMPLETED
         : reason == StopReason::kStopped      ? Finished::OUTCOME_STOPPED
         : reason == StopReason::kEarlyStopped ? Finished::OUTCOME_EARLY_STOPPED
                                               : Finished::OUTCOME_NON_FINITE_LOSS;
}

// Tells the daemon how a run that ended in an error went. A failed collective (another rank died or
// hung) says nothing: the daemon then treats the exit as the crash it is, and restarts the job from its
// newest checkpoint. A full disk is worth a resume once space is freed; any other error would fail the
// same way again.
void ReportFailure(worker::WorkerSink& sink, const absl::Status& error) {
  if (absl::IsUnavailable(error)) return;
  const bool disk_full = absl::IsResourceExhausted(error) && absl::StrContains(error.message(), std::strerror(ENOSPC));
  SendFinished(sink,
               disk_full ? ttsd::v1::WorkerFinished::OUTCOME_DISK_FULL : ttsd::v1::WorkerFinished::OUTCOME_ERROR, 0,
               std::string(error.message()), "");
}

// Rank 1.. of a data-parallel run: trains in lockstep with rank 0, writes nothing. Under the daemon it
// reports only how it finished (rank 0 reports the job).
int RunOtherRank(const TrainOptions& opt, const core::TrainConfig& cfg, const std::string& out, int rank, int threads) {
  InstallStopHandlers();
  std::unique_ptr<worker::WorkerSink> to_daemon;
  if (opt.events_fd >= 0) {
    ::signal(SIGPIPE, SIG_IGN);
    to_daemon = std::make_unique<worker::WorkerSink>(opt.events_fd, nullptr);
  }
  OtherRankSink sink(rank);
  sink.OnLog(absl::StrCat("ttsd train ", opt.config, " (", threads, " threads); rank 0 writes ", out));
  core::train::TrainerOptions options;
  options.config = cfg;
  options.output_dir = out;
  options.resume = opt.resume;
  options.sink = &sink;
  options.stop_requested = &g_stop;  // a stop on any rank stops all (rank 0 checkpoints)
  options.show_progress = false;
  options.device_per_rank = opt.events_fd >= 0;
  auto result = core::train::Train(options);
  if (!result.ok()) {
    if (to_daemon) ReportFailure(*to_daemon, result.status());
    return ReportError(result.status());
  }
  if (to_daemon) SendFinished(*to_daemon, OutcomeOf(result->reason), result->step, result->message, "");
  return result->reason == core::train::StopReason::kNonFiniteLoss ? kExitFailed : kExitOk;
}

int RunTrain(const TrainOptions& opt) {
  // First of all: a control signal must never find the default action (which ends the process).
  struct sigaction control {};
  control.sa_handler = OnControlSignal;
  sigemptyset(&control.sa_mask);
  control.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &control, nullptr);
  sigaction(SIGUSR2, &control, nullptr);
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  core::TrainConfig cfg = parsed->config;
  if (!opt.device.empty()) cfg.training.device = opt.device;
  if (opt.max_steps >= 0) cfg.training.max_steps = opt.max_steps;
  // --device bypassed the config checks: check the pair again, and that the device is really there.
  if (auto device = core::train::ResolveDevice(cfg.training.device); !device.ok()) {
    ReportError(device.status());
    return kExitBadConfig;
  } else if (device->is_cpu() && cfg.training.precision != "fp32") {
    ReportError(absl::InvalidArgumentError(absl::StrCat(
        "training.precision ", cfg.training.precision, " needs a CUDA device; the CPU trains in fp32")));
    return kExitBadConfig;
  }
  std::string out = !opt.output_dir.empty() ? opt.output_dir : cfg.output_dir;
  if (out.empty()) {
    return ReportError(absl::InvalidArgumentError("no output folder: pass --output-dir or set output_dir in the config"));
  }
  int threads = ConfigureThreads(opt.threads, cfg.threads);
  auto env = core::train::ReadDistributedEnv();
  if (!env.ok()) return ReportError(env.status());
  if (env->rank != 0) return RunOtherRank(opt, cfg, out, env->rank, threads);
  auto console = core::train::ConsoleSink::Create(out, /*quiet=*/opt.events_fd >= 0);
  if (!console.ok()) {
    if (auto st = core::EnsureDirectory(out); !st.ok()) return ReportError(st);
    console = core::train::ConsoleSink::Create(out, opt.events_fd >= 0);
    if (!console.ok()) return ReportError(console.status());
  }
  std::unique_ptr<core::train::EventSink> files = std::move(*console);
  std::unique_ptr<worker::WorkerSink> to_daemon;
  if (opt.events_fd >= 0) to_daemon = MakeWorkerSink(opt.events_fd, std::move(files));
  core::train::EventSink* sink = to_daemon ? to_daemon.get() : files.get();
  if (auto st = LockRunFolder(out, /*wait=*/opt.events_fd >= 0, sink); !st.ok()) {
    if (to_daemon) SendFinished(*to_daemon, ttsd::v1::WorkerFinished::OUTCOME_ERROR, 0, std::string(st.message()), "");
    return ReportError(st);
  }
  sink->OnLog(absl::StrCat("ttsd train ", opt.config, " -> ", out, " (", threads, " threads)"));
  if (auto st = api::CheckConfigPaths(cfg, api::AllowedRoots(opt.allowed_roots)); !st.ok()) {
    sink->OnLog(absl::StrCat("error: ", st.message()));
    if (to_daemon) SendFinished(*to_daemon, ttsd::v1::WorkerFinished::OUTCOME_ERROR, 0, std::string(st.message()), "");
    return ReportError(st);
  }
  InstallStopHandlers();

  core::train::TrainerOptions options;
  options.config = cfg;
  options.output_dir = out;
  options.resume = opt.resume;
  options.sink = sink;
  options.stop_requested = &g_stop;
  options.checkpoint_requested = &g_checkpoint;
  options.validate_requested = &g_validate;
  options.show_progress = opt.events_fd < 0;  // a worker's stdout is a log file, not a terminal
  options.device_per_rank = opt.events_fd >= 0;
  auto result = core::train::Train(options);
  if (!result.ok()) {
    sink->OnLog(absl::StrCat("error: ", result.status().message()));
    if (to_daemon) ReportFailure(*to_daemon, result.status());
    return ReportError(result.status());
  }
  if (to_daemon) SendFinished(*to_daemon, OutcomeOf(result->reason), result->step, result->message, result->last_checkpoint);
  if (result->reason == core::train::StopReason::kNonFiniteLoss) return kExitFailed;
  return kExitOk;
}

}  // namespace

void RegisterTrainCommands(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<TrainOptions>();
  auto* train = app.add_subcommand("train", "Train a voice from a config (standalone, no daemon)");
  train->add_option("--config", opt->config, "Training config (YAML)")->required();
  train->add_option("--output-dir", opt->output_dir, "Run folder (default: output_dir in the config)");
  train->add_option("--resume", opt->resume, "auto (newest valid checkpoint in the run folder) or a checkpoint path");
  train->add_option("--device", opt->device, "cpu or cuda:N (overrides training.device)");
  train->add_option("--threads", opt->threads, "LibTorch threads (default: config threads, else every core)");
  train->add_option("--max-steps", opt->max_steps, "Override training.max_steps (0 = no step limit)")->check(CLI::NonNegativeNumber);
  train->callback([opt, exit_code] { *exit_code = RunTrain(*opt); });

  auto wopt = std::make_shared<TrainOptions>();
  auto* worker = app.add_subcommand("worker", "Internal: one daemon job's training process (the train engine, "
                                              "reporting to the daemon over --events-fd)");
  worker->add_option("--config", wopt->config, "Training config (YAML)")->required();
  worker->add_option("--output-dir", wopt->output_dir, "The job folder")->required();
  worker->add_option("--resume", wopt->resume, "auto or a checkpoint path");
  worker->add_option("--device", wopt->device, "cpu or cuda:N");
  worker->add_option("--threads", wopt->threads, "LibTorch threads");
  worker->add_option("--max-steps", wopt->max_steps, "Override training.max_steps")->check(CLI::NonNegativeNumber);
  worker->add_option("--allowed-root", wopt->allowed_roots, "A folder the config may point into (repeated)");
  worker->add_option("--events-fd", wopt->events_fd, "File descriptor for length-delimited WorkerEvents")
      ->required()->check(CLI::NonNegativeNumber);
  worker->callback([wopt, exit_code] { *exit_code = RunTrain(*wopt); });
}

}  // namespace ttsd::server
