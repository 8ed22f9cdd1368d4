// Word and character error rates between what was meant and what a recogniser heard, after the same
// normalisation on both sides (English numbers as words, lowercase, punctuation dropped except
// apostrophes inside words, single spaces). Errors are Levenshtein edits; rates are summed edits over
// summed reference lengths, so long sentences weigh more, as WER is usually reported.
#pragma once

#include <cstdint>
#include <string>

namespace ttsd::core::asr {

std::string NormalizeForScoring(const std::string& text);

struct ErrorCounts {
  int64_t word_edits = 0, words = 0;
  int64_t char_edits = 0, chars = 0;
  void Add(const std::string& reference, const std::string& hypothesis);  // both raw; normalised here
  double wer() const { return words > 0 ? static_cast<double>(word_edits) / words : 0; }
  double cer() const { return chars > 0 ? static_cast<double>(char_edits) / chars : 0; }
};

}  // namespace ttsd::core::asr
