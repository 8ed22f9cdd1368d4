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

Authorizer::Authorizer(std::string token) : shared_(std::make_shared<Shared>()) { SetToken(std::move(token)); }

void Authorizer::SetToken(std::string token) {
  absl::MutexLock lock(&shared_->mu);
  shared_->token = std::move(token);
}

std::string Authorizer::Presented(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  std::string value(it->second.data(), it->second.size());
  static constexpr char kBearer[] = "Bearer ";
  return value.rfind(kBearer, 0) == 0 ? value.substr(sizeof(kBearer) - 1) : "";
}

bool Authorizer::Accepts(const std::string& presented) const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->token.empty() || ConstantTimeEquals(presented, shared_->token);
}

grpc::Status Authorizer::Check(const grpc::ServerContextBase& ctx) const {
  if (Accepts(Presented(ctx))) return grpc::Status::OK;
  if (ctx.client_metadata().count("authorization") == 0) {
    return {grpc::StatusCode::UNAUTHENTICATED, "this daemon needs a token: pass --token-file (or TTSD_TOKEN_FILE)"};
  }
  return {grpc::StatusCode::UNAUTHENTICATED, "wrong token"};
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
