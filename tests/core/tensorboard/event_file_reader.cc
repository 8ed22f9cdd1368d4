#include "tests/core/tensorboard/event_file_reader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/tensorboard/crc32c.h"

namespace ttsd::testing {
namespace {

uint64_t LittleEndian(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

}  // namespace

EventFile ReadEventFile(const std::string& path) {
  using core::tensorboard::Crc32c;
  using core::tensorboard::MaskCrc;
  EventFile out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.error = "cannot open " + path;
    return out;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 12) {
      out.truncated_tail = true;
      break;
    }
    const uint64_t length = LittleEndian(bytes, at, 8);
    if (LittleEndian(bytes, at + 8, 4) != MaskCrc(Crc32c(bytes.data() + at, 8))) {
      out.error = "length CRC mismatch at byte " + std::to_string(at);
      return out;
    }
    if (bytes.size() - at - 12 < length + 4) {
      out.truncated_tail = true;
      break;
    }
    const std::string data = bytes.substr(at + 12, length);
    if (LittleEndian(bytes, at + 12 + length, 4) != MaskCrc(Crc32c(data.data(), data.size()))) {
      out.error = "data CRC mismatch at byte " + std::to_string(at);
      return out;
    }
    ttsd::tensorboard::Event e;
    if (!e.ParseFromString(data)) {
      out.error = "undecodable Event at byte " + std::to_string(at);
      return out;
    }
    out.events.push_back(std::move(e));
    at += 12 + length + 4;
  }
  return out;
}

std::vector<std::string> EventFilesIn(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace ttsd::testing
