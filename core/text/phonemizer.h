// espeak-ng IPA phonemization (as piper does). libespeak-ng holds global state and is not
// thread-safe, so every call takes one process-wide lock; phonemize once per utterance and cache.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace ttsd::core {

class Phonemizer {
 public:
  // Fails with NOT_FOUND when espeak-ng has no voice for `language` (e.g. "en-us", "de", "sw").
  static absl::StatusOr<std::unique_ptr<Phonemizer>> Create(const std::string& language);

  // IPA for `text`. Punctuation is kept (espeak-ng drops it) so the model sees phrasing: each clause is
  // phonemized on its own and its punctuation appended.
  absl::StatusOr<std::string> Phonemize(const std::string& text) const;
  const std::string& language() const { return language_; }

 private:
  explicit Phonemizer(std::string language) : language_(std::move(language)) {}
  std::string language_;
};

}  // namespace ttsd::core
