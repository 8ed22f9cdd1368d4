// A user lexicon: word -> pronunciation, for words the frontend gets wrong (names, loanwords) or, in a
// language espeak-ng cannot speak, for every word a user has a pronunciation for. The file (UTF-8) has
// one entry a line: the word, white space, then the pronunciation (the rest of the line): IPA in
// phonemes mode, a spelling in the voice's own symbols in characters mode. '#' starts a comment line.
// Words match after the text settings' normalisation form and case rules, so "Ọ̀rẹ́" and "ọ̀rẹ́" are one
// entry. Immutable after Load; thread-safe to share.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"

namespace ttsd::core {

class Lexicon {
 public:
  // Errors name the file and line: a line without a pronunciation, a word given twice.
  static absl::StatusOr<Lexicon> Load(const std::string& path, const TextConfig& text);

  // The pronunciation of `word` (already in the text's form and case), or nullptr.
  const std::string* Find(std::string_view word) const;
  size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, std::string> entries_;
};

// Applies `lexicon` to white-space separated text: each word found (punctuation around it kept) is
// replaced by its pronunciation. `speak` turns each run of words between them into symbols (the
// phonemizer; identity in characters mode); the pieces are joined with single spaces.
absl::StatusOr<std::string> ApplyLexicon(const Lexicon& lexicon, const std::string& text,
                                         const std::function<absl::StatusOr<std::string>(const std::string&)>& speak);

}  // namespace ttsd::core
