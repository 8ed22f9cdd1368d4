// Bearer-token check for TCP listeners: every call carries `authorization: Bearer <token>` metadata,
// compared in constant time. On the default unix socket (mode 0600) the filesystem is the check and no
// token is needed.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

namespace ttsd::server::api {

class Authorizer {
 public:
  explicit Authorizer(std::string token) : token_(std::move(token)) {}  // "" = no token required
  // OK, or UNAUTHENTICATED saying what is missing.
  grpc::Status Check(const grpc::ServerContextBase& ctx) const;

 private:
  std::string token_;
};

// Equal strings in time that depends only on their lengths, not on where they first differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

// Reads a token file: the first line, without surrounding whitespace. Refuses an empty token.
bool ReadTokenFile(const std::string& path, std::string* token, std::string* error);

}  // namespace ttsd::server::api
