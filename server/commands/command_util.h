// Shared plumbing for `ttsd` subcommands: config loading with the exit-code convention, thread setup.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "core/config/config_yaml.h"

namespace ttsd::server {

// Loads and validates; on failure prints every error to stderr and sets *exit_code (2 for config
// errors, 1 otherwise).
std::optional<core::ParsedConfig> LoadConfigOrReport(const std::string& path, int* exit_code,
                                                     const core::LoadOptions& options = {});

// LibTorch defaults to one intra-op thread here; use the flag, else the config, else every core.
int ConfigureThreads(int flag_threads, int config_threads);

// Prints "ttsd: <message>" to stderr and returns the exit code for the status.
int ReportError(const absl::Status& status);

// The daemon's default data dir: $XDG_DATA_HOME/ttsd, else ~/.local/share/ttsd, else /var/lib/ttsd.
std::string DefaultDataDir();

}  // namespace ttsd::server
