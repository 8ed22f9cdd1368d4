// Data-parallel jobs in the daemon: a job on N devices runs as N worker ranks (here N processes sharing
// the CPU over Gloo on loopback) that start, stop, resume, crash and end as one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "tests/server/daemon_fixture.h"

namespace ttsd {
namespace {

using ::testing::HasSubstr;

constexpr char kTwoRanks[] = "distributed:\n  world_size: 2\n";

bool Alive(int64_t pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every step's loss once and in order: rank 0 alone reports, and a restart archived what it undid.
void ExpectEveryStepOnce(const std::vector<int64_t>& steps, size_t count) {
  ASSERT_EQ(steps.size(), count);
  for (size_t i = 0; i < steps.size(); ++i) ASSERT_EQ(steps[i], static_cast<int64_t>(i) + 1);
}

TEST_F(DaemonTest, ADataParallelJobRunsTwoRanksThatStopAndResumeTogether) {
  uint64_t id = SubmitOk(Config(3000, 1000, kTwoRanks));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j) && j.rank_pids_size() == 2; }, 180, &job))
      << job.DebugString();
  EXPECT_EQ(job.devices(), 2u);
  const std::vector<int64_t> first(job.rank_pids().begin(), job.rank_pids().end());
  EXPECT_EQ(first[0], job.worker_pid());
  for (int64_t pid : first) EXPECT_TRUE(Alive(pid)) << pid;
  testing::CommandResult status = testing::RunCommand(Ctl("status " + std::to_string(id)));
  EXPECT_THAT(status.output, HasSubstr("2 data-parallel (worker pids " + std::to_string(first[0])));

  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::StopJob, id, &job).ok());
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_STOPPED, 90, &job)) << job.DebugString();
  EXPECT_THAT(job.message(), HasSubstr("checkpoint at step"));
  for (int64_t pid : first) EXPECT_FALSE(Alive(pid)) << "rank pid " << pid << " outlived the stop";
  std::vector<int64_t> before = LossSteps(id);
  ASSERT_FALSE(before.empty());
  const int64_t stop_step = before.back();

  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::ResumeJob, id, &job).ok());
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j) && j.step() > stop_step + 3 && j.rank_pids_size() == 2; },
                               180, &job))
      << job.DebugString();
  const std::vector<int64_t> second(job.rank_pids().begin(), job.rank_pids().end());
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::CancelJob, id, &job).ok());
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_CANCELLED, 90, &job));
  for (int64_t pid : second) {
    EXPECT_EQ(::kill(-static_cast<pid_t>(pid), 0), -1) << "rank group " << pid << " survived the cancel";
  }
  std::vector<int64_t> steps = LossSteps(id);
  ExpectEveryStepOnce(steps, steps.size());
  EXPECT_GT(steps.size(), before.size());
  EXPECT_EQ(job.attempt(), 2u);
  EXPECT_EQ(job.restarts(), 0u);
  // Rank 1 logged into the job's worker.log, resumed with rank 0 from the stop step's checkpoint.
  const std::string log = ReadAll(job.job_dir() + "/worker.log");
  EXPECT_THAT(log, HasSubstr("[rank 1] ttsd train"));
  EXPECT_THAT(log, HasSubstr("[rank 1] resumed from"));
}

TEST_F(DaemonTest, KillingOneRankRestartsTheWholeJobFromItsCheckpoint) {
  uint64_t id = SubmitOk(Config(60, 10, kTwoRanks));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j) && j.step() >= 25 && j.rank_pids_size() == 2; },
                               180, &job))
      << job.DebugString();
  const int64_t rank0 = job.rank_pids(0);
  ASSERT_EQ(::kill(static_cast<pid_t>(job.rank_pids(1)), SIGKILL), 0);
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 240, &job)) << job.DebugString();
  EXPECT_FALSE(Alive(rank0)) << "rank 0 of the broken attempt was left running";
  EXPECT_EQ(job.restarts(), 1u);
  EXPECT_EQ(job.attempt(), 2u);
  ExpectEveryStepOnce(LossSteps(id), 60);
  std::string restart;
  for (const auto& e : daemon_->Events(id)) {
    if (e.has_state() && e.state().state() == ttsd::v1::JOB_STATE_RESTARTING) restart = e.state().message();
  }
  EXPECT_THAT(restart, HasSubstr("rank 1: killed by signal 9"));
}

TEST_F(DaemonTest, DevicesSetsTheWorldSizeAndAContradictionOrATooSmallBatchIsRefused) {
  auto submit = [&](const std::string& config, uint32_t devices, ttsd::v1::SubmitJobResponse* resp) {
    ttsd::v1::SubmitJobRequest req;
    req.set_config_yaml(ReadAll(config));
    req.set_config_dir(tmp_.path());
    req.set_devices(devices);
    req.set_validate_only(true);
    grpc::ClientContext ctx;
    return daemon_->stub().SubmitJob(&ctx, req, resp);
  };
  ttsd::v1::SubmitJobResponse resp;
  ASSERT_TRUE(submit(Config(10), 2, &resp).ok());
  EXPECT_THAT(resp.resolved_config_yaml(), HasSubstr("world_size: 2"));
  grpc::Status st = submit(Config(10, 10, kTwoRanks), 3, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("--devices 3 contradicts the config's distributed.world_size: 2"));
  st = submit(Config(10), 4, &resp);  // batch.size 2
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("batch.size"));
  EXPECT_THAT(st.error_message(), HasSubstr("each rank needs at least one utterance"));
  // ttsctl's --devices reaches the daemon the same way.
  testing::CommandResult r = testing::RunCommand(Ctl("submit " + Config(10) + " --devices 4"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("batch.size"));
}

}  // namespace
}  // namespace ttsd
