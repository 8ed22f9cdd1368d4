// The one place absl::Status and grpc::Status meet (the service handlers and ttsctl use it). The code
// numbers are the same in both (OK = 0 ... UNAUTHENTICATED = 16); long messages are cut so a status never
// outgrows gRPC's header limits.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace ttsd::server::api {

inline constexpr size_t kMaxStatusMessageBytes = 4096;

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace ttsd::server::api
