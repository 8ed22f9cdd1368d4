#include "core/config/config_errors.h"

#include "absl/strings/str_cat.h"

namespace ttsd::core {

void ConfigErrors::Add(const std::string& path, std::string message) {
  SourceMark mark;
  if (marks_ != nullptr) {
    // A default value has no mark; point at the nearest enclosing section that was written.
    for (std::string p = path; !p.empty();) {
      auto it = marks_->find(p);
      if (it != marks_->end()) {
        mark = it->second;
        break;
      }
      size_t dot = p.rfind('.');
      p = dot == std::string::npos ? "" : p.substr(0, dot);
    }
  }
  AddAt(path, mark, std::move(message));
}

void ConfigErrors::AddAt(const std::string& path, SourceMark mark, std::string message) {
  errors_.push_back({path, mark, std::move(message)});
}

absl::Status ConfigErrors::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  std::string msg = absl::StrCat(errors_.size(), errors_.size() == 1 ? " error" : " errors", " in ",
                                 source_, ":");
  for (const auto& e : errors_) {
    absl::StrAppend(&msg, "\n  ", source_);
    if (e.mark.line > 0) absl::StrAppend(&msg, ":", e.mark.line, ":", e.mark.column);
    absl::StrAppend(&msg, ": ", e.path.empty() ? "" : e.path + ": ", e.message);
  }
  return absl::InvalidArgumentError(msg);
}

}  // namespace ttsd::core
