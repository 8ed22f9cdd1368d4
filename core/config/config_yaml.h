// YAML <-> TrainConfig. Parsing reports every unknown key, wrong type and syntax error with its
// line:col and field path, all at once; it does not range-check (validate.h does).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"

namespace ttsd::core {

struct ParsedConfig {
  TrainConfig config;
  SourceMap marks;
};

// `source` names the text in messages (a file path, or "<submitted config>").
absl::StatusOr<ParsedConfig> ParseConfigYaml(const std::string& yaml, const std::string& source);

// The resolved config: every field, defaults included, in Visit() order.
std::string EmitConfigYaml(const TrainConfig& config);

struct LoadOptions {
  // For `ttsd data symbols`, which writes the table the config names: a text.symbols_file that does not
  // exist yet is not an error.
  bool symbols_file_may_be_missing = false;
};

// Reads, parses and validates `path`; relative paths inside it are resolved against its folder.
// Errors are INVALID_ARGUMENT listing every problem (NOT_FOUND if the file itself is missing).
absl::StatusOr<ParsedConfig> LoadConfigFile(const std::string& path, const LoadOptions& options = {});

// The same for config text that came without its file (a daemon submission): relative paths resolve
// against `base_dir`; `source` names it in messages.
absl::StatusOr<ParsedConfig> LoadConfigText(const std::string& yaml, const std::string& source,
                                            const std::string& base_dir, const LoadOptions& options = {});

}  // namespace ttsd::core
