// Length-delimited protobuf messages over a pipe: the worker -> daemon event channel. Each message is a
// varint byte count followed by the message bytes (protobuf's delimited format).
#pragma once

#include <google/protobuf/message_lite.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace ttsd::server::worker {

// Writes one message to `fd` whole (retrying short writes and EINTR). Fails with UNAVAILABLE when the
// reader has gone (EPIPE; the caller should ignore SIGPIPE).
absl::Status WriteDelimited(int fd, const google::protobuf::MessageLite& message);

// Reads messages from `fd` (blocking). Not thread-safe; one reader per fd.
class DelimitedReader {
 public:
  explicit DelimitedReader(int fd) : fd_(fd) {}
  // The next message's bytes, nullopt at a clean end of stream, or an error for a torn or oversized one.
  absl::StatusOr<std::optional<std::string>> Next();

 private:
  absl::StatusOr<bool> Fill(size_t want);  // false at EOF before `want` bytes
  int fd_;
  std::string buffer_;
  size_t pos_ = 0;
};

}  // namespace ttsd::server::worker
