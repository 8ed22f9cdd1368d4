// text.cleaners: a language's own text rewrites, written in the config rather than compiled in (what
// Coqui's per-language cleaner functions do, without a code change per language). Each rule is an ICU
// regular expression with its replacement ("\bDr\." -> "dókítà", "(\d+)%" -> "$1 ìdá ọgọ́rùn-ún") or an
// ICU transform ("Cyrillic-Latin", "Any-Latin; Latin-ASCII"). Rules run in order on NFC text, before
// number expansion, lower-casing, the normalisation form and punctuation: write them as you would type
// the text, and use (?i) for a case-blind match.
// Immutable after Compile; thread-safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"

namespace ttsd::core {

// A rule that cannot run: `field` is "match", "replace" or "transliterate" (or "" for the rule as a
// whole), `rule` its index in text.cleaners.
struct CleanerProblem {
  size_t rule = 0;
  std::string field;
  std::string message;
};

// Every problem in `rules`, for the config check: a pattern that does not compile (with its column),
// a replacement naming a group the pattern lacks, an unknown transform, a rule with neither or both.
std::vector<CleanerProblem> CheckCleanerRules(const std::vector<CleanerRule>& rules);

class Cleaners {
 public:
  // INVALID_ARGUMENT naming "text.cleaners[i].field" for the first problem CheckCleanerRules finds.
  static absl::StatusOr<Cleaners> Compile(const std::vector<CleanerRule>& rules);

  // `text` (valid UTF-8) with every rule applied in order. INVALID_ARGUMENT when a pattern runs past its
  // time limit on this text (a pattern that backtracks without end), naming the rule.
  absl::StatusOr<std::string> Apply(std::string_view text) const;
  bool empty() const { return rules_.empty(); }

  struct Rule;  // compiled ICU objects (cleaners.cc)

 private:
  std::vector<std::shared_ptr<const Rule>> rules_;
};

}  // namespace ttsd::core
