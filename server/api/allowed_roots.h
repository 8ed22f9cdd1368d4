// Where a job may read and write: the daemon's --allowed-roots (default: its data dir, its jobs dir and
// its user's home). A path is inside when its canonical form (symlinks followed, `..` folded) lies under
// a root's canonical form, so neither a symlink nor `..` leads out. The daemon checks at submit; the
// worker checks again before it reads anything, which narrows the window for a symlink swapped in
// between to the seconds of start-up. Immutable after construction; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/config/train_config.h"

namespace ttsd::server::api {

class AllowedRoots {
 public:
  // An empty list allows everything (the standalone `ttsd train`).
  explicit AllowedRoots(const std::vector<std::string>& roots);

  bool Allows(const std::string& path) const;
  // "/a, /b" for messages.
  std::string Describe() const;
  bool empty() const { return roots_.empty(); }

 private:
  std::vector<std::filesystem::path> roots_;
};

// Every path the config reads or writes, and every audio file its manifest lists. PERMISSION_DENIED
// naming each field or manifest line outside the roots, where it resolves to, and what to do.
absl::Status CheckConfigPaths(const core::TrainConfig& config, const AllowedRoots& roots);

}  // namespace ttsd::server::api
