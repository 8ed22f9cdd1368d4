#include "client/connection.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "client/address.h"

namespace ttsd::client {
namespace {

std::string FromEnv(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(env);
  return v ? v : "";
}

bool ReadFirstLine(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::getline(in, *out);
  while (!out->empty() && (out->back() == '\r' || out->back() == ' ' || out->back() == '\t')) out->pop_back();
  return !out->empty();
}

bool ReadAll(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

Connection::Connection(const ConnectionOptions& o) : addr_(ResolveAddress(o.addr)) {
  std::string token_file = FromEnv(o.token_file, "TTSD_TOKEN_FILE");
  if (!token_file.empty() && !ReadFirstLine(token_file, &token_)) {
    setup_error_ = "cannot read a token from " + token_file;
  }
  std::string tls_ca = FromEnv(o.tls_ca, "TTSD_TLS_CA");
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!ReadAll(tls_ca, &ssl.pem_root_certs)) setup_error_ = "cannot read the CA certificate " + tls_ca;
    // A daemon started with --tls-client-ca accepts only clients that show a certificate its CA signed.
    std::string cert = FromEnv(o.tls_cert, "TTSD_TLS_CERT"), key = FromEnv(o.tls_key, "TTSD_TLS_KEY");
    if (!cert.empty() && !ReadAll(cert, &ssl.pem_cert_chain)) setup_error_ = "cannot read the client certificate " + cert;
    if (!key.empty() && !ReadAll(key, &ssl.pem_private_key)) setup_error_ = "cannot read the client key " + key;
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);  // notice a vanished TCP peer
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);  // `watch` across a daemon restart
  channel_ = grpc::CreateCustomChannel(ToGrpcTarget(addr_), creds, args);
  stub_ = ttsd::v1::TrainingService::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Connection::Context(double deadline_s) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  if (deadline_s > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(deadline_s * 1000)));
  }
  return ctx;
}

int Connection::Report(const grpc::Status& st) const {
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE || st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr,
                 "ttsctl: no ttsd answering at %s (start one with `ttsd serve`, or point --addr / TTSD_ADDR "
                 "at a running daemon)\n",
                 addr_.c_str());
    return kExitUnreachable;
  }
  std::fprintf(stderr, "ttsctl: %s\n", st.error_message().c_str());
  if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) return kExitBadInput;
  return kExitFailed;
}

}  // namespace ttsd::client
