#include "server/api/submission.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace ttsd::server::api {

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
  auto parsed = core::LoadConfigText(config_yaml, "<submitted config>", config_dir);
  if (!parsed.ok()) return parsed.status();
  const std::string& data = parsed->config.data.path;
  if (::access(data.c_str(), R_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("data.path: the daemon cannot read ", data,
                                                   " (check the folder's permissions for the daemon's user)"));
  }
  return parsed;
}

}  // namespace ttsd::server::api
