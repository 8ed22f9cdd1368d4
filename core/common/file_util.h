// Small filesystem helpers that return absl::Status with the path in every message.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ttsd::core {

absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes `contents` so that `path` is either the old file or the complete new one, never a torn
// write: temp file in the same directory, fsync, rename, fsync of the directory.
absl::Status WriteFileAtomic(const std::string& path, const std::string& contents);

// Creates `dir` and its parents; ok if it exists.
absl::Status EnsureDirectory(const std::string& dir);

// Turns `path` into an absolute one, relative to `base_dir` when it is relative.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

}  // namespace ttsd::core
