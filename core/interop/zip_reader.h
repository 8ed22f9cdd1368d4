// A read-only ZIP archive (PKWARE APPNOTE): the container of PyTorch's torch.save files (a pickle plus
// one record per tensor storage). Reads the central directory once; entries are read on demand, so a
// checkpoint of gigabytes is never held whole. Stored and deflated entries, ZIP64 sizes and offsets.
// Not thread-safe (one file position); open one reader per thread.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::core::interop {

class ZipReader {
 public:
  struct Entry {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflated
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0, size = 0;
    uint64_t local_header_offset = 0;
  };

  // INVALID_ARGUMENT when the file is not a ZIP archive or its directory is cut short (a truncated
  // download or copy); NOT_FOUND when it does not exist.
  static absl::StatusOr<std::unique_ptr<ZipReader>> Open(const std::string& path);

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* Find(const std::string& name) const;  // null when absent
  // The entry's bytes, CRC-checked. DATA_LOSS when the data is cut short or does not match its CRC.
  absl::StatusOr<std::string> Read(const Entry& entry);
  absl::StatusOr<std::string> Read(const std::string& name);
  const std::string& path() const { return path_; }

 private:
  ZipReader() = default;
  absl::Status ReadDirectory();

  std::string path_;
  std::ifstream file_;
  uint64_t file_size_ = 0;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

}  // namespace ttsd::core::interop
