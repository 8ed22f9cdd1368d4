// Collects every problem found in a config so the user sees them all at once.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/config/train_config.h"

namespace ttsd::core {

struct FieldError {
  std::string path;  // "data.validation.fraction"; empty for whole-document errors
  SourceMark mark;   // 0 when unknown (a default value, not in the file)
  std::string message;
};

class ConfigErrors {
 public:
  ConfigErrors(std::string source, const SourceMap* marks) : source_(std::move(source)), marks_(marks) {}

  void Add(const std::string& path, std::string message);  // looks the mark up in the source map
  void AddAt(const std::string& path, SourceMark mark, std::string message);
  bool empty() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }

  // "config.yaml:12:3: data.path: ... " one per line, as INVALID_ARGUMENT; OK when empty.
  absl::Status ToStatus() const;

 private:
  std::string source_;
  const SourceMap* marks_;
  std::vector<FieldError> errors_;
};

}  // namespace ttsd::core
