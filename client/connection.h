// How ttsctl reaches a daemon: the address (address.h), credentials (a bearer token from --token-file /
// $TTSD_TOKEN_FILE; TLS with --tls-ca / $TTSD_TLS_CA for tcp://), and what a failed call means to the
// user. Every command builds its contexts here so the token is never forgotten.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "ttsd/v1/ttsd.grpc.pb.h"

namespace ttsd::client {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;       // the job failed, or the daemon refused the command
constexpr int kExitBadInput = 2;     // a bad config or argument; nothing was changed
constexpr int kExitUnreachable = 3;  // no daemon answering

struct ConnectionOptions {
  std::string addr;        // --addr ("" = $TTSD_ADDR, else the default socket)
  std::string token_file;  // --token-file ("" = $TTSD_TOKEN_FILE)
  std::string tls_ca;      // --tls-ca ("" = $TTSD_TLS_CA); tcp:// with it uses TLS
  std::string tls_cert;    // --tls-cert ("" = $TTSD_TLS_CERT): this client's certificate, for mTLS
  std::string tls_key;     // --tls-key ("" = $TTSD_TLS_KEY): its private key
};

class Connection {
 public:
  explicit Connection(const ConnectionOptions& o);
  const std::string& addr() const { return addr_; }
  ttsd::v1::TrainingService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  // A context with the token attached; deadline_s <= 0: none (streams).
  std::unique_ptr<grpc::ClientContext> Context(double deadline_s = 30) const;
  // Prints what went wrong (one line for an unreachable daemon, saying where it looked and how to
  // start one) and returns the exit code for it.
  int Report(const grpc::Status& st) const;
  const std::string& setup_error() const { return setup_error_; }  // e.g. an unreadable token file

 private:
  std::string addr_, token_, setup_error_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ttsd::v1::TrainingService::Stub> stub_;
};

}  // namespace ttsd::client
