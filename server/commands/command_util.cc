#include "server/commands/command_util.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "server/commands/commands.h"

namespace ttsd::server {

std::optional<core::ParsedConfig> LoadConfigOrReport(const std::string& path, int* exit_code,
                                                     const core::LoadOptions& options) {
  auto parsed = core::LoadConfigFile(path, options);
  if (!parsed.ok()) {
    *exit_code = ReportError(parsed.status());
    return std::nullopt;
  }
  return *std::move(parsed);
}

int ConfigureThreads(int flag_threads, int config_threads) {
  int n = flag_threads > 0 ? flag_threads : config_threads;
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return n;
}

int ReportError(const absl::Status& status) {
  std::fprintf(stderr, "ttsd: %s\n", std::string(status.message()).c_str());
  bool config = status.code() == absl::StatusCode::kInvalidArgument || status.code() == absl::StatusCode::kNotFound;
  return config ? kExitBadConfig : kExitFailed;
}

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/ttsd";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/ttsd";
  return "/var/lib/ttsd";
}

}  // namespace ttsd::server
