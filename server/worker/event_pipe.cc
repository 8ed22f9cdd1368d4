#include "server/worker/event_pipe.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ttsd::server::worker {
namespace {

constexpr size_t kMaxMessageBytes = 64 << 20;  // an audio sample is ~1 MB; anything this big is corruption

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace

absl::Status WriteDelimited(int fd, const google::protobuf::MessageLite& message) {
  std::string bytes;
  AppendVarint(message.ByteSizeLong(), &bytes);
  if (!message.AppendToString(&bytes)) return absl::InternalError("cannot serialise event");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EPIPE) return absl::UnavailableError("event pipe closed: the daemon is gone");
      return absl::InternalError(absl::StrCat("event pipe write: ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> DelimitedReader::Fill(size_t want) {
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  }
  char chunk[65536];
  while (buffer_.size() - pos_ < want) {
    ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("event pipe read: ", std::strerror(errno)));
    if (n == 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

absl::StatusOr<std::optional<std::string>> DelimitedReader::Next() {
  uint64_t size = 0;
  for (int shift = 0;; shift += 7) {
    auto more = Fill(1);
    if (!more.ok()) return more.status();
    if (!*more) {
      if (shift == 0) return std::optional<std::string>();  // clean end between messages
      return absl::DataLossError("event pipe ended inside a message header");
    }
    const auto byte = static_cast<uint8_t>(buffer_[pos_++]);
    size |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
    if (shift > 56) return absl::DataLossError("event pipe: bad message header");
  }
  if (size > kMaxMessageBytes) return absl::DataLossError(absl::StrCat("event pipe: message of ", size, " bytes"));
  auto full = Fill(size);
  if (!full.ok()) return full.status();
  if (!*full) return absl::DataLossError("event pipe ended inside a message (the worker died mid-write)");
  std::string out = buffer_.substr(pos_, size);
  pos_ += size;
  return std::optional<std::string>(std::move(out));
}

}  // namespace ttsd::server::worker
