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
