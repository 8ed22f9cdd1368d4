// The real `ttsctl` binary against a real gRPC server on a temporary unix socket.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>


#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/command.h"
#include "tests/testing/temp_dir.h"

namespace ttsd {
namespace {

using ::testing::HasSubstr;
using Result = testing::CommandResult;


// The standard health protocol, answered by a real in-process gRPC server (the daemon serves the same).
class ServingHealth final : public grpc::health::v1::Health::CallbackService {
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const grpc::health::v1::HealthCheckRequest*,
                                  grpc::health::v1::HealthCheckResponse* resp) override {
    resp->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

TEST(TtsctlTest, PingAnswersServingFromARealServer) {
  testing::TempDir tmp;
  std::string addr = "unix://" + tmp.Join("ttsd.sock");
  ServingHealth health;
  grpc::ServerBuilder builder;
  builder.RegisterService(&health);
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  Result r = testing::RunCommand(std::string(TTSCTL_BINARY) + " --addr " + addr + " ping");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("SERVING"));
  server->Shutdown();
}

TEST(TtsctlTest, UnreachableDaemonIsOneClearLine) {
  testing::TempDir tmp;
  Result r = testing::RunCommand("TTSD_ADDR=unix://" + tmp.Join("none.sock") + " " + TTSCTL_BINARY + " ping --timeout 1");
  EXPECT_EQ(r.code, 3);
  EXPECT_THAT(r.output, HasSubstr("no ttsd answering at unix://" + tmp.Join("none.sock")));
  EXPECT_THAT(r.output, HasSubstr("ttsd serve"));
}

TEST(TtsctlTest, DoesNotLinkLibTorch) {
  Result r = testing::RunCommand(std::string("ldd ") + TTSCTL_BINARY);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("libgrpc++"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("libtorch")));
}

}  // namespace
}  // namespace ttsd
