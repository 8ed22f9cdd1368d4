// Text -> symbol ids: the language's cleaners, normalise, phonemize (or keep characters), map through the SymbolTable, and
// optionally intersperse the blank id. Unknown symbols are reported, never silently dropped.
// Thread-safe (the phonemizer serialises espeak-ng internally).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"
#include "core/text/cleaners.h"
#include "core/text/lexicon.h"
#include "core/text/phonemizer.h"
#include "core/text/symbols.h"

namespace ttsd::core {

struct TokenizedText {
  std::string normalized;  // after normalisation (and lowercasing in characters mode)
  std::string symbols;     // what was mapped: IPA in phonemes mode, the text in characters mode
  std::vector<int> ids;    // with blanks when add_blank
  std::vector<std::string> unknown;  // symbols not in the table (distinct, in order of appearance)
};

class Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Create(const TextConfig& config, SymbolTable symbols);
  // With the symbol table the config names (SymbolTable::ForConfig).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> ForConfig(const TextConfig& config);

  // INVALID_ARGUMENT for malformed UTF-8 or espeak-ng failures; unknown symbols are listed in the
  // result (and skipped in ids) so the caller decides whether that is fatal.
  absl::StatusOr<TokenizedText> Encode(const std::string& text) const;
  const SymbolTable& symbols() const { return symbols_; }

 private:
  Tokenizer(TextConfig config, SymbolTable symbols, std::unique_ptr<Phonemizer> phonemizer,
            std::optional<Lexicon> lexicon, Cleaners cleaners)
      : config_(std::move(config)), symbols_(std::move(symbols)), phonemizer_(std::move(phonemizer)),
        lexicon_(std::move(lexicon)), cleaners_(std::move(cleaners)) {}

  TextConfig config_;
  SymbolTable symbols_;
  std::unique_ptr<Phonemizer> phonemizer_;  // null in characters mode
  std::optional<Lexicon> lexicon_;          // text.lexicon
  Cleaners cleaners_;                       // text.cleaners
};

}  // namespace ttsd::core
