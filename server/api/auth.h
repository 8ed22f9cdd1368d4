// Bearer-token check for TCP listeners: every call carries `authorization: Bearer <token>` metadata,
// compared in constant time. On the default unix socket (mode 0600) the filesystem is the check and no
// token is needed.
#pragma once

#include <grpcpp/server_context.h>

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"

namespace ttsd::server::api {

// Copies share one token, which SetToken replaces (SIGHUP re-reads the token file).
class Authorizer {
 public:
  explicit Authorizer(std::string token);  // "" = no token required
  // OK, or UNAUTHENTICATED saying what is missing.
  grpc::Status Check(const grpc::ServerContextBase& ctx) const;
  // The token a call presented ("" if none), to check again later with Accepts().
  static std::string Presented(const grpc::ServerContextBase& ctx);
  bool Accepts(const std::string& presented) const;
  void SetToken(std::string token);

 private:
  struct Shared {
    absl::Mutex mu;
    std::string token ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<Shared> shared_;
};

// Equal strings in time that depends only on their lengths, not on where they first differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

// Reads a token file: the first line, without surrounding whitespace. Refuses an empty token.
bool ReadTokenFile(const std::string& path, std::string* token, std::string* error);

}  // namespace ttsd::server::api
