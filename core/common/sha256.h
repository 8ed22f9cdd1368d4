// SHA-256 (OpenSSL) for content-addressed cache keys and checkpoint verification. Not thread-safe per
// object; separate objects are independent.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ttsd::core {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  std::string HexDigest();  // finishes the hash; call once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view data);
absl::StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace ttsd::core
