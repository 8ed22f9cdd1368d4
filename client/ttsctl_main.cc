// ttsctl: the command-line client of ttsd. Talks gRPC only; never links LibTorch.
//   ttsctl [--addr ADDR] [--token-file F] [--tls-ca F [--tls-cert C --tls-key K]] [--output text|json] COMMAND
//   submit CONFIG [--watch] | watch JOB | list | status JOB | stop JOB | resume JOB | cancel JOB
//   logs JOB [-f] | checkpoints JOB | metrics JOB [--key K] | ping
// Exit codes: 0 ok, 1 failed (or the job did not succeed), 2 bad input, 3 no daemon answering.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "client/connection.h"
#include "client/commands.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

using ttsd::client::kExitFailed;
using ttsd::client::kExitOk;

int Ping(const ttsd::client::ConnectionOptions& o, double timeout_s) {
  ttsd::client::Connection conn(o);  // the same channel and credentials as every other command
  auto stub = grpc::health::v1::Health::NewStub(conn.channel());
  auto ctx = conn.Context(timeout_s);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status st = stub->Check(ctx.get(), req, &resp);
  if (!st.ok()) return conn.Report(st);
  bool serving = resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  std::printf("%s: %s\n", conn.addr().c_str(), serving ? "SERVING" : "NOT_SERVING");
  return serving ? kExitOk : kExitFailed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ttsctl - control a ttsd training daemon"};
  app.require_subcommand(1);
  ttsd::client::Globals g;
  app.add_option("--addr", g.conn.addr, "Daemon address: unix:///path/ttsd.sock or tcp://host:port (env TTSD_ADDR)");
  app.add_option("--token-file", g.conn.token_file, "File holding the daemon's bearer token (env TTSD_TOKEN_FILE)");
  app.add_option("--tls-ca", g.conn.tls_ca, "CA certificate to verify a TLS daemon (env TTSD_TLS_CA)");
  app.add_option("--tls-cert", g.conn.tls_cert, "Client certificate, for a daemon that requires one (env TTSD_TLS_CERT)");
  app.add_option("--tls-key", g.conn.tls_key, "The client certificate's private key (env TTSD_TLS_KEY)");
  app.add_option("--output", g.output, "text or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  double timeout_s = 3.0;
  auto* ping = app.add_subcommand("ping", "Check that a daemon is serving (grpc.health.v1)");
  ping->add_option("--timeout", timeout_s, "Seconds to wait")->check(CLI::PositiveNumber);
  ping->callback([&] { g.exit_code = Ping(g.conn, timeout_s); });
  ttsd::client::RegisterJobCommands(app, &g);
  ttsd::client::RegisterArtifactCommands(app, &g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : ttsd::client::kExitBadInput;
  }
  return g.exit_code;
}
