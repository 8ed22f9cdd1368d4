// The fixture of the daemon's end-to-end tests: a real `ttsd serve` on a temporary unix socket and data
// dir over a small real corpus, and the tiny-model job configs they submit.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/testing/command.h"
#include "tests/testing/daemon.h"
#include "tests/testing/temp_dir.h"

namespace ttsd {

using ttsd::v1::Job;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeSmallCorpus(tmp_.Join("data"), 12);
    daemon_ = std::make_unique<testing::TestDaemon>(TTSD_BINARY, tmp_.Join("dd"));
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  }

  // A tiny-model job of `steps` steps: validation every 10 (speaking `samples` sentences), checkpoint
  // every `ckpt` steps.
  std::string Config(int steps, int ckpt = 10, const std::string& extra = "", int samples = 2) {
    return testing::WriteConfig(
        tmp_.path(), "seed: 5\nthreads: 1\ndata:\n  path: data\n  validation:\n    count: 2\ntext:\n  mode: characters\n"
                     "batch:\n  size: 2\nmodel:\n  preset: tiny\ntraining:\n  max_steps: " + std::to_string(steps) +
                     "\n  warmup_steps: 20\n  log_interval: 1\n" + extra + "validation:\n  interval_steps: 10\n  samples: " +
                     std::to_string(samples) + "\n"
                     "checkpoint:\n  interval_steps: " + std::to_string(ckpt) + "\n  keep_last: 2\n");
  }

  uint64_t SubmitOk(const std::string& config) {
    Job job;
    grpc::Status st = daemon_->Submit(config, &job);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return job.id();
  }

  std::string Ctl(const std::string& args) {
    return std::string(TTSCTL_BINARY) + " --addr " + daemon_->addr() + " " + args;
  }

  grpc::Status Command(grpc::Status (ttsd::v1::TrainingService::Stub::*rpc)(grpc::ClientContext*,
                                                                             const ttsd::v1::JobRef&, Job*),
                       uint64_t id, Job* out = nullptr) {
    grpc::ClientContext ctx;
    ttsd::v1::JobRef ref;
    ref.set_job_id(id);
    Job job;
    grpc::Status st = (daemon_->stub().*rpc)(&ctx, ref, &job);
    if (out) *out = job;
    return st;
  }

  // One metric's (step, value) points as GetMetrics returns them, in order.
  std::vector<std::pair<int64_t, double>> Metric(uint64_t id, const std::string& key) {
    grpc::ClientContext ctx;
    ttsd::v1::GetMetricsRequest req;
    req.set_job_id(id);
    req.add_keys(key);
    ttsd::v1::GetMetricsResponse resp;
    EXPECT_TRUE(daemon_->stub().GetMetrics(&ctx, req, &resp).ok());
    std::vector<std::pair<int64_t, double>> points;
    for (const auto& s : resp.series()) {
      for (const auto& p : s.points()) points.emplace_back(p.step(), p.value());
    }
    return points;
  }

  // train/loss steps as GetMetrics returns them.
  std::vector<int64_t> LossSteps(uint64_t id) {
    std::vector<int64_t> steps;
    for (const auto& [step, value] : Metric(id, "train/loss")) steps.push_back(step);
    return steps;
  }

  bool Running(const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 15; }

  testing::TempDir tmp_;
  std::unique_ptr<testing::TestDaemon> daemon_;
};

}  // namespace ttsd
