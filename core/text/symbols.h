// The symbol table: the ordered list of symbols (one Unicode code point each) a model's embedding is
// indexed by. It is an explicit artefact: saved as JSON beside features and inside every checkpoint, so
// a voice's ids never silently change. Id 0 is the pad symbol "_", also used as the add_blank blank
// (as VITS and piper do). Immutable after construction; thread-safe to share.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"

namespace ttsd::core {

class SymbolTable {
 public:
  static constexpr int kPadId = 0;

  // The built-in inventory for text.mode: punctuation + letters (characters) or IPA (phonemes).
  static SymbolTable Default(const TextConfig& config);
  // `symbols` must start with the pad symbol "_" and hold no duplicates.
  static absl::StatusOr<SymbolTable> FromList(std::vector<std::string> symbols);
  static absl::StatusOr<SymbolTable> FromJson(const std::string& json);  // {"symbols": [...]}
  static absl::StatusOr<SymbolTable> Load(const std::string& path);       // JSON file
  // The table the config asks for: text.symbols_file if set, else Default().
  static absl::StatusOr<SymbolTable> ForConfig(const TextConfig& config);

  std::string ToJson() const;
  int Id(std::string_view symbol) const;  // -1 when not in the table
  const std::string& Symbol(int id) const { return symbols_[id]; }
  int size() const { return static_cast<int>(symbols_.size()); }
  const std::vector<std::string>& symbols() const { return symbols_; }

 private:
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int> ids_;
};

}  // namespace ttsd::core
