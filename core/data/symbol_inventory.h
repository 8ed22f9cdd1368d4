// The symbols a dataset's text really uses, counted: what `ttsd data symbols` prints, and the symbol
// table it writes for text.symbols_file. For a language the built-in inventory does not cover (Yoruba,
// Vietnamese, ...), the table comes from the data: every symbol the transcripts (and the config's
// validation sentences) turn into under the config's text settings, with the rare ones flagged, since a
// symbol seen twice in hours of audio is more often a typo than a sound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"
#include "core/text/symbols.h"
#include "core/text/tokenizer.h"

namespace ttsd::core {

struct SymbolCount {
  std::string symbol;      // one code point
  int64_t count = 0;
  std::string first_seen;  // "metadata.csv:17", or "validation.sentences[0]"
};

struct SymbolInventory {
  std::vector<SymbolCount> symbols;  // most frequent first; ties by code point
  int64_t total = 0;
  size_t texts = 0;                  // transcripts and sentences read
  std::vector<std::string> failures; // "metadata.csv:9: text is not valid UTF-8 ..."
};

// Reads the manifest's transcripts and the validation sentences through `tokenizer` (its normalisation,
// case and punctuation rules; in phonemes mode, espeak-ng's IPA). The pad symbol "_" is not counted.
absl::StatusOr<SymbolInventory> CountSymbols(const TrainConfig& config, const Tokenizer& tokenizer);

// A table of the pad symbol and every counted symbol, in code point order (so the same data always
// gives the same ids).
absl::StatusOr<SymbolTable> TableFrom(const SymbolInventory& inventory);

}  // namespace ttsd::core
