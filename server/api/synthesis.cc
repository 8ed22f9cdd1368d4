#include "server/api/synthesis.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/audio/wav.h"
#include "core/common/file_util.h"
#include "core/train/finetune.h"
#include "server/api/grpc_status.h"
#include "server/daemon/worker_process.h"

namespace ttsd::server::api {
namespace fs = std::filesystem;
namespace {

constexpr auto kTimeout = std::chrono::seconds(300);

std::string Tail(const std::string& text, size_t n) { return text.size() <= n ? text : text.substr(text.size() - n); }

// The request's synthesis knobs, checked here so a bad value is the caller's error, not a failed child.
grpc::Status CheckScales(const ttsd::v1::SynthesizeRequest& req) {
  struct Knob {
    const char* name;
    bool set;
    double value;
    bool zero_ok;
  };
  for (const Knob& k : {Knob{"noise_scale", req.has_noise_scale(), req.noise_scale(), true},
                        Knob{"length_scale", req.has_length_scale(), req.length_scale(), false},
                        Knob{"noise_scale_w", req.has_noise_scale_w(), req.noise_scale_w(), true}}) {
    if (!k.set || (std::isfinite(k.value) && (k.zero_ok ? k.value >= 0 : k.value > 0))) continue;
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat(k.name, " is ", k.value, ": give a number ", k.zero_ok ? ">= 0" : "> 0",
                                     ", or leave it unset for the job's config"));
  }
  return grpc::Status::OK;
}

}  // namespace

void Synthesis::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (pid_t pgid : children_) ::kill(-pgid, SIGKILL);
  mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &running_));
}

void Synthesis::Start(const store::JobRecord& job, const ttsd::v1::SynthesizeRequest& req,
                      ttsd::v1::SynthesizeResponse* resp, std::function<void(const grpc::Status&)> done) {
  if (req.text().empty() || req.text().size() > kMaxTextBytes) {
    done(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("text: give between 1 and ", kMaxTextBytes, " bytes to speak")));
    return;
  }
  if (grpc::Status st = CheckScales(req); !st.ok()) {
    done(st);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the daemon is shutting down"));
      return;
    }
    if (running_ >= kMaxConcurrent) {
      done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat(kMaxConcurrent, " syntheses are already running; try again in a moment")));
      return;
    }
    ++running_;
  }
  std::thread([this, job, req, resp, done = std::move(done)] {
    grpc::Status st = Run(job, req, resp);
    done(st);
    absl::MutexLock lock(&mu_);
    --running_;
  }).detach();
}

grpc::Status Synthesis::Run(const store::JobRecord& job, const ttsd::v1::SynthesizeRequest& req,
                            ttsd::v1::SynthesizeResponse* resp) {
  const std::string selector = req.checkpoint().empty() ? "latest" : req.checkpoint();
  auto checkpoint = core::train::CheckpointInRun(job.job_dir, selector);
  if (!checkpoint.ok()) return ToGrpcStatus(checkpoint.status());
  static std::atomic<int> counter{0};
  const std::string base = absl::StrCat(job.job_dir, "/.synth-", ::getpid(), "-", counter.fetch_add(1));
  const std::string wav = base + ".wav", log = base + ".log";
  // --key=value: a text or speaker that starts with '-' is a value, never an option.
  std::vector<std::string> argv = {ttsd_binary_, "synthesize", "--checkpoint=" + *checkpoint, "--text=" + req.text(),
                                   "--out=" + wav, "--threads=1", "--seed=" + std::to_string(req.seed())};
  if (!req.speaker().empty()) argv.push_back("--speaker=" + req.speaker());
  if (req.has_noise_scale()) argv.push_back(absl::StrCat("--noise-scale=", req.noise_scale()));
  if (req.has_length_scale()) argv.push_back(absl::StrCat("--length-scale=", req.length_scale()));
  if (req.has_noise_scale_w()) argv.push_back(absl::StrCat("--noise-scale-w=", req.noise_scale_w()));
  auto child = daemon::WorkerProcess::Spawn(argv, daemon::EnvironmentWith({}, {}), log);
  if (!child.ok()) return ToGrpcStatus(child.status());
  {
    absl::MutexLock lock(&mu_);
    children_.insert((*child)->pid());  // also its process group id
    if (stopping_) (*child)->KillGroup();
  }
  // Wait, with a deadline: poll the child (it is ours alone; nobody else reaps it).
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid((*child)->pid(), &status, WNOHANG);
    if (r == (*child)->pid()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      (*child)->KillGroup();
      ::waitpid((*child)->pid(), &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (*child)->KillGroup();  // anything it left behind
  {
    absl::MutexLock lock(&mu_);
    children_.erase((*child)->pid());
  }
  auto output = core::ReadFileToString(log);
  auto bytes = core::ReadFileToString(wav);
  auto info = core::ReadAudioInfo(wav);
  std::error_code ec;
  fs::remove(wav, ec);
  fs::remove(log, ec);
  if (!daemon::ExitedCleanly(status) || !bytes.ok() || !info.ok()) {
    const std::string why = output.ok() ? Tail(*output, 2000) : daemon::DescribeWaitStatus(status);
    // Its own exit code 2 is bad input (an unknown speaker, text it cannot spell).
    const bool bad_input = WIFEXITED(status) && WEXITSTATUS(status) == 2;
    return grpc::Status(bad_input ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::INTERNAL,
                        absl::StrCat("synthesis with ", *checkpoint, " failed (", daemon::DescribeWaitStatus(status),
                                     "): ", why));
  }
  resp->set_wav(std::move(*bytes));
  resp->set_sample_rate(static_cast<uint32_t>(info->sample_rate));
  resp->set_duration_seconds(info->seconds());
  resp->set_checkpoint_path(*checkpoint);
  return grpc::Status::OK;
}

}  // namespace ttsd::server::api
