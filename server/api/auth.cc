#include "server/api/auth.h"

#include <fstream>

#include "absl/strings/ascii.h"

namespace ttsd::server::api {

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  // Every byte of the longer string is visited whatever the contents; a length mismatch is folded in.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

grpc::Status Authorizer::Check(const grpc::ServerContextBase& ctx) const {
  if (token_.empty()) return grpc::Status::OK;
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return {grpc::StatusCode::UNAUTHENTICATED, "this daemon needs a token: pass --token-file (or TTSD_TOKEN_FILE)"};
  }
  std::string value(it->second.data(), it->second.size());
  static constexpr char kBearer[] = "Bearer ";
  std::string given = value.rfind(kBearer, 0) == 0 ? value.substr(sizeof(kBearer) - 1) : "";
  if (!ConstantTimeEquals(given, token_)) return {grpc::StatusCode::UNAUTHENTICATED, "wrong token"};
  return grpc::Status::OK;
}

bool ReadTokenFile(const std::string& path, std::string* token, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read the token file " + path;
    return false;
  }
  std::string line;
  std::getline(in, line);
  *token = std::string(absl::StripAsciiWhitespace(line));
  if (token->empty()) {
    *error = "the token file " + path + " is empty";
    return false;
  }
  return true;
}

}  // namespace ttsd::server::api
