// ttsctl submit | list | status | stop | resume | cancel | watch
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "client/commands.h"
#include "client/format.h"
#include "client/watch.h"

namespace ttsd::client {
namespace {

// A fresh idempotency key per `ttsctl submit`: a retried request within the command never queues twice.
std::string NewRequestId() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(::getpid()));
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

void PrintJob(const ttsd::v1::Job& j, bool json) {
  if (json) {
    std::printf("%s\n", ToJson(j).c_str());
    return;
  }
  std::printf("job %llu  %s\n", static_cast<unsigned long long>(j.id()), j.name().c_str());
  std::printf("  state      %s%s\n", StateName(j.state()).c_str(),
              j.queue_position() ? (" (position " + std::to_string(j.queue_position()) + " in the queue)").c_str() : "");
  if (!j.reason().empty()) std::printf("  reason     %s\n", j.reason().c_str());
  if (!j.message().empty()) std::printf("  message    %s\n", j.message().c_str());
  if (j.step() > 0) {
    std::printf("  step       %lld%s\n", static_cast<long long>(j.step()),
                j.total_steps() > 0 ? (" of " + std::to_string(j.total_steps())).c_str() : "");
  }
  if (j.has_best() && j.best().step() >= 0) {
    const auto& b = j.best();
    std::printf("  best       %s %.4f at step %lld (checkpoints/best); %lld validation(s) since it improved\n",
                b.metric().c_str(), b.value(), static_cast<long long>(b.step()),
                static_cast<long long>(b.validations_since()));
  }
  if (j.has_parent()) std::printf("  parent     %s\n", FormatLineage(j.parent()).c_str());
  if (j.devices() > 1) {
    std::string pids;
    for (int64_t pid : j.rank_pids()) pids += (pids.empty() ? "" : ", ") + std::to_string(pid);
    std::printf("  ranks      %u data-parallel%s\n", j.devices(), pids.empty() ? "" : (" (worker pids " + pids + ")").c_str());
  }
  std::printf("  attempts   %u (crash restarts %u)\n", j.attempt(), j.restarts());
  std::printf("  priority   %lld\n", static_cast<long long>(j.priority()));
  std::printf("  folder     %s\n", j.job_dir().c_str());
  std::printf("  updated    %s\n", FormatAge(j.updated()).c_str());
}

struct SubmitArgs {
  std::string path, name;
  int64_t priority = 0;
  uint32_t devices = 0;  // 0: the config's distributed.world_size
  int64_t max_steps = 0;
  bool validate = false, watch = false;
  std::string samples_dir = "samples";
};

int Submit(Globals* g, const SubmitArgs& a) {
  const std::string& path = a.path;
  Connection conn(g->conn);
  if (!conn.setup_error().empty()) return std::fprintf(stderr, "ttsctl: %s\n", conn.setup_error().c_str()), kExitBadInput;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "ttsctl: cannot read %s\n", path.c_str());
    return kExitBadInput;
  }
  std::stringstream text;
  text << in.rdbuf();
  ttsd::v1::SubmitJobRequest req;
  req.set_config_yaml(text.str());
  req.set_config_dir(std::filesystem::absolute(path).parent_path().string());
  req.set_name(a.name);
  req.set_priority(a.priority);
  req.set_devices(a.devices);
  req.set_max_steps(a.max_steps);
  req.set_validate_only(a.validate);
  req.set_request_id(NewRequestId());
  ttsd::v1::SubmitJobResponse resp;
  grpc::Status st;
  for (int attempt = 0; attempt < 3; ++attempt) {  // same request_id: a retry never queues twice
    auto ctx = conn.Context();
    st = conn.stub().SubmitJob(ctx.get(), req, &resp);
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE || attempt == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  if (!st.ok()) {
    if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      std::fprintf(stderr, "ttsctl: %s: the config was refused; nothing was queued:\n%s\n", path.c_str(),
                   st.error_message().c_str());
      return kExitBadInput;
    }
    return conn.Report(st);
  }
  if (a.validate) {
    if (g->json()) {
      std::printf("%s\n", ToJson(resp).c_str());
    } else {
      std::printf("%s: valid\n", path.c_str());
    }
    return kExitOk;
  }
  if (g->json()) {
    std::printf("%s\n", ToJson(resp).c_str());
  } else {
    std::printf("%llu\n", static_cast<unsigned long long>(resp.job().id()));
    std::fprintf(stderr, "job %llu queued (%s%s); follow it with `ttsctl watch %llu`\n",
                 static_cast<unsigned long long>(resp.job().id()), resp.job().name().c_str(),
                 resp.job().queue_position() > 1
                     ? (", position " + std::to_string(resp.job().queue_position())).c_str()
                     : "",
                 static_cast<unsigned long long>(resp.job().id()));
  }
  std::fflush(stdout);
  if (!a.watch) return kExitOk;
  WatchOptions wo;
  wo.json = g->json();
  wo.samples_dir = a.samples_dir;
  return Watch(conn, resp.job().id(), wo);
}

int List(Globals* g, const std::vector<std::string>& states, uint32_t limit) {
  Connection conn(g->conn);
  ttsd::v1::ListJobsRequest req;
  for (const auto& s : states) {
    ttsd::v1::JobState js;
    if (!ttsd::v1::JobState_Parse("JOB_STATE_" + s, &js)) {
      std::fprintf(stderr, "ttsctl: unknown state %s (QUEUED, RUNNING, STOPPED, SUCCEEDED, FAILED, ...)\n", s.c_str());
      return kExitBadInput;
    }
    req.add_states(js);
  }
  req.set_page_size(std::min<uint32_t>(limit, 200));
  std::vector<ttsd::v1::Job> jobs;
  while (jobs.size() < limit) {
    ttsd::v1::ListJobsResponse resp;
    auto ctx = conn.Context();
    grpc::Status st = conn.stub().ListJobs(ctx.get(), req, &resp);
    if (!st.ok()) return conn.Report(st);
    for (const auto& j : resp.jobs()) {
      if (jobs.size() < limit) jobs.push_back(j);
    }
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (g->json()) {
    for (const auto& j : jobs) std::printf("%s\n", ToJson(j).c_str());
    return kExitOk;
  }
  if (jobs.empty()) {
    std::printf("no jobs\n");
    return kExitOk;
  }
  std::printf("%s\n", JobLineHeader().c_str());
  for (const auto& j : jobs) std::printf("%s\n", JobLine(j).c_str());
  return kExitOk;
}

using JobRpc = grpc::Status (ttsd::v1::TrainingService::Stub::*)(grpc::ClientContext*, const ttsd::v1::JobRef&,
                                                                  ttsd::v1::Job*);

int JobCommand(Globals* g, uint64_t id, JobRpc rpc, bool full) {
  Connection conn(g->conn);
  ttsd::v1::JobRef ref;
  ref.set_job_id(id);
  ttsd::v1::Job job;
  auto ctx = conn.Context();
  grpc::Status st = (conn.stub().*rpc)(ctx.get(), ref, &job);
  if (!st.ok()) return conn.Report(st);
  if (full || g->json()) {
    PrintJob(job, g->json());
  } else {
    std::printf("job %llu: %s\n", static_cast<unsigned long long>(job.id()), StateName(job.state()).c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterJobCommands(CLI::App& app, Globals* g) {
  auto sa = std::make_shared<SubmitArgs>();
  auto* submit = app.add_subcommand("submit", "Queue a training job from a config; prints the job id");
  submit->add_option("config", sa->path, "Training config (YAML)")->required();
  submit->add_option("--name", sa->name, "Job name (default: the config's name)");
  submit->add_option("--priority", sa->priority, "Higher runs first; FIFO within a priority");
  submit->add_option("--devices", sa->devices,
                     "Devices (data-parallel ranks) the job trains on (default: the config's distributed.world_size)")
      ->check(CLI::PositiveNumber);
  submit->add_option("--max-steps", sa->max_steps, "Override training.max_steps")->check(CLI::PositiveNumber);
  submit->add_flag("--validate", sa->validate, "Only check the config with the daemon; queue nothing");
  submit->add_flag("--watch", sa->watch, "Follow the job after queueing it (like ttsctl watch)");
  submit->add_option("--samples-dir", sa->samples_dir, "With --watch: where validation audio is saved");
  submit->callback([g, sa] {
    g->exit_code = Submit(g, *sa);
  });

  auto states = std::make_shared<std::vector<std::string>>();
  auto limit = std::make_shared<uint32_t>(50);
  auto* list = app.add_subcommand("list", "List jobs, newest first");
  list->add_option("--state", *states, "Only jobs in these states (QUEUED, RUNNING, ...)");
  list->add_option("--limit", *limit, "At most this many jobs")->check(CLI::PositiveNumber);
  list->callback([g, states, limit] { g->exit_code = List(g, *states, *limit); });

  struct Simple {
    const char* name;
    const char* help;
    JobRpc rpc;
    bool full;
  };
  using Stub = ttsd::v1::TrainingService::Stub;
  for (const Simple& c : {Simple{"status", "Show a job", &Stub::GetJob, true},
                          Simple{"stop", "Stop a job: it checkpoints and becomes STOPPED", &Stub::StopJob, false},
                          Simple{"resume", "Resume a STOPPED or FAILED job from its newest checkpoint", &Stub::ResumeJob,
                                 false},
                          Simple{"cancel", "Cancel a job (its worker gets a grace period, then SIGKILL)",
                                 &Stub::CancelJob, false},
                          Simple{"checkpoint-now", "A running job writes a checkpoint after its current step",
                                 &Stub::CheckpointNow, false},
                          Simple{"validate-now", "A running job validates (losses, audio, metrics) after its current step",
                                 &Stub::ValidateNow, false}}) {
    auto id = std::make_shared<uint64_t>(0);
    auto* cmd = app.add_subcommand(c.name, c.help);
    cmd->add_option("job", *id, "Job id")->required();
    JobRpc rpc = c.rpc;
    bool full = c.full;
    cmd->callback([g, id, rpc, full] { g->exit_code = JobCommand(g, *id, rpc, full); });
  }

  auto wid = std::make_shared<uint64_t>(0);
  auto wo = std::make_shared<WatchOptions>();
  auto* watch = app.add_subcommand("watch", "Follow a job to its end: progress, validation, audio samples");
  watch->add_option("job", *wid, "Job id")->required();
  watch->add_option("--samples-dir", wo->samples_dir, "Where validation audio is saved (<dir>/<job>/)");
  watch->add_option("--after-seq", wo->after_seq, "Start after this event (default: replay the whole job)");
  watch->add_option("--stall-timeout", wo->stall_timeout_s, "Seconds of silence before reconnecting")
      ->check(CLI::PositiveNumber);
  watch->callback([g, wid, wo] {
    Connection conn(g->conn);
    wo->json = g->json();
    g->exit_code = Watch(conn, *wid, *wo);
  });
}

}  // namespace ttsd::client
