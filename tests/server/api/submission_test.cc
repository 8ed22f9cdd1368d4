#include "server/api/submission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/testing/temp_dir.h"

namespace ttsd::server::api {
namespace {

using ::testing::HasSubstr;

TEST(CheckSubmissionTest, ResolvesAgainstTheConfigFolderAndReportsEveryProblem) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("voice"), 2);
  auto ok = CheckSubmission("data:\n  path: voice\nmodel:\n  preset: tiny\n", tmp.path());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->config.data.path, tmp.Join("voice"));

  auto bad = CheckSubmission("data:\n  path: nowhere\nmodel:\n  preset: huge\ntraining:\n  max_stpes: 1\n", tmp.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("<submitted config>:6:3: training.max_stpes: unknown key"));

  EXPECT_THAT(std::string(CheckSubmission("data:\n  path: voice\n", "relative/dir").status().message()),
              HasSubstr("must be an absolute folder"));
  EXPECT_THAT(std::string(CheckSubmission(std::string(kMaxConfigBytes + 1, '#'), tmp.path()).status().message()),
              HasSubstr("the limit is"));
}

TEST(ResolveDevicesTest, DevicesAndTheConfigsWorldSizeMustAgree) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("voice"), 2);
  auto plain = *CheckSubmission("data:\n  path: voice\nmodel:\n  preset: tiny\nbatch:\n  size: 4\n", tmp.path());
  auto two = *CheckSubmission("data:\n  path: voice\nmodel:\n  preset: tiny\nbatch:\n  size: 4\n"
                              "distributed:\n  world_size: 2\n", tmp.path());
  auto p = plain;
  EXPECT_EQ(*ResolveDevices(0, &p), 1);  // neither says: one device
  EXPECT_EQ(*ResolveDevices(3, &p), 3);  // --devices alone sets the world size
  EXPECT_EQ(p.config.distributed.world_size, 3);
  auto t = two;
  EXPECT_EQ(*ResolveDevices(0, &t), 2);  // the config alone
  EXPECT_EQ(*ResolveDevices(2, &t), 2);
  t = two;
  EXPECT_THAT(std::string(ResolveDevices(1, &t).status().message()), HasSubstr("--devices 1 contradicts"));
  p = plain;
  auto too_many = ResolveDevices(5, &p);  // 5 ranks cannot share a batch of 4
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_many.status().message()), HasSubstr("with --devices 5"));
  EXPECT_THAT(std::string(too_many.status().message()), HasSubstr("batch.size"));
}

TEST(CheckSubmissionTest, ADatasetTheDaemonCannotReadIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("voice"), 2);
  ::chmod(tmp.Join("voice").c_str(), 0300);
  auto r = CheckSubmission("data:\n  path: voice\n", tmp.path());
  ::chmod(tmp.Join("voice").c_str(), 0700);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("the daemon cannot read"));
}

}  // namespace
}  // namespace ttsd::server::api
