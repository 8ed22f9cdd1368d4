#include "server/api/submission.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/config/validate.h"

namespace ttsd::server::api {
namespace {

constexpr char kSubmittedConfig[] = "<submitted config>";

}  // namespace

absl::StatusOr<core::ParsedConfig> CheckSubmission(const std::string& config_yaml, const std::string& config_dir) {
  if (config_yaml.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the config is ", config_yaml.size(), " bytes; the limit is ",
                                                   kMaxConfigBytes, " (a config is settings, not data)"));
  }
  std::error_code ec;
  if (config_dir.empty() || !std::filesystem::path(config_dir).is_absolute() ||
      !std::filesystem::is_directory(config_dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("config_dir '", config_dir,
                                                   "' must be an absolute folder on the daemon's machine (relative "
                                                   "paths in the config resolve against it)"));
  }
  auto parsed = core::LoadConfigText(config_yaml, kSubmittedConfig, config_dir);
  if (!parsed.ok()) return parsed.status();
  const std::string& data = parsed->config.data.path;
  if (::access(data.c_str(), R_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("data.path: the daemon cannot read ", data,
                                                   " (check the folder's permissions for the daemon's user)"));
  }
  return parsed;
}

absl::StatusOr<int64_t> ResolveDevices(int64_t requested, core::ParsedConfig* parsed) {
  int& world = parsed->config.distributed.world_size;
  if (requested == 0 || requested == world) return world;
  if (requested < 0 || requested > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("devices: ", requested, " is outside 1..4096"));
  }
  if (world != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--devices ", requested, " contradicts the config's "
                                                   "distributed.world_size: ", world, "; drop one, or make them equal"));
  }
  world = static_cast<int>(requested);
  if (auto st = core::ValidateConfig(parsed->config, parsed->marks, kSubmittedConfig); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("with --devices ", requested, " (", requested,
                                                   " data-parallel ranks): ", st.message()));
  }
  return requested;
}

}  // namespace ttsd::server::api
