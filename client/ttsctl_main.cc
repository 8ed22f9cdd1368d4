// ttsctl: the command-line client of ttsd. Talks gRPC only; never links LibTorch.
//   ttsctl ping [--addr ADDR]     is a daemon serving at ADDR? (standard grpc.health.v1 check)
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "client/address.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUnreachable = 3;

int Ping(const std::string& addr, double timeout_s) {
  std::string target = ttsd::client::ToGrpcTarget(addr);
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status st = stub->Check(&ctx, req, &resp);
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE || st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr,
                 "ttsctl: no ttsd answering at %s (start one with `ttsd serve`, or point --addr / TTSD_ADDR "
                 "at a running daemon)\n",
                 addr.c_str());
    return kExitUnreachable;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "ttsctl: %s: %s\n", addr.c_str(), st.error_message().c_str());
    return kExitFailed;
  }
  bool serving = resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  std::printf("%s: %s\n", addr.c_str(), serving ? "SERVING" : "NOT_SERVING");
  return serving ? kExitOk : kExitFailed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ttsctl - control a ttsd training daemon"};
  app.require_subcommand(1);
  std::string addr;
  app.add_option("--addr", addr, "Daemon address: unix:///path/ttsd.sock or tcp://host:port (env TTSD_ADDR)");
  int exit_code = kExitOk;
  double timeout_s = 3.0;
  auto* ping = app.add_subcommand("ping", "Check that a daemon is serving (grpc.health.v1)");
  ping->add_option("--timeout", timeout_s, "Seconds to wait")->check(CLI::PositiveNumber);
  ping->callback([&] { exit_code = Ping(ttsd::client::ResolveAddress(addr), timeout_s); });
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
