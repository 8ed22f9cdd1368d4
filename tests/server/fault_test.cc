// Faults a training daemon must survive, provoked for real: kill -9 of the daemon at random moments, a
// SIGTERM with jobs running, a full disk (a small tmpfs), a corrupt checkpoint. Each test drives a real
// `ttsd serve` with real workers training the tiny Glow-TTS, and checks what a user would: end states,
// the event stream, the metric curves, the SQLite file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "tests/testing/command.h"
#include "tests/testing/daemon.h"
#include "tests/testing/temp_dir.h"

namespace ttsd {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ttsd::v1::Job;
using ttsd::v1::JobEvent;
using ttsd::v1::JobState;
using Stub = ttsd::v1::TrainingService::Stub;

std::string TinyConfig(const testing::TempDir& tmp, const std::string& name, int steps) {
  fs::create_directories(tmp.Join(name));
  return testing::WriteConfig(
      tmp.Join(name), "seed: 3\nthreads: 1\ndata:\n  path: " + tmp.Join("data") +
                          "\n  validation:\n    count: 2\ntext:\n  mode: characters\nbatch:\n  size: 2\nmodel:\n"
                          "  preset: tiny\ntraining:\n  max_steps: " + std::to_string(steps) +
                          "\n  warmup_steps: 10\n  log_interval: 1\nvalidation:\n  interval_steps: 25\n  samples: 1\n"
                          "checkpoint:\n  interval_steps: 10\n  keep_last: 2\n");
}

grpc::Status Call(testing::TestDaemon& d, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const ttsd::v1::JobRef&, Job*),
                  uint64_t id, Job* out = nullptr) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ttsd::v1::JobRef ref;
  ref.set_job_id(id);
  Job job;
  grpc::Status st = (d.stub().*rpc)(&ctx, ref, &job);
  if (out) *out = job;
  return st;
}

std::map<std::string, std::vector<int64_t>> MetricSteps(testing::TestDaemon& d, uint64_t id) {
  grpc::ClientContext ctx;
  ttsd::v1::GetMetricsRequest req;
  req.set_job_id(id);
  ttsd::v1::GetMetricsResponse resp;
  EXPECT_TRUE(d.stub().GetMetrics(&ctx, req, &resp).ok());
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& s : resp.series()) {
    for (const auto& p : s.points()) out[s.key()].push_back(p.step());
  }
  return out;
}

// The whole event history from seq 0: consecutive seqs (no gap, no duplicate); returns the last state.
JobState ExpectGapFreeHistory(testing::TestDaemon& d, uint64_t id) {
  uint64_t want = 1;
  JobState last = ttsd::v1::JOB_STATE_UNSPECIFIED;
  for (const JobEvent& e : d.Events(id, 0)) {
    if (e.has_end()) continue;
    EXPECT_EQ(e.seq(), want) << "job " << id;
    want = e.seq() + 1;
    if (e.has_state()) last = e.state().state();
  }
  return last;
}

// Each metric key has exactly one value per step; train/loss has every step from 1 to `steps`.
void ExpectOneValuePerKeyAndStep(testing::TestDaemon& d, uint64_t id, int64_t steps) {
  auto series = MetricSteps(d, id);
  for (const auto& [key, v] : series) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1], v[i]) << "job " << id << " " << key << " at " << v[i];
  }
  const auto& loss = series["train/loss"];
  ASSERT_EQ(static_cast<int64_t>(loss.size()), steps) << "job " << id;
  for (size_t i = 0; i < loss.size(); ++i) ASSERT_EQ(loss[i], static_cast<int64_t>(i) + 1) << "job " << id;
}

std::string IntegrityCheck(const std::string& db) {
  return testing::RunCommand("/usr/bin/python3 -c \"import sqlite3,sys; print(sqlite3.connect(sys.argv[1])"
                             ".execute('PRAGMA integrity_check').fetchone()[0])\" " + db).output;
}

// kill -9 of the daemon 20 times, at random moments, while jobs are submitted, train, write metrics and
// checkpoints, are stopped and resumed. Every request the daemon answered OK holds afterwards: each job
// ends where its last accepted command sent it, its event history is gap-free, each metric has one
// value per step, and the database passes integrity_check. TTSD_SOAK_SEED replays a run.
TEST(FaultSoakTest, TwentyDaemonKillsAtRandomMomentsLoseNothing) {
  const char* seed_env = std::getenv("TTSD_SOAK_SEED");
  const unsigned seed = seed_env ? static_cast<unsigned>(std::atoi(seed_env)) : std::random_device{}();
  std::printf("TTSD_SOAK_SEED=%u\n", seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> pause_s(0.2, 2.5);
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("data"), 12);
  const int kSteps = 300;
  const std::string config = TinyConfig(tmp, "job", kSteps);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"), {"--max-concurrent-jobs", "2"});
  std::map<uint64_t, JobState> intended;
  int kills = 0;
  for (int cycle = 0; cycle < 20; ++cycle) {
    ASSERT_TRUE(d.Start()) << "cycle " << cycle << "\n" << d.log();
    Job job;
    switch (cycle % 4) {
      case 0: {  // a submit (a retry with the same request id would find the same job)
        grpc::Status st = d.Submit(config, &job, "soak-" + std::to_string(cycle));
        ASSERT_TRUE(st.ok()) << st.error_message();
        intended[job.id()] = ttsd::v1::JOB_STATE_SUCCEEDED;
        break;
      }
      case 1:  // stop whatever runs or waits
      case 2:  // resume whatever is stopped (until the last round: some jobs end STOPPED)
        for (auto& [id, want] : intended) {
          if (cycle % 4 == 1 && Call(d, &Stub::StopJob, id).ok()) want = ttsd::v1::JOB_STATE_STOPPED;
          if (cycle % 4 == 2 && cycle < 16 && Call(d, &Stub::ResumeJob, id).ok()) want = ttsd::v1::JOB_STATE_SUCCEEDED;
        }
        break;
      default:  // nothing: the kill lands among metric writes and checkpoints
        break;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(pause_s(rng)));
    d.Kill(SIGKILL);
    ++kills;
  }
  ASSERT_EQ(kills, 20);
  ASSERT_TRUE(d.Start()) << d.log();
  for (const auto& [id, want] : intended) {
    Job job;
    EXPECT_TRUE(d.WaitForState(id, want, 300, &job)) << "job " << id << " wanted " << JobState_Name(want) << "\n"
                                                     << job.DebugString();
    EXPECT_EQ(job.restarts(), 0u) << "daemon kills used job " << id << "'s restart budget";
    std::printf("job %llu: %s after %u attempts\n", static_cast<unsigned long long>(id), JobState_Name(job.state()).c_str(),
                job.attempt());
  }
  for (const auto& [id, want] : intended) {
    EXPECT_EQ(ExpectGapFreeHistory(d, id), want) << "job " << id;
    if (want == ttsd::v1::JOB_STATE_SUCCEEDED) ExpectOneValuePerKeyAndStep(d, id, kSteps);
  }
  d.Kill(SIGTERM);
  EXPECT_EQ(IntegrityCheck(tmp.Join("dd/ttsd.db")), "ok\n");
}

// SIGTERM with a job running: the worker checkpoints where it is, the daemon exits within the bound,
// and the next daemon continues the job from that checkpoint.
TEST(FaultTest, SigtermCheckpointsRunningJobsAndTheNextDaemonResumesThem) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("data"), 12);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"));
  ASSERT_TRUE(d.Start()) << d.log();
  Job job;
  ASSERT_TRUE(d.Submit(TinyConfig(tmp, "job", 200), &job).ok());
  const uint64_t id = job.id();
  ASSERT_TRUE(d.WaitFor(id, [](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 15; },
                        120, &job));
  auto t0 = std::chrono::steady_clock::now();
  d.Kill(SIGTERM);
  const double exit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(exit_s, 30.0);
  std::printf("daemon exited %.2f s after SIGTERM\n", exit_s);
  const std::string log = testing::RunCommand("cat " + job.job_dir() + "/train.log").output;
  EXPECT_THAT(log, HasSubstr("stopped at step"));
  ASSERT_TRUE(d.Start()) << d.log();
  ASSERT_TRUE(d.WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 180, &job)) << job.DebugString();
  EXPECT_EQ(job.restarts(), 0u);
  EXPECT_EQ(job.attempt(), 2u);
  const std::string log2 = testing::RunCommand("cat " + job.job_dir() + "/train.log").output;
  EXPECT_THAT(log2, HasSubstr("resumed from"));
  ExpectOneValuePerKeyAndStep(d, id, 200);
}

// The newest checkpoint is corrupted (bytes flipped) while the job is stopped: the resume detects it by
// its sha256, says so in the job's events, and continues from the previous one.
TEST(FaultTest, ACorruptNewestCheckpointIsReportedAndThePreviousOneUsed) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("data"), 12);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"));
  ASSERT_TRUE(d.Start()) << d.log();
  Job job;
  ASSERT_TRUE(d.Submit(TinyConfig(tmp, "job", 100000), &job).ok());
  const uint64_t id = job.id();
  ASSERT_TRUE(d.WaitFor(id, [](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 25; },
                        120, &job));
  ASSERT_TRUE(Call(d, &Stub::StopJob, id).ok());
  ASSERT_TRUE(d.WaitForState(id, ttsd::v1::JOB_STATE_STOPPED, 60, &job)) << job.DebugString();
  const std::string dir = job.job_dir() + "/checkpoints/";
  const std::string newest = dir + testing::RunCommand("head -n1 " + dir + "latest").output.substr(0, 17);
  const std::string previous = testing::RunCommand("ls " + dir + "ckpt-*.pt | sort | tail -n2 | head -n1").output;
  ASSERT_TRUE(fs::exists(newest)) << newest;
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(newest) / 2));
    f.write("\xde\xad\xbe\xef", 4);
  }
  const uint64_t before = d.Events(id).back().seq();
  ASSERT_TRUE(Call(d, &Stub::ResumeJob, id).ok());
  ASSERT_TRUE(d.WaitFor(id, [](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 5; }, 120));
  ASSERT_TRUE(Call(d, &Stub::CancelJob, id).ok());
  ASSERT_TRUE(d.WaitForState(id, ttsd::v1::JOB_STATE_CANCELLED, 60));
  std::string logs;
  for (const JobEvent& e : d.Events(id, before)) {
    if (e.has_log()) logs += e.log().text() + "\n";
  }
  EXPECT_THAT(logs, HasSubstr(fs::path(newest).filename().string() + ": sha256 mismatch"));
  EXPECT_THAT(logs, HasSubstr("resumed from " + previous.substr(0, previous.size() - 1)));
}

// A full disk under the job folders (a 24 MiB tmpfs filled up while the job trains): the job fails
// with reason DISK_FULL, the daemon keeps answering, the previous checkpoint still loads, and once space
// is freed a resume continues the curve without a gap.
TEST(FaultTest, ADiskFullFailsTheJobWithDiskFullAndItResumesOnceSpaceIsBack) {
  testing::TempDir tmp;
  const std::string jobs = tmp.Join("jobs");
  fs::create_directories(jobs);
  if (::mount("tmpfs", jobs.c_str(), "tmpfs", 0, "size=24m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN): " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{jobs};
  testing::MakeSmallCorpus(tmp.Join("data"), 12);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"), {"--jobs-dir", jobs});
  ASSERT_TRUE(d.Start()) << d.log();
  Job job;
  ASSERT_TRUE(d.Submit(TinyConfig(tmp, "job", 100000), &job).ok());
  const uint64_t id = job.id();
  ASSERT_TRUE(d.WaitFor(id, [](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 15; },
                        120, &job));
  testing::RunCommand("dd if=/dev/zero of=" + jobs + "/ballast bs=64k");  // until ENOSPC
  ASSERT_TRUE(d.WaitForState(id, ttsd::v1::JOB_STATE_FAILED, 120, &job)) << job.DebugString();
  EXPECT_EQ(job.reason(), "DISK_FULL");
  EXPECT_THAT(job.message(), HasSubstr("No space left on device"));
  EXPECT_THAT(job.message(), HasSubstr("ttsctl resume " + std::to_string(id)));
  Job again;
  EXPECT_TRUE(Call(d, &Stub::GetJob, id, &again).ok()) << "the daemon stopped answering";
  const std::string dir = job.job_dir() + "/checkpoints/";
  const std::string latest = dir + testing::RunCommand("head -n1 " + dir + "latest").output.substr(0, 17);
  testing::CommandResult loads = testing::RunCommand(std::string(TTSD_BINARY) + " model params --checkpoint " + latest);
  EXPECT_EQ(loads.code, 0) << loads.output;
  int64_t failed_at = MetricSteps(d, id)["train/loss"].back();

  fs::remove(jobs + "/ballast");
  ASSERT_TRUE(Call(d, &Stub::ResumeJob, id).ok());
  ASSERT_TRUE(d.WaitFor(id, [&](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() > failed_at + 5; },
                        120, &job)) << job.DebugString();
  ASSERT_TRUE(Call(d, &Stub::CancelJob, id).ok());
  ASSERT_TRUE(d.WaitForState(id, ttsd::v1::JOB_STATE_CANCELLED, 60));
  auto loss = MetricSteps(d, id)["train/loss"];
  for (size_t i = 0; i < loss.size(); ++i) ASSERT_EQ(loss[i], static_cast<int64_t>(i) + 1);
}

}  // namespace
}  // namespace ttsd
