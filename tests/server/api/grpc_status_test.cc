#include <gtest/gtest.h>

#include "server/api/grpc_status.h"

namespace ttsd::server::api {
namespace {

TEST(GrpcStatusTest, EveryCodeKeepsItsNumberAndMessageBothWays) {
  for (int code = 0; code <= 16; ++code) {
    absl::Status s(static_cast<absl::StatusCode>(code), code == 0 ? "" : "job 7 is RUNNING");
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    EXPECT_EQ(FromGrpcStatus(g), s);
  }
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("x")).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(GrpcStatusTest, LongMessagesAreCutAndSaySo) {
  grpc::Status g = ToGrpcStatus(absl::InvalidArgumentError(std::string(100000, 'e')));
  EXPECT_EQ(g.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_NE(g.error_message().find("(truncated)"), std::string::npos);
}

}  // namespace
}  // namespace ttsd::server::api
